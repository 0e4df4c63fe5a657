package sfu

// rewriter maps the sequence numbers and timestamps of one or more source
// streams (simulcast layers, or a publisher that restarted its SSRC) onto
// one continuous outgoing stream. It is not safe for concurrent use; the
// owning downTrack guards it.
type rewriter struct {
	started   bool
	clockRate uint32

	seqOffset uint16 // out = in + seqOffset
	tsOffset  uint32 // out = in + tsOffset
	startSeq  uint16 // first source sequence number of the current mapping

	lastSeq   uint16 // highest outgoing sequence number so far
	lastTS    uint32 // timestamp of lastSeq
	lastNanos int64  // wall clock (ns) when lastSeq was sent
}

// rewrite returns the outgoing sequence number and timestamp for a source
// packet. newSource says the packet is the first of a new source (a layer
// or SSRC switch, always at a keyframe). ok is false for a packet older
// than the start of the current mapping, which must be dropped.
func (r *rewriter) rewrite(seq uint16, ts uint32, newSource bool, nowNanos int64) (outSeq uint16, outTS uint32, ok bool) {
	switch {
	case !r.started:
		r.started = true
		r.seqOffset, r.tsOffset, r.startSeq = 0, 0, seq
		r.lastSeq, r.lastTS, r.lastNanos = seq-1, ts, nowNanos
	case newSource:
		r.seqOffset = r.lastSeq + 1 - seq
		r.tsOffset = r.lastTS + r.elapsedTicks(nowNanos) - ts
		r.startSeq = seq
	case int16(seq-r.startSeq) < 0:
		return 0, 0, false
	}
	if int16(seq-r.startSeq) > maxReorder {
		// Keep the mapping start trailing the stream, so that comparisons
		// with it stay within half the sequence space as numbers wrap.
		r.startSeq = seq - maxReorder
	}
	outSeq, outTS = seq+r.seqOffset, ts+r.tsOffset
	if int16(outSeq-r.lastSeq) > 0 {
		r.lastSeq, r.lastTS, r.lastNanos = outSeq, outTS, nowNanos
	}
	return outSeq, outTS, true
}

// maxReorder is how far behind the newest packet a late packet may still
// be forwarded (and a NACK answered), in sequence numbers.
const maxReorder = 8192

// elapsedTicks converts the wall time since the last packet into RTP
// ticks, at least one so timestamps keep increasing across a switch.
func (r *rewriter) elapsedTicks(nowNanos int64) uint32 {
	d := nowNanos - r.lastNanos
	if d <= 0 || r.clockRate == 0 {
		return 1
	}
	t := uint64(d) * uint64(r.clockRate) / 1e9
	if t == 0 {
		return 1
	}
	if t > 1<<30 {
		t = 1 << 30
	}
	return uint32(t)
}

// source maps an outgoing sequence number back to the source sequence
// number of the current mapping, for retransmissions. ok is false when the
// packet was sent under an earlier mapping or not sent yet.
func (r *rewriter) source(outSeq uint16) (seq uint16, ok bool) {
	if !r.started {
		return 0, false
	}
	if int16(outSeq-(r.startSeq+r.seqOffset)) < 0 || int16(r.lastSeq-outSeq) < 0 {
		return 0, false
	}
	return outSeq - r.seqOffset, true
}

// timestamp maps a source timestamp of the current mapping to the output.
func (r *rewriter) timestamp(ts uint32) uint32 { return ts + r.tsOffset }
