package signaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// MediaGranter is the visits service's admission gate for media.
type MediaGranter interface {
	MediaGrant(ctx context.Context, a visits.Actor, visit uuid.UUID) (visits.Grant, error)
}

// slotKey names one person's place in one visit's room.
type slotKey struct {
	visit       uuid.UUID
	participant string
}

// mediaSlot is one participant's PeerConnection in a room. It outlives a
// dropped WebSocket for the resume grace window, so a reconnecting client
// takes its place again instead of joining as a second, ghost participant.
type mediaSlot struct {
	key   slotKey
	grant visits.Grant
	part  *sfu.Participant

	joinMu sync.Mutex // serialises attaching: one PeerConnection per slot

	mu    sync.Mutex
	sess  *session    // attached session; nil while detached
	grace *time.Timer // running while detached
}

// deliver hands an SFU signal to the attached session, if any. Signals that
// arrive while detached are dropped: the client renegotiates (ICE restart)
// when it comes back.
func (sl *mediaSlot) deliver(sig sfu.Signal) {
	sl.mu.Lock()
	s := sl.sess
	sl.mu.Unlock()
	if s != nil {
		s.post(mediaSignal{slot: sl, sig: sig})
	}
}

// mediaHub is a server's rooms: the SFU plus who is in which room here.
type mediaHub struct {
	sfu     *sfu.SFU
	granter MediaGranter
	grace   time.Duration
	log     *slog.Logger
	placer  Placer     // nil: rooms are never released
	placing visitLocks // per visit: Place+attach vs. release

	mu    sync.Mutex
	slots map[slotKey]*mediaSlot
}

func newMediaHub(m *sfu.SFU, g MediaGranter, grace time.Duration, log *slog.Logger) *mediaHub {
	return &mediaHub{sfu: m, granter: g, grace: grace, log: log, slots: map[slotKey]*mediaSlot{}}
}

// attach gives s the participant's slot: the existing one when the person
// is resuming (its former session, if still attached, is told it was
// replaced), or a new PeerConnection in the visit's room. With resume
// false an existing slot's PeerConnection is replaced by a new one: the
// client has none to resume it with.
func (h *mediaHub) attach(ctx context.Context, s *session, g visits.Grant, resume bool) (sl *mediaSlot, resumed bool, err error) {
	key := slotKey{visit: g.VisitID, participant: g.ParticipantID}
	h.mu.Lock()
	sl = h.slots[key]
	if sl == nil {
		sl = &mediaSlot{key: key, grant: g}
		h.slots[key] = sl
	}
	h.mu.Unlock()
	sl.joinMu.Lock()
	defer sl.joinMu.Unlock()
	sl.mu.Lock()
	prev, part := sl.sess, sl.part
	if sl.grace != nil {
		sl.grace.Stop()
		sl.grace = nil
	}
	sl.sess, sl.grant = s, g
	if part != nil && !resume {
		sl.part = nil
	}
	sl.mu.Unlock()
	if prev != nil && prev != s {
		prev.post(replacedNotice{})
	}
	if part != nil && resume {
		return sl, true, nil
	}
	if part != nil { // replaced: the others see its tracks end and come again
		part.Close()
		h.sfu.Room(g.VisitID.String()).Remove(g.ParticipantID)
	}
	p, err := h.sfu.Room(g.VisitID.String()).Join(ctx, g.ParticipantID, sfu.JoinOptions{OnSignal: sl.deliver})
	if err != nil {
		h.drop(sl)
		return nil, false, err
	}
	sl.mu.Lock()
	sl.part = p
	sl.mu.Unlock()
	return sl, false, nil
}

// detach is called when s ends without leaving: the PeerConnection is kept
// for the grace window, then closed.
func (h *mediaHub) detach(s *session, sl *mediaSlot) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.sess != s {
		return // replaced by a newer session
	}
	sl.sess = nil
	sl.grace = time.AfterFunc(h.grace, func() { h.expire(sl) })
}

func (h *mediaHub) expire(sl *mediaSlot) {
	sl.mu.Lock()
	detached := sl.sess == nil
	sl.mu.Unlock()
	if detached {
		h.drop(sl)
	}
}

// drop closes the slot's PeerConnection, forgets it and tells the others.
func (h *mediaHub) drop(sl *mediaSlot) {
	if h.remove(sl) {
		h.broadcast(sl.key.visit, participantLeftMsg{header: hdr("participant_left", ""), ParticipantID: sl.key.participant})
	}
}

// dropQuiet is drop without telling the others (the whole room is moving).
func (h *mediaHub) dropQuiet(sl *mediaSlot) { h.remove(sl) }

// remove closes the slot's PeerConnection and forgets the slot; true when
// it held one. The last one out releases the room's placement.
func (h *mediaHub) remove(sl *mediaSlot) bool {
	h.mu.Lock()
	if h.slots[sl.key] == sl {
		delete(h.slots, sl.key)
	}
	h.mu.Unlock()
	sl.mu.Lock()
	p := sl.part
	sl.part, sl.sess = nil, nil
	if sl.grace != nil {
		sl.grace.Stop()
		sl.grace = nil
	}
	sl.mu.Unlock()
	if p == nil {
		return false
	}
	p.Close()
	h.sfu.Room(sl.key.visit.String()).Remove(sl.key.participant)
	go h.releaseIfEmpty(sl.key.visit)
	return true
}

// visits lists the visits with a room on this node.
func (h *mediaHub) visits() []uuid.UUID {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for k := range h.slots {
		if !seen[k.visit] {
			seen[k.visit] = true
			out = append(out, k.visit)
		}
	}
	return out
}

// allSlots lists every slot on this node.
func (h *mediaHub) allSlots() []*mediaSlot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*mediaSlot, 0, len(h.slots))
	for _, sl := range h.slots {
		out = append(out, sl)
	}
	return out
}

// roster lists the slots of a visit.
func (h *mediaHub) roster(visit uuid.UUID) []*mediaSlot {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*mediaSlot
	for k, sl := range h.slots {
		if k.visit == visit {
			out = append(out, sl)
		}
	}
	return out
}

// broadcast posts msg to every session attached in the visit's room.
func (h *mediaHub) broadcast(visit uuid.UUID, msg any) {
	for _, sl := range h.roster(visit) {
		sl.mu.Lock()
		s := sl.sess
		sl.mu.Unlock()
		if s != nil {
			s.post(msg)
		}
	}
}

// broadcastExcept posts msg to every session in the visit's room but one.
func (h *mediaHub) broadcastExcept(visit uuid.UUID, skip *session, msg any) {
	for _, sl := range h.roster(visit) {
		sl.mu.Lock()
		s := sl.sess
		sl.mu.Unlock()
		if s != nil && s != skip {
			s.post(msg)
		}
	}
}

// slot returns the slot of a participant of a visit, or nil.
func (h *mediaHub) slot(visit uuid.UUID, participant string) *mediaSlot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.slots[slotKey{visit: visit, participant: participant}]
}

// close drops every slot (server shutdown).
func (h *mediaHub) close() {
	for _, sl := range h.allSlots() {
		h.drop(sl)
	}
}
