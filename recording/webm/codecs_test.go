package webm_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/webm"
)

// codecLen is the length of the VP9, AV1 and H264 test media: short, as
// libaom is slow.
const codecLen = 3 * time.Second

var codecSrc sync.Map // codec -> func() (video, ogg string)

// codecSource encodes the test media of codec once per test binary.
func codecSource(t *testing.T, codec string) []mediatest.Packet {
	t.Helper()
	once, _ := codecSrc.LoadOrStore(codec, sync.OnceValues(func() (string, string) {
		dir, err := os.MkdirTemp(srcRoot(t), codec)
		if err != nil {
			t.Fatal(err)
		}
		return mediatest.EncodeVideo(t, dir, codecLen, codec), mediatest.EncodeAudio(t, dir, codecLen)
	}))
	video, ogg := once.(func() (string, string))()
	if video == "" {
		t.Fatal("test media could not be made")
	}
	return mediatest.FromFilesCodec(t, codec, video, ogg)
}

var codecRootOnce sync.Once

// srcRoot is a directory removed by TestMain.
func srcRoot(t *testing.T) string {
	codecRootOnce.Do(func() {
		dir, err := os.MkdirTemp("", "webmcodecs")
		if err != nil {
			t.Fatal(err)
		}
		extraDirs = append(extraDirs, dir)
	})
	return extraDirs[len(extraDirs)-1]
}

// probeName is ffprobe's name of a codec.
func probeName(codec string) string { return strings.ToLower(codec) }

func codecConfig(codec string) webm.Config {
	cfg := both()
	cfg.VideoCodec = codec
	return cfg
}

// recordCodec writes pkts with the container's extension, checks the
// container, streams, duration and a clean decode, and returns the probe
// and stats.
func recordCodec(t *testing.T, cfg webm.Config, pkts []mediatest.Packet) (mediatest.Probe, webm.Stats) {
	t.Helper()
	c := webm.ContainerOf(cfg.VideoCodec)
	path := filepath.Join(t.TempDir(), "out"+c.Ext)
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
	p := mediatest.FFProbe(t, path)
	if want := []string{"opus", probeName(cfg.VideoCodec)}; !slices.Equal(p.Streams, want) {
		t.Fatalf("streams %v, want %v", p.Streams, want)
	}
	if !strings.HasPrefix(p.FormatName, "matroska") {
		t.Fatalf("format %q", p.FormatName)
	}
	if d := p.Duration - codecLen; d < -codecLen/10 || d > codecLen/10 {
		t.Fatalf("duration %v, want %v within 10%%", p.Duration, codecLen)
	}
	if msg := mediatest.Decode(t, path); msg != "" {
		t.Fatalf("ffmpeg decode errors:\n%s", msg)
	}
	assertDocType(t, path, c.Name)
	assertMonotonic(t, p)
	return p, w.Stats()
}

// assertDocType checks the EBML DocType near the start of the file.
func assertDocType(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head := string(data[:min(len(data), 64)])
	if !strings.Contains(head, string([]byte{0x42, 0x82, 0x80 | byte(len(want))})+want) {
		t.Fatalf("DocType %q not in the header %q", want, head)
	}
}

var newCodecs = []string{webm.VP9, webm.AV1, webm.H264}

// TestCodecsCleanMediaKeepsEveryFrame: each codec's clean stream keeps all
// 60 frames, at their times, in the right container.
func TestCodecsCleanMediaKeepsEveryFrame(t *testing.T) {
	for _, codec := range newCodecs {
		t.Run(codec, func(t *testing.T) {
			p, st := recordCodec(t, codecConfig(codec), codecSource(t, codec))
			name := probeName(codec)
			if st.Video.Frames != 60 || st.Audio.Frames < 149 || st.Video.SkippedFrames != 0 {
				t.Fatalf("stats %+v, want 60 video and 150 audio frames", st)
			}
			if p.Packets[name] != st.Video.Frames || p.Packets["opus"] != st.Audio.Frames {
				t.Fatalf("ffprobe packets %v, writer stats %+v", p.Packets, st)
			}
			// 20 fps: the 41st frame is at 2 s.
			if got := p.PTS[name][40]; got < 1990*time.Millisecond || got > 2010*time.Millisecond {
				t.Fatalf("frame 40 at %v, want 2s", got)
			}
		})
	}
}

