package mediaclient

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

const (
	writeTimeout    = 5 * time.Second
	maxVideoPayload = 1100    // under a 1,200-byte MTU with RTP and SRTP overhead
	maxArrivals     = 1 << 20 // per stream; the oldest half goes beyond
)

// streamKey is one sender's stream of one kind.
type streamKey struct {
	sender uint32
	kind   Kind
}

// arrivals are the send times (Unix ns, from the stamps) of one stream's
// packets that arrived. Sender and receiver share the machine's clock; a
// send time tells packets that took a new path after some moment from
// older ones still queued on the way.
type arrivals struct{ at []int64 }

// sendAudio writes 50 packets/s to the audio track: an Opus TOC byte, the
// stamp, padding to 100 bytes.
func (c *Client) sendAudio(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 100)
	payload[0] = 0xfc
	for seq := uint32(0); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		putStamp(payload[1:], stamp{sender: c.cfg.Sender, kind: Audio, seq: seq, sent: time.Now()})
		err := c.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: uint16(seq),
			Timestamp: seq * 960}, Payload: payload})
		if err == nil {
			c.sent(Audio, 1)
		}
	}
}

// sendVideo writes 30 frames/s at the configured bit rate, each split into
// MTU-sized packets with a VP8 payload descriptor; a keyframe header every
// second or when a PLI/FIR asked for one.
func (c *Client) sendVideo(ctx context.Context) {
	frameBytes := c.cfg.VideoBitrate / 8 / 30
	npk := max(1, (frameBytes+maxVideoPayload-1)/maxVideoPayload)
	buf := make([]byte, max(32, frameBytes/npk))
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var seq uint32
	var rtpSeq uint16
	var lastKey time.Time
	for frame := uint32(0); ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := c.wantKey.Swap(false) || time.Since(lastKey) >= c.cfg.KeyframeInterval
		if key {
			lastKey = time.Now()
		}
		sent := 0
		for i := 0; i < npk; i++ {
			off := vp8Header(buf, i == 0, key)
			putStamp(buf[off:], stamp{sender: c.cfg.Sender, kind: Video, seq: seq, sent: time.Now()})
			if c.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == npk-1, SequenceNumber: rtpSeq,
				Timestamp: frame * 3000}, Payload: buf}) == nil {
				sent++
			}
			seq++
			rtpSeq++
		}
		c.sent(Video, sent)
	}
}

// sent reports written packets to OnSent while the PeerConnection is
// connected (before that, writes go nowhere).
func (c *Client) sent(k Kind, n int) {
	if c.cfg.OnSent != nil && n > 0 && c.connected.Load() {
		c.cfg.OnSent(k, n)
	}
}

// vp8Header writes the payload descriptor (and on a frame's first packet
// the frame tag) and returns where the stamp goes.
func vp8Header(buf []byte, first, key bool) int {
	if !first {
		buf[0] = 0x00
		return 1
	}
	buf[0] = 0x10 // S=1, partition 0
	if key {
		// P=0 (keyframe), version 0, show_frame; start code; 640x480.
		copy(buf[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
		return 11
	}
	copy(buf[1:], []byte{0x11, 0x02, 0x00}) // P=1: an interframe
	return 4
}

// readRTCP drains a sender's RTCP (PLI/FIR ask for a keyframe) until its
// PeerConnection closes.
func (c *Client) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.wantKey.Store(true)
			}
		}
	}
}

// onTrack counts a remote track's stamped packets until it ends.
func (c *Client) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	var pk rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		if pk.Unmarshal(buf[:n]) != nil {
			continue
		}
		if s, ok := findStamp(pk.Payload); ok {
			c.arrived(streamKey{s.sender, s.kind}, s.sent)
			if c.cfg.OnPacket != nil {
				c.cfg.OnPacket(Packet{Sender: s.sender, Kind: s.kind, Seq: s.seq, Sent: s.sent, Arrived: time.Now()})
			}
		}
	}
}

func (c *Client) arrived(k streamKey, sent time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.recv[k]
	if a == nil {
		a = &arrivals{}
		c.recv[k] = a
	}
	if len(a.at) >= maxArrivals {
		a.at = append(a.at[:0], a.at[maxArrivals/2:]...)
	}
	a.at = append(a.at, sent.UnixNano())
}

// Received is how many packets of kind that sender sent after since have
// arrived (so none that were on their way before since).
func (c *Client) Received(sender uint32, kind Kind, since time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.recv[streamKey{sender, kind}]
	if a == nil {
		return 0
	}
	t, n := since.UnixNano(), 0
	// Send times are appended in (almost) order: count back from the end.
	for i := len(a.at) - 1; i >= 0 && a.at[i] > t; i-- {
		n++
	}
	return n
}

// WaitReceived waits until at least n packets of kind that sender sent
// after since have arrived, and returns the time it saw that.
func (c *Client) WaitReceived(ctx context.Context, sender uint32, kind Kind, since time.Time, n int) (time.Time, error) {
	for {
		got := c.Received(sender, kind, since)
		if got >= n {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("mediaclient: %d of %d %s packets from sender %d since %s: %w",
				got, n, kind, sender, since.Format("15:04:05.000"), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
