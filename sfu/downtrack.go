package sfu

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// layerEvalInterval is how often a subscriber's target layer is revisited.
const layerEvalInterval = int64(500e6)

// downTrack carries one publication to one subscriber. It is a
// webrtc.TrackLocal of our own (see downtrack_bind.go) so that SSRC,
// payload type, sequence numbers, timestamps and layer switches are ours.
//
// mu guards the rewriter, the selector and the binding. It is held only
// to compute a packet's new header fields, never across the write.
type downTrack struct {
	pub      *publication
	id       string // track ID seen by the subscriber
	streamID string
	log      *slog.Logger // nil for sinks

	estimate    atomic.Int64 // subscriber's bandwidth estimate, bits/s (0 = unknown)
	undecodable atomic.Bool  // the subscriber lacks the publisher's codec
	maxLayer    atomic.Int32 // subscriber's hint, highest layer wanted

	mu       sync.Mutex
	rw       rewriter
	sel      layerSelector
	nextEval int64
	writer   rtpWriter // nil while unbound
	ssrc     uint32
	pt       uint8
	alID     uint8  // subscriber's audio level extension ID
	lastLost uint32 // last cumulative loss reported; owned by the RTCP loop
	bitrates [maxLayers]int64
}

func newDownTrack(pub *publication, clockRate uint32) *downTrack {
	d := &downTrack{pub: pub, id: pub.id, streamID: pub.streamID}
	d.rw.clockRate = clockRate
	d.sel = newLayerSelector()
	d.maxLayer.Store(maxLayers - 1)
	return d
}

// forward rewrites and writes one packet if this subscriber takes the
// layer. It returns true when the subscriber waits for a keyframe.
func (d *downTrack) forward(in *rtp.Header, payload []byte, layer int8, key bool, now int64, out *outHeader) (wantKey bool) {
	d.mu.Lock()
	if d.writer == nil {
		d.mu.Unlock()
		return false
	}
	if now >= d.nextEval {
		d.nextEval = now + layerEvalInterval
		n := d.pub.bitrates(now, &d.bitrates)
		d.sel.target = chooseLayer(&d.bitrates, n, d.estimate.Load(), int8(d.maxLayer.Load()))
	}
	fwd, switched, wantKey := d.sel.accept(layer, key)
	if !fwd {
		d.mu.Unlock()
		return wantKey
	}
	seq, ts, ok := d.rw.rewrite(in.SequenceNumber, in.Timestamp, switched, now)
	w, ssrc, pt, alID := d.writer, d.ssrc, d.pt, d.alID
	d.mu.Unlock()
	if !ok {
		return wantKey
	}
	out.fill(in, seq, ts, ssrc, pt, d.pub.audioLevelID, alID)
	n, err := w.WriteRTP(&out.h, payload)
	if n > 0 && d.pub.ctr != nil {
		d.pub.ctr.forwarded.Add(1)
	}
	if n == 0 && err == nil {
		// Pion drops packets silently until DTLS-SRTP is up: the
		// subscriber has not seen this layer start, so wait for the next
		// keyframe. (Write errors are losses; NACKs repair those.)
		d.restartLayer(layer)
	}
	return wantKey
}

// pause stops forwarding until the next keyframe, which starts a new
// sequence number mapping.
func (d *downTrack) pause() {
	d.mu.Lock()
	d.sel.current = -1
	d.mu.Unlock()
}

// restartLayer makes the subscriber wait for a keyframe again if it is
// still on layer.
func (d *downTrack) restartLayer(layer int8) {
	d.mu.Lock()
	if d.sel.current == layer {
		d.sel.current = -1
	}
	d.mu.Unlock()
}

// retransmit answers a NACK for one outgoing sequence number from the
// publication's packet cache. buf, in and out are the caller's scratch.
// It reports whether the packet was re-sent.
func (d *downTrack) retransmit(outSeq uint16, buf []byte, in *rtp.Header, out *outHeader) bool {
	d.mu.Lock()
	src, ok := d.rw.source(outSeq)
	layer := d.sel.current
	tsOffset := d.rw.tsOffset
	w, ssrc, pt, alID := d.writer, d.ssrc, d.pt, d.alID
	d.mu.Unlock()
	if !ok || w == nil || layer < 0 {
		return false
	}
	n := d.pub.layers[layer].cache.get(src, buf)
	if n == 0 {
		return false
	}
	hn, err := in.Unmarshal(buf[:n])
	if err != nil {
		return false
	}
	payload := buf[hn:n]
	if in.Padding && len(payload) > 0 && int(payload[len(payload)-1]) <= len(payload) {
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	out.fill(in, outSeq, in.Timestamp+tsOffset, ssrc, pt, d.pub.audioLevelID, alID)
	_, err = w.WriteRTP(&out.h, payload)
	return err == nil
}

// currentLayer is the layer being forwarded, -1 before the first keyframe.
func (d *downTrack) currentLayer() int8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sel.current
}

// keyframeLayer is the layer a keyframe request from the subscriber should
// go to: the target while switching, else the current one.
func (d *downTrack) keyframeLayer() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return int(d.sel.target)
}

// setMaxLayer records the subscriber's hint (0 = lowest .. 2 = highest).
func (d *downTrack) setMaxLayer(l int) {
	d.maxLayer.Store(int32(min(max(l, 0), maxLayers-1)))
	d.mu.Lock()
	d.nextEval = 0 // re-evaluate on the next packet
	d.mu.Unlock()
}

// setEstimate records the subscriber's bandwidth estimate in bits/s.
func (d *downTrack) setEstimate(bps int64) { d.estimate.Store(bps) }

// bind attaches the subscriber's RTP stream; unbind detaches it.
func (d *downTrack) bind(w rtpWriter, ssrc uint32, pt, audioLevelID uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writer, d.ssrc, d.pt, d.alID = w, ssrc, pt, audioLevelID
}

func (d *downTrack) unbind() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writer = nil
}
