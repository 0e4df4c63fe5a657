package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// publication is one track a participant publishes (microphone, camera or
// screen share), with up to maxLayers simulcast layers, and the list of
// subscriber downTracks it fans out to.
//
// The subscriber list is copy-on-write: the forwarding path loads it with
// one atomic read and never locks; mu serialises only the rare writers.
type publication struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	codec        webrtc.RTPCodecCapability
	payloadType  uint8 // publisher's payload type for codec
	ck           codecKind
	owner        string // participant ID

	audioLevelID uint8 // publisher's RFC 6464 extension ID, 0 if none
	pliInterval  int64 // ns between keyframe requests per layer
	muted        *atomic.Bool
	sendPLI      func(mediaSSRC uint32) // writes RTCP upstream; no locks held
	ctr          *counters              // the room's; nil in tests without a room

	closed atomic.Bool // set when the publication is dropped

	layers  [maxLayers]upLayer
	nLayers atomic.Int32 // highest layer index in use + 1

	mu   sync.Mutex // serialises writers of subs
	subs atomic.Pointer[[]*downTrack]
}

// handlePacket is the forwarding hot path for one received packet of one
// layer: parse, cache, detect keyframes and fan out. in and out are scratch
// headers owned by the calling read loop. It allocates nothing.
func (p *publication) handlePacket(layer int, buf []byte, in *rtp.Header, out *outHeader, now int64) {
	n, err := in.Unmarshal(buf)
	if err != nil || layer < 0 || layer >= maxLayers {
		return
	}
	payload := buf[n:]
	if in.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	l := &p.layers[layer]
	l.cache.put(in.SequenceNumber, buf)
	l.account(len(buf), now)
	subs := p.subs.Load()
	if subs == nil || len(payload) == 0 {
		return // no one listens, or a padding-only probe
	}
	if p.muted.Load() {
		// Muted media never leaves, not even as a retransmission: each
		// subscriber restarts its mapping at the first keyframe after
		// unmuting, so the muted packets lie outside it.
		for _, d := range *subs {
			d.pause()
		}
		return
	}
	key := isKeyframe(p.ck, payload)
	wantKey := false
	for _, d := range *subs {
		if d.forward(in, payload, int8(layer), key, now, out) {
			wantKey = true
		}
	}
	if wantKey {
		p.requestKeyframe(layer, now)
	}
}

// requestKeyframe asks the publisher for a keyframe on one layer, at most
// once per pliInterval. It reports whether a request was sent.
func (p *publication) requestKeyframe(layer int, now int64) bool {
	if layer < 0 || layer >= maxLayers || p.ck == codecOpus || p.sendPLI == nil {
		return false
	}
	l := &p.layers[layer]
	last := l.lastPLI.Load()
	if (last != 0 && now-last < p.pliInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return false
	}
	ssrc := l.ssrc.Load()
	if ssrc == 0 {
		return false
	}
	p.sendPLI(ssrc)
	return true
}

// bitrates snapshots the layers' bitrates for layer selection.
func (p *publication) bitrates(now int64, dst *[maxLayers]int64) int {
	n := int(p.nLayers.Load())
	for i := 0; i < n && i < maxLayers; i++ {
		dst[i] = p.layers[i].currentBitrate(now)
	}
	return n
}

// addSub adds a subscriber's downTrack to the fan-out list.
func (p *publication) addSub(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next []*downTrack
	if cur := p.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, d)
	p.subs.Store(&next)
}

// removeSub removes a downTrack from the fan-out list.
func (p *publication) removeSub(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.subs.Load()
	if cur == nil {
		return
	}
	next := make([]*downTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			next = append(next, x)
		}
	}
	p.subs.Store(&next)
}

// subscribers returns the current fan-out list (do not modify).
func (p *publication) subscribers() []*downTrack {
	if cur := p.subs.Load(); cur != nil {
		return *cur
	}
	return nil
}
