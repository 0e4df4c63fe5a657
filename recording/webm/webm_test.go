package webm_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/webm"
)

var (
	srcOnce        sync.Once
	srcIVF, srcOGG string
	srcDir         string
	extraDirs      []string // more temp dirs for TestMain to remove
)

const srcLen = 10 * time.Second

// source encodes the 10 s test media once per test binary.
func source(t *testing.T) []mediatest.Packet {
	t.Helper()
	srcOnce.Do(func() {
		dir, err := os.MkdirTemp("", "webmtest")
		if err != nil {
			t.Fatal(err)
		}
		srcDir = dir
		srcIVF, srcOGG = mediatest.Encode(t, dir, srcLen)
	})
	if srcIVF == "" {
		t.Fatal("test media could not be made")
	}
	return mediatest.FromFiles(t, srcIVF, srcOGG)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range append(extraDirs, srcDir) {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// record writes pkts to a file in a temp dir and returns its path and the
// writer's stats.
func record(t *testing.T, cfg webm.Config, pkts []mediatest.Packet) (string, webm.Stats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := webm.New(f, cfg, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	mediatest.Feed(t, w, pkts, time.Now())
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return path, w.Stats()
}

func both() webm.Config { return webm.Config{Audio: true, Video: true, Width: 320, Height: 240} }

func checkProbe(t *testing.T, path string, want time.Duration) mediatest.Probe {
	t.Helper()
	p := mediatest.FFProbe(t, path)
	if !slices.Equal(p.Streams, []string{"opus", "vp8"}) {
		t.Fatalf("streams %v, want [opus vp8]", p.Streams)
	}
	if d := p.Duration - want; d < -want/10 || d > want/10 {
		t.Fatalf("duration %v, want %v within 10%%", p.Duration, want)
	}
	if msg := mediatest.Decode(t, path); msg != "" {
		t.Fatalf("ffmpeg decode errors:\n%s", msg)
	}
	return p
}

func TestCleanMediaKeepsEveryFrame(t *testing.T) {
	path, st := record(t, both(), source(t))
	p := checkProbe(t, path, srcLen)
	if st.Video.Frames != 200 || st.Audio.Frames < 499 {
		t.Fatalf("stats %+v, want 200 video and 500 audio frames", st)
	}
	if p.Packets["vp8"] != st.Video.Frames || p.Packets["opus"] != st.Audio.Frames {
		t.Fatalf("ffprobe packets %v, writer stats %+v", p.Packets, st)
	}
	assertMonotonic(t, p)
	// 20 fps: the 101st frame is at 5 s.
	if got := p.PTS["vp8"][100]; got < 4990*time.Millisecond || got > 5010*time.Millisecond {
		t.Fatalf("frame 100 at %v, want 5s", got)
	}
}

func assertMonotonic(t *testing.T, p mediatest.Probe) {
	t.Helper()
	for name, pts := range p.PTS {
		for i := 1; i < len(pts); i++ {
			if pts[i] < pts[i-1] {
				t.Fatalf("%s packet %d at %v goes back from %v", name, i, pts[i], pts[i-1])
			}
		}
	}
}

func TestLossAndReordering(t *testing.T) {
	pkts, dropped := mediatest.Impair(source(t), 7, 1, 5)
	// Random loss may spare the video: lose every 40th video packet too.
	var kept []mediatest.Packet
	nv := 0
	for _, p := range pkts {
		if p.Kind == webm.Video {
			if nv++; nv%40 == 0 {
				dropped++
				continue
			}
		}
		kept = append(kept, p)
	}
	pkts = kept
	var asked int
	cfg := both()
	cfg.OnKeyframeNeeded = func() { asked++ }
	path, st := record(t, cfg, pkts)
	p := checkProbe(t, path, srcLen)
	assertMonotonic(t, p)
	if dropped == 0 || st.Video.SkippedFrames == 0 || asked == 0 {
		t.Fatalf("dropped %d packets, stats %+v, keyframe asked %d times: want loss to show", dropped, st, asked)
	}
	if st.Video.Frames < 100 || st.Audio.Frames < 450 {
		t.Fatalf("too few frames kept: %+v", st)
	}
}

func TestMutedVideoLeavesAGap(t *testing.T) {
	var pkts []mediatest.Packet
	for _, p := range source(t) {
		if p.Kind == webm.Video && p.At >= 3*time.Second && p.At < 6*time.Second {
			continue // the sender stopped sending video (muted)
		}
		pkts = append(pkts, p)
	}
	path, _ := record(t, both(), pkts)
	p := checkProbe(t, path, srcLen)
	pts := p.PTS["vp8"]
	i := slices.IndexFunc(pts, func(d time.Duration) bool { return d > 3*time.Second })
	if i < 0 || pts[i] < 5990*time.Millisecond || pts[i] > 6010*time.Millisecond {
		t.Fatalf("first video frame after the mute at index %d: %v, want 6s", i, pts)
	}
}

func TestRTPTimestampWrap(t *testing.T) {
	pkts := source(t)
	// Shift each track so its RTP clock wraps past 2^32 after about 2 s.
	first := map[webm.Kind]uint32{}
	for _, p := range pkts {
		if _, ok := first[p.Kind]; !ok {
			first[p.Kind] = p.RTP.Timestamp
		}
	}
	for _, p := range pkts {
		clock := uint32(48000)
		if p.Kind == webm.Video {
			clock = 90000
		}
		p.RTP.Timestamp = p.RTP.Timestamp - first[p.Kind] - 2*clock
	}
	path, _ := record(t, both(), pkts)
	assertMonotonic(t, checkProbe(t, path, srcLen))
}

func TestLateTrackStartsAtItsArrival(t *testing.T) {
	var pkts []mediatest.Packet
	for _, p := range source(t) {
		if p.Kind == webm.Video && p.At < 2*time.Second {
			continue // the camera came on 2 s after the microphone
		}
		pkts = append(pkts, p)
	}
	path, _ := record(t, both(), pkts)
	p := checkProbe(t, path, srcLen)
	if got := p.PTS["vp8"][0]; got < 1990*time.Millisecond || got > 2010*time.Millisecond {
		t.Fatalf("first video frame at %v, want 2s", got)
	}
}

// TestPrefixIsPlayable cuts the file at 60 %, as a crash would: what is
// there still probes and decodes.
func TestPrefixIsPlayable(t *testing.T) {
	path, _ := record(t, both(), source(t))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.webm")
	if err := os.WriteFile(cut, data[:len(data)*6/10], 0o600); err != nil {
		t.Fatal(err)
	}
	p := mediatest.FFProbe(t, cut)
	if !slices.Equal(p.Streams, []string{"opus", "vp8"}) || p.Duration < 4*time.Second {
		t.Fatalf("prefix: streams %v, duration %v", p.Streams, p.Duration)
	}
}

func TestConfigErrors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := webm.New(&buf, webm.Config{Video: true, VideoCodec: "H265"}, slog.Default()); !errors.Is(err, webm.ErrUnsupportedCodec) {
		t.Fatalf("H265: %v", err)
	}
	if _, err := webm.New(&buf, webm.Config{}, slog.Default()); !errors.Is(err, webm.ErrConfig) {
		t.Fatalf("no tracks: %v", err)
	}
	w, err := webm.New(&buf, webm.Config{Audio: true}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRTP(webm.Video, source(t)[0].RTP, time.Now()); err == nil {
		t.Fatal("video packet on an audio-only writer accepted")
	}
	w.Close()
	if err := w.WriteRTP(webm.Audio, source(t)[0].RTP, time.Now()); !errors.Is(err, webm.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestOutputErrorSurfaces: a failing destination does not block the muxer
// and its error reaches the caller.
func TestOutputErrorSurfaces(t *testing.T) {
	w, err := webm.New(&failAfter{n: 20_000}, both(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for _, p := range source(t) {
		if werr = w.WriteRTP(p.Kind, p.RTP, time.Now()); werr != nil {
			break
		}
	}
	cerr := w.Close()
	if cerr == nil {
		t.Fatalf("close after a failed write returned nil (write err %v)", werr)
	}
}

// TestNewSSRCReanchors: the sender restarts halfway (new SSRC, new random
// RTP clock base); the track continues at the arrival time, monotonic.
func TestNewSSRCReanchors(t *testing.T) {
	pkts := source(t)
	for _, p := range pkts {
		if p.At >= srcLen/2 {
			p.RTP.SSRC ^= 0x5a5a
			p.RTP.Timestamp += 0x12345678
			p.RTP.SequenceNumber += 20000
		}
	}
	path, st := record(t, both(), pkts)
	p := checkProbe(t, path, srcLen)
	assertMonotonic(t, p)
	pts := p.PTS["vp8"]
	i := slices.IndexFunc(pts, func(d time.Duration) bool { return d >= srcLen/2 })
	if i < 0 || pts[i] > srcLen/2+20*time.Millisecond || st.Video.Frames != 200 {
		t.Fatalf("after the restart: first frame %v, stats %+v", pts[i:min(i+3, len(pts))], st)
	}
}
