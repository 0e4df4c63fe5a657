package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// Stats is a point-in-time view of the SFU for metrics. Counters only
// grow for the life of the SFU.
type Stats struct {
	Rooms        int
	Participants int
	// PacketsForwarded counts RTP packets written to subscribers (sinks
	// such as the recorder included), retransmissions excluded.
	PacketsForwarded uint64
	// PacketsLost is the loss subscribers report in RTCP receiver reports
	// on forwarded tracks: the growth of each report's cumulative lost
	// count, summed. It measures the SFU-to-subscriber leg.
	PacketsLost uint64
	// PacketsNacked counts packets subscribers asked to be retransmitted.
	PacketsNacked uint64
}

// counters are a room's traffic counts, bumped with atomics on the media
// path and read at scrape time.
type counters struct {
	forwarded atomic.Uint64
	lost      atomic.Uint64
	nacked    atomic.Uint64
}

func (c *counters) addTo(st *Stats) {
	st.PacketsForwarded += c.forwarded.Load()
	st.PacketsLost += c.lost.Load()
	st.PacketsNacked += c.nacked.Load()
}

// retire folds a room's counts into the SFU's, when the room is forgotten.
// Call with s.mu held.
func (s *SFU) retireCounters(r *Room) {
	s.gone.forwarded.Add(r.ctr.forwarded.Load())
	s.gone.lost.Add(r.ctr.lost.Load())
	s.gone.nacked.Add(r.ctr.nacked.Load())
}

// Stats returns the SFU's current counts.
func (s *SFU) Stats() Stats {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	var st Stats
	s.gone.addTo(&st)
	for _, r := range rooms { // under s.mu: a room retiring now is counted once
		r.ctr.addTo(&st)
	}
	s.mu.Unlock()
	st.Rooms = len(rooms)
	for _, r := range rooms {
		r.mu.Lock()
		for _, p := range r.participants {
			if p != nil {
				st.Participants++
			}
		}
		r.mu.Unlock()
	}
	return st
}

// OnConnected sets f to be called, from a Pion goroutine, with the time
// from each participant's Join to its PeerConnection first reaching
// "connected". f must be quick and safe for concurrent use.
func (s *SFU) OnConnected(f func(joinToConnected time.Duration)) {
	s.onConnected.Store(&f)
}

// noteConnected reports p's first connection.
func (p *Participant) noteConnected() {
	if !p.connected.CompareAndSwap(false, true) {
		return
	}
	if f := p.room.sfu.onConnected.Load(); f != nil {
		(*f)(time.Since(p.joined))
	}
}

// countReport adds the growth of a receiver report's cumulative loss on
// one forwarded track above the highest count seen before (lastLost, owned
// by the track's RTCP read loop): late packets lower the cumulative count
// and must not be counted twice when it rises again.
func (c *counters) countReport(totalLost uint32, lastLost *uint32) {
	if totalLost >= 1<<23 { // a negative 24-bit count: duplicates, no loss
		totalLost = 0
	}
	if totalLost > *lastLost {
		c.lost.Add(uint64(totalLost - *lastLost))
		*lastLost = totalLost
	}
}

// countLoss counts the loss a receiver report gives for this track's SSRC.
// Called only from the track's RTCP read loop.
func (d *downTrack) countLoss(reports []rtcp.ReceptionReport) {
	if d.pub.ctr == nil {
		return
	}
	d.mu.Lock()
	ssrc := d.ssrc
	d.mu.Unlock()
	for _, rr := range reports {
		if rr.SSRC == ssrc {
			d.pub.ctr.countReport(rr.TotalLost, &d.lastLost)
		}
	}
}