// TestCodecsLossAndReordering: reordering, every 30th audio packet lost,
// and a video packet lost mid picture group at 0.5 s and 1.5 s: the
// writer asks for a keyframe each time, skips to the keyframes at 1 s and
// 2 s, and what it writes decodes cleanly.
func TestCodecsLossAndReordering(t *testing.T) {
	for _, codec := range newCodecs {
		t.Run(codec, func(t *testing.T) {
			pkts, _ := mediatest.Impair(codecSource(t, codec), 11, 0, 5)
			var kept []mediatest.Packet
			na, lost := 0, map[time.Duration]bool{}
			for _, p := range pkts {
				if p.Kind == webm.Audio {
					if na++; na%30 == 0 {
						continue
					}
				}
				if at := p.At; p.Kind == webm.Video && (at == 500*time.Millisecond || at == 1500*time.Millisecond) && !lost[at] {
					lost[at] = true
					continue
				}
				kept = append(kept, p)
			}
			var asked int
			cfg := codecConfig(codec)
			cfg.OnKeyframeNeeded = func() { asked++ }
			_, st := recordCodec(t, cfg, kept)
			if asked != 2 || st.Video.SkippedFrames < 16 || st.Video.Frames < 38 || st.Video.Frames > 42 {
				t.Fatalf("stats %+v, keyframe asked %d times: want two waits of about 9 frames", st, asked)
			}
			if st.Video.LastTime < 2900*time.Millisecond || st.Audio.Frames < 140 {
				t.Fatalf("the end is missing: %+v", st)
			}
		})
	}
}

// TestCodecsStartAtKeyframe: the recording joins mid-picture-group (the
// first 0.5 s of video never arrives): video starts at the next keyframe,
// 1 s, and the file (whose header waited for it, for H264 and AV1) is
// whole.
func TestCodecsStartAtKeyframe(t *testing.T) {
	for _, codec := range newCodecs {
		t.Run(codec, func(t *testing.T) {
			var pkts []mediatest.Packet
			for _, p := range codecSource(t, codec) {
				if p.Kind == webm.Video && p.At < 500*time.Millisecond {
					continue
				}
				pkts = append(pkts, p)
			}
			var asked int
			cfg := codecConfig(codec)
			cfg.OnKeyframeNeeded = func() { asked++ }
			p, st := recordCodec(t, cfg, pkts)
			first := p.PTS[probeName(codec)][0]
			if first < 990*time.Millisecond || first > 1010*time.Millisecond || asked != 1 || st.Video.Frames != 40 {
				t.Fatalf("first video frame at %v (want 1s), keyframe asked %d times, stats %+v", first, asked, st)
			}
			if p.PTS["opus"][0] > 10*time.Millisecond {
				t.Fatalf("audio starts at %v: the audio before the first keyframe was lost", p.PTS["opus"][0])
			}
		})
	}
}

// TestCodecsHeaderWithoutKeyframe: H264 and AV1 take their CodecPrivate
// from the first keyframe; when none comes (the camera never sent one),
// Close still writes the header (a CodecPrivate without parameter sets)
// and the audio that waited for it.
func TestCodecsHeaderWithoutKeyframe(t *testing.T) {
	for _, codec := range []string{webm.H264, webm.AV1} {
		t.Run(codec, func(t *testing.T) {
			var audio []mediatest.Packet
			for _, p := range codecSource(t, codec) {
				if p.Kind == webm.Audio {
					audio = append(audio, p)
				}
			}
			path, st := record(t, codecConfig(codec), audio)
			p := mediatest.FFProbe(t, path)
			if !slices.Equal(p.Streams, []string{"opus", probeName(codec)}) || p.Packets["opus"] != st.Audio.Frames ||
				st.Audio.Frames < 149 || p.PTS["opus"][0] > 10*time.Millisecond {
				t.Fatalf("streams %v, packets %v, stats %+v", p.Streams, p.Packets, st)
			}
		})
	}
}

type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// TestPendingAudioIsBounded: an H264 recording whose video never brings a
// keyframe does not hold its audio for ever: after about 30 s the header
// is written (with the fallback CodecPrivate) and the audio flows.
func TestPendingAudioIsBounded(t *testing.T) {
	var n atomic.Int64
	w, err := webm.New(countWriter{&n}, codecConfig(webm.H264), logger(t))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	var at20 int64 = -1
	mediatest.Synthetic(40*time.Second, 100_000, func(p mediatest.Packet) bool {
		if p.Kind != webm.Audio {
			return true // the camera's frames never arrive
		}
		if at20 < 0 && p.At >= 20*time.Second {
			at20 = n.Load()
		}
		if err := w.WriteRTP(p.Kind, p.RTP, base.Add(p.At)); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if at20 != 0 || n.Load() == 0 {
		t.Fatalf("%d bytes written after 20 s of audio (want 0: waiting for a keyframe), %d after 40 s (want some)", at20, n.Load())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Audio.Frames < 1990 {
		t.Fatalf("stats %+v", st)
	}
}
