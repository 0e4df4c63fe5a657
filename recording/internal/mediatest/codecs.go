package mediatest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/rtp/codecs/av1/obu"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/televisit/televisit/recording/webm"
)

// encoderArgs are ffmpeg's output options per codec: one thread and no
// realtime deadline, so the stream (and the frame counts the tests check)
// does not depend on the machine's load; no B-frames or hidden frames, as
// WebRTC senders.
var encoderArgs = map[string][]string{
	webm.VP8: {"-c:v", "libvpx", "-deadline", "good", "-cpu-used", "5", "-auto-alt-ref", "0", "-f", "ivf"},
	webm.VP9: {"-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "8", "-auto-alt-ref", "0",
		"-lag-in-frames", "0", "-row-mt", "0", "-f", "ivf"},
	webm.AV1: {"-c:v", "libaom-av1", "-cpu-used", "8", "-lag-in-frames", "0", "-row-mt", "0",
		"-tiles", "1x1", "-f", "ivf"},
	webm.H264: {"-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-preset", "veryfast",
		"-x264-params", "slices=1", "-f", "h264"},
}

// EncodeVideo makes d of test video in codec (webm.VP8, VP9, AV1 or H264):
// 320x240, 20 fps, a keyframe every second, in IVF (Annex B for H264).
func EncodeVideo(t testing.TB, dir string, d time.Duration, codec string) string {
	t.Helper()
	enc, ok := encoderArgs[codec]
	if !ok {
		t.Fatalf("mediatest: no encoder for %q", codec)
	}
	path := filepath.Join(dir, "src-"+codec+".video")
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=20",
		"-t", seconds3(d), "-pix_fmt", "yuv420p", "-g", "20", "-b:v", "400k", "-threads", "1"}
	run(t, Tool(t, "ffmpeg"), append(append(args, enc...), path)...)
	return path
}

func payloader(codec string) rtp.Payloader {
	switch codec {
	case webm.VP9:
		return &codecs.VP9Payloader{}
	case webm.AV1:
		return &codecs.AV1Payloader{}
	case webm.H264:
		return &codecs.H264Payloader{}
	}
	return &codecs.VP8Payloader{EnablePictureID: true}
}

// readFrames returns the frames of a file of EncodeVideo and their
// duration: AV1 temporal units without temporal delimiters, H264 access
// units in Annex B (a WebRTC sender's input).
func readFrames(t testing.TB, codec, path string) ([][]byte, time.Duration) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if codec == webm.H264 {
		return accessUnits(t, f), 50 * time.Millisecond
	}
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatalf("mediatest: ivf: %v", err)
	}
	frameDur := time.Duration(hdr.TimebaseNumerator) * time.Second / time.Duration(hdr.TimebaseDenominator)
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames, frameDur
		}
		if err != nil {
			t.Fatalf("mediatest: ivf frame %d: %v", len(frames), err)
		}
		if codec == webm.AV1 {
			frame = withoutTemporalDelimiters(frame)
		}
		frames = append(frames, frame)
	}
}

// accessUnits groups an Annex B stream (one slice per picture) into access
// units: the parameter sets before a slice go with it.
func accessUnits(t testing.TB, r io.Reader) [][]byte {
	t.Helper()
	hr, err := h264reader.NewReader(r)
	if err != nil {
		t.Fatalf("mediatest: h264: %v", err)
	}
	var units [][]byte
	var cur []byte
	for {
		nal, err := hr.NextNAL()
		if errors.Is(err, io.EOF) {
			return units
		}
		if err != nil {
			t.Fatalf("mediatest: h264 nal: %v", err)
		}
		cur = append(append(cur, 0, 0, 0, 1), nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			units = append(units, cur)
			cur = nil
		}
	}
}

// withoutTemporalDelimiters drops temporal delimiter OBUs, as WebRTC
// senders do (RTP payload format for AV1, section 5).
func withoutTemporalDelimiters(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		h, err := obu.ParseOBUHeader(b)
		if err != nil || !h.HasSizeField {
			return append(out, b...)
		}
		size, n, err := obu.ReadLeb128(b[h.Size():])
		end := h.Size() + int(n) + int(size)
		if err != nil || end > len(b) {
			return append(out, b...)
		}
		if h.Type != obu.OBUTemporalDelimiter {
			out = append(out, b[:end]...)
		}
		b = b[end:]
	}
	return out
}
