package signaling

import (
	"sort"
	"sync/atomic"
)

// Stats is a point-in-time view of the server for metrics. It carries no
// identifiers: only counts by actor kind, participant role and message
// type.
type Stats struct {
	// Sessions counts open WebSocket sessions by actor kind.
	Sessions map[string]int
	// MediaParticipants counts participants holding a place in a room on
	// this node (attached or within the resume grace), by role.
	MediaParticipants map[string]int
	// Messages counts client messages received since start, by type; types
	// the server does not know (and undecodable messages) count as
	// "unknown".
	Messages map[string]uint64
	// Moved counts participants told to reconnect to another node since
	// start, by reason (room_elsewhere, draining, lease_lost).
	Moved map[string]uint64
}

// movedCounters counts moved messages by reason; built once, read only.
type movedCounters map[string]*atomic.Uint64

func newMovedCounters() movedCounters {
	return movedCounters{MovedRoomElsewhere: new(atomic.Uint64), MovedDraining: new(atomic.Uint64),
		MovedLeaseLost: new(atomic.Uint64)}
}

func (c movedCounters) count(reason string) {
	if n, ok := c[reason]; ok {
		n.Add(1)
	}
}

// unknownType labels messages of no known type.
const unknownType = "unknown"

// msgCounters counts received messages per type. The map is built once and
// only read afterwards, so it needs no lock.
type msgCounters map[string]*atomic.Uint64

func newMsgCounters(handlers map[string]handler) msgCounters {
	c := msgCounters{unknownType: new(atomic.Uint64)}
	for t := range handlers {
		c[t] = new(atomic.Uint64)
	}
	return c
}

func (c msgCounters) count(msgType string) {
	n, ok := c[msgType]
	if !ok {
		n = c[unknownType]
	}
	n.Add(1)
}

// MessageTypes lists, sorted, the message types the server counts
// (including "unknown").
func (s *Server) MessageTypes() []string {
	out := make([]string, 0, len(s.msgs))
	for t := range s.msgs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Stats returns the server's current counts.
func (s *Server) Stats() Stats {
	st := Stats{Sessions: map[string]int{}, MediaParticipants: map[string]int{}, Messages: map[string]uint64{},
		Moved: map[string]uint64{}}
	for t, n := range s.msgs {
		st.Messages[t] = n.Load()
	}
	for r, n := range s.moved {
		st.Moved[r] = n.Load()
	}
	s.mu.Lock()
	for sess := range s.sessions {
		st.Sessions[string(sess.actor.Kind)]++
	}
	s.mu.Unlock()
	if s.media != nil {
		s.media.countRoles(st.MediaParticipants)
	}
	return st
}

// knownRoles bounds the role label; anything else counts as "other".
var knownRoles = map[string]bool{"patient": true, "clinician": true, "guest": true, "scheduler": true, "admin": true}

// countRoles adds the hub's participants, by role, to into.
func (h *mediaHub) countRoles(into map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sl := range h.slots {
		role := string(sl.grant.Role)
		if !knownRoles[role] {
			role = "other"
		}
		into[role]++
	}
}
