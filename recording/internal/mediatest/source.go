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
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
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
	ffmpeg := Tool(t, "ffmpeg")
	secs := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	ivf, ogg = filepath.Join(dir, "src.ivf"), filepath.Join(dir, "src.ogg")
	run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=20",
		"-t", secs, "-c:v", "libvpx", "-g", "20", "-b:v", "400k",
		// "good" with one thread, not "realtime": realtime mode adapts to the
		// machine's load, and the tests count frames of this exact stream.
		"-deadline", "good", "-cpu-used", "5", "-threads", "1", "-auto-alt-ref", "0", ivf)
	run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-ac", "2", "-t", secs, "-c:a", "libopus", "-b:a", "48k", "-frame_duration", "20", "-page_duration", "20000", ogg)
	return ivf, ogg
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("mediatest: %s: %v\n%s", filepath.Base(name), err, out)
	}
}

// FromFiles packetizes the IVF and Ogg files into RTP (VP8 with picture
// ids, as browsers send it), ordered by send time.
func FromFiles(t testing.TB, ivf, ogg string) []Packet {
	t.Helper()
	pkts := append(videoPackets(t, ivf), audioPackets(t, ogg)...)
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].At < pkts[j].At })
	return pkts
}

func videoPackets(t testing.TB, path string) []Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatalf("mediatest: ivf: %v", err)
	}
	frameDur := time.Duration(hdr.TimebaseNumerator) * time.Second / time.Duration(hdr.TimebaseDenominator)
	p := rtp.NewPacketizer(mtu, videoPT, 0x1111, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), videoClock)
	samples := uint32(frameDur * videoClock / time.Second)
	var out []Packet
	for i := 0; ; i++ {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("mediatest: ivf frame %d: %v", i, err)
		}
		for _, pkt := range p.Packetize(frame, samples) {
			out = append(out, Packet{Kind: webm.Video, RTP: pkt, At: time.Duration(i) * frameDur})
		}
	}
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
