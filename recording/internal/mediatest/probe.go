package mediatest

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Probe is what ffprobe reports about a file.
type Probe struct {
	FormatName string
	// Streams lists codec names in stream order ("opus", "vp8").
	Streams []string
	// Packets counts packets per codec name.
	Packets map[string]int
	// PTS lists packet times per codec name, in file order.
	PTS map[string][]time.Duration
	// Duration is the end of the last packet (pts + duration): a live WebM
	// has no Duration element, so the container reports none.
	Duration time.Duration
}

// FFProbe runs ffprobe on path and fails the test if it cannot read it.
func FFProbe(t testing.TB, path string) Probe {
	t.Helper()
	out, err := exec.Command(Tool(t, "ffprobe"), "-v", "error", "-of", "json",
		"-show_entries", "format=format_name:stream=index,codec_name,codec_type:packet=stream_index,pts_time,duration_time",
		path).Output()
	if err != nil {
		t.Fatalf("mediatest: ffprobe %s: %v", path, err)
	}
	var raw struct {
		Format struct {
			FormatName string `json:"format_name"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			StreamIndex int    `json:"stream_index"`
			PTS         string `json:"pts_time"`
			Duration    string `json:"duration_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("mediatest: ffprobe json: %v", err)
	}
	p := Probe{FormatName: raw.Format.FormatName, Packets: map[string]int{}, PTS: map[string][]time.Duration{}}
	for _, s := range raw.Streams {
		p.Streams = append(p.Streams, s.CodecName)
	}
	for _, pk := range raw.Packets {
		if pk.StreamIndex < len(p.Streams) {
			name := p.Streams[pk.StreamIndex]
			p.Packets[name]++
			p.PTS[name] = append(p.PTS[name], time.Duration(seconds(pk.PTS)*float64(time.Second)))
		}
		end := seconds(pk.PTS) + seconds(pk.Duration)
		if d := time.Duration(end * float64(time.Second)); d > p.Duration {
			p.Duration = d
		}
	}
	return p
}

func seconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// Decode decodes every frame of path with ffmpeg and returns what ffmpeg
// reported at level error (empty when the file decodes cleanly). Frames
// pass through with millisecond timestamps: the null muxer's guessed frame
// rate would otherwise round two close frames of variable-rate (camera)
// video onto one tick and report a false "non monotonically increasing dts".
func Decode(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(Tool(t, "ffmpeg"), "-hide_banner", "-v", "error", "-i", path,
		"-fps_mode", "passthrough", "-enc_time_base:v", "1:1000", "-f", "null", "-").CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err != nil && msg == "" {
		msg = err.Error()
	}
	return msg
}
