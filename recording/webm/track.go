package webm

import (
	"time"

	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// track turns one RTP stream into timed frames for one WebM track.
type track struct {
	kind      Kind
	bw        webm.BlockWriteCloser
	cfg       Config
	clock     uint32
	sb        *samplebuilder.SampleBuilder
	ssrc      uint32
	anchored  bool
	anchorRTP uint32        // RTP time of the anchoring packet
	offset    time.Duration // its arrival, relative to the recording start
	prevRTP   uint32        // last written frame's RTP time, for unwrapping
	ext       int64         // its RTP time minus anchorRTP, unwrapped
	last      time.Duration // its recording time; -1 before the first
	poppedRTP uint32        // RTP time of the last frame out of the builder
	needKey   bool          // video: skip frames until a keyframe
	asked     bool          // OnKeyframeNeeded called for this wait
	prevPic   int           // VP8 picture id of the last frame, -1 if none
	stats     TrackStats
}

func newTrack(kind Kind, bw webm.BlockWriteCloser, cfg Config) *track {
	t := &track{kind: kind, bw: bw, cfg: cfg, needKey: kind == Video, last: -1, prevPic: -1}
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
		return samplebuilder.New(t.cfg.VideoMaxLate, &codecs.VP8Packet{}, t.clock,
			samplebuilder.WithPacketHeadHandler(vp8PictureID))
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
	t.sb.Push(p)
	if t.drain() == 0 && t.stuck(p) {
		t.flush() // give up on the gap: write what is complete after it
	}
}

// stuck reports whether the sample builder has been waiting for missing
// packets longer than MaxDelay of RTP time while complete frames pile up
// behind the gap (it would otherwise wait for MaxLate more packets, which
// at low bitrates is seconds). Video gives up only at the end of a frame,
// so the frame in flight is not cut.
func (t *track) stuck(p *rtp.Packet) bool {
	if t.kind == Video && !p.Marker {
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
	t.offset, t.prevPic = offset, -1
	if t.last >= 0 {
		t.offset = max(offset, t.last+time.Millisecond)
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
	key := true
	if t.kind == Video {
		key = isVP8Keyframe(s.Data)
		if t.frameLost(s) && !key {
			t.needKey = true
		}
		if t.needKey && !key {
			t.skip()
			return
		}
		t.needKey, t.asked = false, false
	}
	t.prevRTP, t.ext, t.last = s.PacketTimestamp, ext, ts
	if _, err := t.bw.Write(key, ts.Milliseconds(), s.Data); err == nil {
		t.stats.Frames++
		t.stats.LastTime = ts
	}
}

// frameLost tells whether a frame is missing before s: by the VP8 picture
// id when the sender numbers pictures (padding-only packets do not count
// as loss then), else by the packets the sample builder dropped.
func (t *track) frameLost(s *media.Sample) bool {
	pic, ok := s.Metadata.(int)
	if !ok || pic < 0 {
		return s.PrevDroppedPackets > 0
	}
	prev := t.prevPic
	t.prevPic = pic
	if prev < 0 {
		return false
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

// vp8PictureID is the sample builder's head handler: the picture id of a
// frame's first packet, or -1.
func vp8PictureID(head any) any {
	if p, ok := head.(*codecs.VP8Packet); ok && p.I == 1 {
		return int(p.PictureID)
	}
	return -1
}

// timeOf maps an RTP timestamp to recording time: unwrapped against the
// last written frame, scaled by the clock rate, offset by the track's
// anchor. It returns the unwrapped RTP time too, for write to commit.
func (t *track) timeOf(rtpTS uint32) (time.Duration, int64) {
	ext := t.ext + int64(int32(rtpTS-t.prevRTP))
	d := t.offset + time.Duration(ext*int64(time.Second)/int64(t.clock))
	return max(d, 0), ext
}

// isVP8Keyframe reads the VP8 frame tag (RFC 6386 section 9.1): bit 0 of
// the first byte is 0 for a key frame, which also carries the start code
// 9d 01 2a.
func isVP8Keyframe(b []byte) bool {
	return len(b) >= 10 && b[0]&0x01 == 0 && b[3] == 0x9d && b[4] == 0x01 && b[5] == 0x2a
}
