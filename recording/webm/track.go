package webm

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// track turns one RTP stream into timed frames for one WebM track.
type track struct {
	kind       Kind
	bw         blockWriter
	cfg        Config
	codec      videoCodec   // video only
	onKey      func([]byte) // video: called with each keyframe before it is written
	clock      uint32
	sb         *samplebuilder.SampleBuilder
	ssrc       uint32
	anchored   bool
	anchorRTP  uint32        // RTP time of the anchoring packet
	offset     time.Duration // its arrival, relative to the recording start
	prevRTP    uint32        // last written frame's RTP time, for unwrapping
	ext        int64         // its RTP time minus anchorRTP, unwrapped
	last       time.Duration // its recording time; -1 before the first
	poppedRTP  uint32        // RTP time of the last frame out of the builder
	newestRTP  uint32        // newest RTP time pushed
	needKey    bool          // video: skip frames until a keyframe
	lostBefore bool          // video: a frame was lost before the next one
	asked      bool          // OnKeyframeNeeded called for this wait
	prevPic    int           // VP8 picture id of the last frame, -1 if none
	stats      TrackStats
}

func newTrack(kind Kind, bw blockWriter, cfg Config, codec videoCodec) *track {
	t := &track{kind: kind, bw: bw, cfg: cfg, codec: codec, needKey: kind == Video, last: -1, prevPic: -1}
	if kind == Video {
		t.clock = 90000
	} else {
		t.clock = 48000
	}
	t.sb = t.newBuilder()
	return t
}

func (t *track) newBuilder() *samplebuilder.SampleBuilder {
	if t.kind == Video {
		var opts []samplebuilder.Option
		if t.codec.head != nil {
			opts = append(opts, samplebuilder.WithPacketHeadHandler(t.codec.head))
		}
		return samplebuilder.New(t.cfg.VideoMaxLate, t.codec.depacketizer(), t.clock, opts...)
	}
	return samplebuilder.New(t.cfg.AudioMaxLate, &codecs.OpusPacket{}, t.clock)
}

// push adds a packet that arrived at offset since the recording start.
func (t *track) push(p *rtp.Packet, offset time.Duration) {
	if t.anchored && p.SSRC != t.ssrc {
		t.flush() // a new stream: finish the old one, then re-anchor
		t.sb = t.newBuilder()
		t.anchored = false
		t.needKey = t.kind == Video
	}
	if !t.anchored {
		t.anchor(p, offset)
	}
	if int32(p.Timestamp-t.newestRTP) > 0 {
		t.newestRTP = p.Timestamp
	}
	t.sb.Push(p)
	if t.drain() == 0 && t.stuck(p) {
		t.giveUp(p)
	}
}

// stuck reports whether the sample builder has been waiting for missing
// packets longer than MaxDelay of RTP time while complete frames pile up
// behind the gap (it would otherwise wait for MaxLate more packets, which
// at low bitrates is seconds). Video gives up only at the end of the
// newest frame, so no frame in flight is cut (with reordering, a packet
// of the next frame may have come before the end of this one).
func (t *track) stuck(p *rtp.Packet) bool {
	if t.kind == Video && (!p.Marker || p.Timestamp != t.newestRTP) {
		return false
	}
	waited := int64(int32(p.Timestamp - t.poppedRTP))
	return waited > t.cfg.MaxDelay.Nanoseconds()*int64(t.clock)/int64(time.Second)
}

// anchor maps the packet's RTP time to its arrival offset; a re-anchored
// track (new SSRC) continues after its last frame.
func (t *track) anchor(p *rtp.Packet, offset time.Duration) {
	t.anchored, t.ssrc = true, p.SSRC
	t.anchorRTP, t.prevRTP, t.poppedRTP, t.ext = p.Timestamp, p.Timestamp, p.Timestamp, 0
	t.newestRTP = p.Timestamp
	t.offset, t.prevPic = offset, -1
	if t.last >= 0 {
		t.offset = max(offset, t.last+time.Millisecond)
	}
}

// giveUp writes what is complete after a gap and starts a fresh sample
// builder: a flushed builder counts a dropped packet that was not (its
// purge steps past the consumed slots), which would read as a lost frame.
// If the newest frame (p's) did not come out whole, the next frame is
// marked as following a loss.
func (t *track) giveUp(p *rtp.Packet) {
	t.flush()
	t.sb = t.newBuilder()
	if t.poppedRTP != p.Timestamp {
		t.lostBefore = true
	}
}

func (t *track) flush() {
	t.sb.Flush()
	t.drain()
}

func (t *track) drain() (n int) {
	for s := t.sb.Pop(); s != nil; s = t.sb.Pop() {
		t.poppedRTP = s.PacketTimestamp
		t.write(s)
		n++
	}
	return n
}

// write sends one reassembled frame to the muxer, or drops it: when it
// is late (its time is not after the last frame written: it came after
// the track gave up waiting for it) or while video waits for a keyframe.
func (t *track) write(s *media.Sample) {
	t.stats.DroppedPackets += int(s.PrevDroppedPackets)

	ts, ext := t.timeOf(s.PacketTimestamp)
	if t.last >= 0 && ts.Milliseconds() <= t.last.Milliseconds() {
		t.stats.LateFrames++
		return
	}
	key, data := true, s.Data
	if t.kind == Video {
		key = t.codec.isKey(data)
		if t.frameLost(s) && !key {
			t.needKey = true
		}
		if t.needKey && !key {
			t.skip()
			return
		}
		t.needKey, t.asked = false, false
		if key && t.onKey != nil {
			t.onKey(data)
		}
		if t.codec.codecID == "V_AV1" {
			data = stripTemporalDelimiters(data)
		}
	}
	t.prevRTP, t.ext, t.last = s.PacketTimestamp, ext, ts
	if _, err := t.bw.Write(key, ts.Milliseconds(), data); err == nil {
		t.stats.Frames++
		t.stats.LastTime = ts
	}
}

// frameLost tells whether a frame is missing before s: by the VP8 or VP9
// picture id when the sender numbers pictures (padding-only packets do not count
// as loss then), else by the packets the sample builder dropped.
func (t *track) frameLost(s *media.Sample) bool {
	lostBefore := t.lostBefore
	t.lostBefore = false
	pic, ok := s.Metadata.(int)
	if !ok || pic < 0 {
		return lostBefore || s.PrevDroppedPackets > 0
	}
	prev := t.prevPic
	t.prevPic = pic
	if prev < 0 {
		return lostBefore
	}
	return pic != (prev+1)&0x7FFF && !(pic < 128 && pic == (prev+1)&0x7F)
}

func (t *track) skip() {
	t.stats.SkippedFrames++
	if !t.asked && t.cfg.OnKeyframeNeeded != nil {
		t.cfg.OnKeyframeNeeded()
	}
	t.asked = true
}

// timeOf maps an RTP timestamp to recording time: unwrapped against the
// last written frame, scaled by the clock rate, offset by the track's
// anchor. It returns the unwrapped RTP time too, for write to commit.
func (t *track) timeOf(rtpTS uint32) (time.Duration, int64) {
	ext := t.ext + int64(int32(rtpTS-t.prevRTP))
	d := t.offset + time.Duration(ext*int64(time.Second)/int64(t.clock))
	return max(d, 0), ext
}
