package sfu

import "sync/atomic"

// upLayer is one incoming stream of a publication: the single stream of a
// plain track, or one simulcast layer. Atomics are shared with subscriber
// goroutines; the window fields belong to the layer's read loop.
type upLayer struct {
	rid   string
	cache *packetCache

	ssrc       atomic.Uint32
	active     atomic.Bool
	lastPLI    atomic.Int64 // ns, last keyframe request sent upstream
	lastPacket atomic.Int64 // ns
	bitrate    atomic.Int64 // bits per second over the last window

	winStart int64
	winBytes int64
}

// rateWindow is how often a layer's bitrate is recomputed.
const rateWindow = int64(500e6)

// staleAfter is how long a layer may be silent before it counts as off.
const staleAfter = int64(2e9)

// account adds a received packet to the bitrate window. Read loop only.
func (l *upLayer) account(n int, now int64) {
	l.lastPacket.Store(now)
	if l.winStart == 0 {
		l.winStart = now
	}
	l.winBytes += int64(n)
	if d := now - l.winStart; d >= rateWindow {
		l.bitrate.Store(l.winBytes * 8 * 1e9 / d)
		l.winStart, l.winBytes = now, 0
	}
}

// currentBitrate is the layer's bitrate, or 0 when it is off or silent.
func (l *upLayer) currentBitrate(now int64) int64 {
	if !l.active.Load() || now-l.lastPacket.Load() > staleAfter {
		return 0
	}
	if b := l.bitrate.Load(); b > 0 {
		return b
	}
	return 1 // receiving, rate not measured yet
}
