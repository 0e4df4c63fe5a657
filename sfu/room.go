package sfu

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

var (
	// ErrRoomFull is returned by Join when the room has MaxParticipants.
	ErrRoomFull = errors.New("sfu: room full")
	// ErrDuplicateParticipant is returned by Join for an ID already present.
	ErrDuplicateParticipant = errors.New("sfu: participant already in room")
)

// Room is one visit's media session: every participant receives every
// other participant's tracks. mu guards the maps; it is never held while
// calling into a participant or Pion.
type Room struct {
	sfu *SFU
	id  string

	mu           sync.Mutex
	participants map[string]*Participant
	pubs         map[*publication]struct{}
	sinks        map[string]*sinkSub
	closed       bool
	retired      bool // emptied and forgotten by the SFU; joins go to a new room

	ctr counters // traffic, for Stats
}

// errRetired makes Join retry on the SFU's current room of that ID.
var errRetired = errors.New("sfu: room retired")

func newRoom(s *SFU, id string) *Room {
	return &Room{
		sfu: s, id: id, participants: map[string]*Participant{},
		pubs: map[*publication]struct{}{}, sinks: map[string]*sinkSub{},
	}
}

// ID returns the room's ID.
func (r *Room) ID() string { return r.id }

// JoinOptions configure a new participant.
type JoinOptions struct {
	// OnSignal receives the participant's outgoing signals (offers, ICE
	// candidates, state), in order, from one goroutine, with no SFU lock
	// held. It should hand them to the signaling session's own loop and
	// return quickly; it may call HandleAnswer, HandleOffer or
	// AddICECandidate but must not call Close (Close waits for the
	// goroutine that runs OnSignal). Required.
	OnSignal func(Signal)
}

// Join adds a participant with its own PeerConnection and subscribes it to
// every track already published in the room. The caller then exchanges SDP
// with HandleOffer / HandleAnswer and AddICECandidate.
func (r *Room) Join(ctx context.Context, id string, opts JoinOptions) (*Participant, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sfu: join: %w", err)
	}
	if opts.OnSignal == nil {
		return nil, fmt.Errorf("sfu: join: %w: OnSignal is required", ErrInvalidConfig)
	}
	if err := r.admit(id); errors.Is(err, errRetired) {
		return r.sfu.Room(r.id).Join(ctx, id, opts)
	} else if err != nil {
		return nil, err
	}
	p, err := newParticipant(r, id, opts)
	if err != nil {
		r.release(id, nil)
		r.sfu.reapIfEmpty(r)
		return nil, fmt.Errorf("sfu: join: %w", err)
	}
	pubs, err := r.register(p)
	if err != nil {
		p.Close()
		return nil, err
	}
	for _, pub := range pubs {
		p.subscribe(pub)
	}
	return p, nil
}

// admit reserves id in the room (a nil entry) so concurrent joins count.
func (r *Room) admit(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch _, dup := r.participants[id]; {
	case r.retired:
		return errRetired
	case r.closed:
		return ErrClosed
	case dup:
		return ErrDuplicateParticipant
	case len(r.participants) >= r.sfu.cfg.MaxParticipants:
		return ErrRoomFull
	}
	r.participants[id] = nil
	return nil
}

// register fills the reserved slot and snapshots the publications the new
// participant must subscribe to.
func (r *Room) register(p *Participant) ([]*publication, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		delete(r.participants, p.id)
		return nil, ErrClosed
	}
	r.participants[p.id] = p
	pubs := make([]*publication, 0, len(r.pubs))
	for pub := range r.pubs {
		if pub.owner != p.id {
			pubs = append(pubs, pub)
		}
	}
	return pubs, nil
}

// release removes p (or the reservation when p is nil) from the room and
// returns the publications p owned, which the caller must unpublish.
func (r *Room) release(id string, p *Participant) []*publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.participants[id]; !ok || cur != p {
		return nil
	}
	delete(r.participants, id)
	var owned []*publication
	for pub := range r.pubs {
		if pub.owner == id {
			owned = append(owned, pub)
			delete(r.pubs, pub)
		}
	}
	return owned
}

// publish records a new publication and returns who must subscribe to it.
func (r *Room) publish(pub *publication) []subscriber {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.participants[pub.owner] == nil {
		return nil
	}
	r.pubs[pub] = struct{}{}
	return r.othersLocked(pub.owner)
}

// unpublish forgets a publication and returns its potential subscribers.
func (r *Room) unpublish(pub *publication) []subscriber {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pubs, pub)
	return r.othersLocked(pub.owner)
}

// othersLocked lists the participants other than except, and the sinks.
func (r *Room) othersLocked(except string) []subscriber {
	out := make([]subscriber, 0, len(r.participants)+len(r.sinks))
	for id, p := range r.participants {
		if id != except && p != nil {
			out = append(out, p)
		}
	}
	for _, k := range r.sinks {
		out = append(out, k)
	}
	return out
}

// Participant returns the participant with this ID, or nil.
func (r *Room) Participant(id string) *Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.participants[id]
}

// Len returns the number of participants.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.participants)
}

// Remove closes the participant with this ID: its tracks disappear from
// everyone else. It reports whether the participant was present. An
// empty room is forgotten by the SFU, also when id was not present.
func (r *Room) Remove(id string) bool {
	p := r.Participant(id)
	if p == nil {
		r.sfu.reapIfEmpty(r)
		return false
	}
	p.Close()
	return true
}

// Close removes every participant and sink, waits for the participants'
// goroutines to end and forgets the room. Later joins fail with ErrClosed.
func (r *Room) Close() {
	r.mu.Lock()
	r.closed = true
	ps := make([]*Participant, 0, len(r.participants))
	for _, p := range r.participants {
		if p != nil {
			ps = append(ps, p)
		}
	}
	sinks := r.sinks
	r.sinks = map[string]*sinkSub{}
	r.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
	for _, k := range sinks {
		k.close()
	}
	r.sfu.forgetRoom(r)
}

func (r *Room) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}
