package mediatest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/televisit/televisit/recording/webm"
)

// InstallHint is how to get ffmpeg and ffprobe.
const InstallHint = "make deps (or: apt-get install -y ffmpeg)"

// Packet is one RTP packet of a track with the time it is sent, from the
// start of the media.
type Packet struct {
	Kind webm.Kind
	RTP  *rtp.Packet
	At   time.Duration
}

const (
	mtu        = 1200
	videoPT    = 96
	audioPT    = 111
	videoClock = 90000
	audioClock = 48000
	opusFrame  = 960 // 20 ms at 48 kHz
)

// Tool returns the path of ffmpeg or ffprobe, failing the test if missing.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("mediatest: %s not found: install it: %s", name, InstallHint)
	}
	return p
}

// Encode makes d of test video (320x240, 20 fps, a keyframe every second,
// VP8 in IVF) and a 440 Hz tone (stereo Opus, 20 ms frames, one packet per
// Ogg page) in dir.
func Encode(t testing.TB, dir string, d time.Duration) (ivf, ogg string) {
	t.Helper()
	return EncodeVideo(t, dir, d, webm.VP8), EncodeAudio(t, dir, d)
}

// EncodeAudio makes d of a 440 Hz tone (stereo Opus, 20 ms frames, one
// packet per Ogg page) in dir.
func EncodeAudio(t testing.TB, dir string, d time.Duration) string {
	t.Helper()
	ogg := filepath.Join(dir, "src.ogg")
	run(t, Tool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-ac", "2", "-t", seconds3(d), "-c:a", "libopus", "-b:a", "48k", "-frame_duration", "20", "-page_duration", "20000", ogg)
	return ogg
}

func seconds3(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("mediatest: %s: %v\n%s", filepath.Base(name), err, out)
	}
}

// FromFiles packetizes the IVF (VP8) and Ogg files into RTP (VP8 with
// picture ids, as browsers send it), ordered by send time.
func FromFiles(t testing.TB, ivf, ogg string) []Packet {
	t.Helper()
	return FromFilesCodec(t, webm.VP8, ivf, ogg)
}

// FromFilesCodec packetizes a video file of EncodeVideo in codec and an
// Ogg file into RTP, ordered by send time.
func FromFilesCodec(t testing.TB, codec, video, ogg string) []Packet {
	t.Helper()
	pkts := append(videoPackets(t, codec, video), audioPackets(t, ogg)...)
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].At < pkts[j].At })
	return pkts
}

func videoPackets(t testing.TB, codec, path string) []Packet {
	t.Helper()
	frames, frameDur := readFrames(t, codec, path)
	p := rtp.NewPacketizer(mtu, videoPT, 0x1111, payloader(codec), rtp.NewRandomSequencer(), videoClock)
	samples := uint32(frameDur * videoClock / time.Second)
	var out []Packet
	for i, frame := range frames {
		for _, pkt := range p.Packetize(frame, samples) {
			out = append(out, Packet{Kind: webm.Video, RTP: pkt, At: time.Duration(i) * frameDur})
		}
	}
	return out
}

func audioPackets(t testing.TB, path string) []Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatalf("mediatest: ogg: %v", err)
	}
	p := rtp.NewPacketizer(mtu, audioPT, 0x2222, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), audioClock)
	var out []Packet
	for i := 0; ; {
		page, hdr, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("mediatest: ogg page: %v", err)
		}
		if _, isHeader := hdr.HeaderType(page); isHeader {
			continue
		}
		for _, pkt := range p.Packetize(page, opusFrame) {
			out = append(out, Packet{Kind: webm.Audio, RTP: pkt, At: time.Duration(i) * 20 * time.Millisecond})
		}
		i++
	}
}
