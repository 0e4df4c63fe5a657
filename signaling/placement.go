package signaling

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Placer decides which node of a cluster holds a visit's room (see
// internal/cluster). Without one every room is local.
type Placer interface {
	// Place returns the node that holds the visit's room, claiming it for
	// this node when no live node does; local reports it is this node.
	Place(ctx context.Context, visit uuid.UUID) (node string, local bool, err error)
	// Release gives up this node's claim on a room that emptied here.
	Release(ctx context.Context, visit uuid.UUID) error
}

// Reasons a moved message gives.
const (
	MovedRoomElsewhere = "room_elsewhere" // the join reached a node without the room
	MovedDraining      = "draining"       // this node is shutting down
	MovedLeaseLost     = "lease_lost"     // another node took the room over
)

// movedMsg tells a client to reconnect to the node holding its room; the
// socket then closes with CloseMoved.
type movedMsg struct {
	header
	Node   string `json:"node"`
	Reason string `json:"reason"`
}

// movedNotice is posted to a session whose room left this node.
type movedNotice struct{ msg movedMsg }

var errMoved = &closeError{code: CloseMoved, reason: "moved", quiet: true}

// EnablePlacement makes joins go through p: a join for a room another node
// holds is answered with moved. Call it before serving.
func (s *Server) EnablePlacement(p Placer) {
	s.placer = p
	if s.media != nil {
		s.media.placer = p
	}
}

// placeRoom asks the placer where the visit's room is. It returns errMoved
// (after sending moved) when the room is on another node.
func (s *session) placeRoom(ctx context.Context, visit uuid.UUID) error {
	p := s.srv.placer
	if p == nil {
		return nil
	}
	node, local, err := p.Place(ctx, visit)
	if err != nil {
		return err
	}
	if local {
		return nil
	}
	if err := s.send(movedMsg{header: hdr("moved", ""), Node: node, Reason: MovedRoomElsewhere}); err != nil {
		return err
	}
	s.srv.moved.count(MovedRoomElsewhere)
	return errMoved
}

// releaseIfEmpty gives up the claim on a visit's room once nobody is in it
// here (run on its own goroutine after a slot is dropped).
func (h *mediaHub) releaseIfEmpty(visit uuid.UUID) {
	if h.placer == nil {
		return
	}
	unlock := h.placing.lock(visit)
	defer unlock()
	if len(h.roster(visit)) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.placer.Release(ctx, visit); err != nil {
		h.log.Warn("release room placement", "visit", visit, "err", err)
	}
}

// LocalRooms is the number of visits with a room on this node.
func (s *Server) LocalRooms() int {
	if s.media == nil {
		return 0
	}
	return len(s.media.visits())
}

// ConnectedRooms is the number of rooms on this node with someone
// connected: the visits a drain waits for. A room whose participants have
// all dropped (their places wait out the resume grace) is not one.
func (s *Server) ConnectedRooms() int {
	if s.media == nil {
		return 0
	}
	seen := map[uuid.UUID]bool{}
	for _, sl := range s.media.allSlots() {
		sl.mu.Lock()
		attached := sl.sess != nil
		sl.mu.Unlock()
		if attached {
			seen[sl.key.visit] = true
		}
	}
	return len(seen)
}

// MoveRooms moves every room on this node (a drain): move names the new
// owner of each (or "" for none), then everyone in the room is told to
// reconnect there and the room's PeerConnections close here. It returns
// once those sessions have closed, or when ctx ends.
func (s *Server) MoveRooms(ctx context.Context, move func(ctx context.Context, visit uuid.UUID) (string, error)) error {
	if s.media == nil {
		return nil
	}
	var errs []error
	var told []*session
	for _, v := range s.media.visits() {
		node, err := move(ctx, v)
		if err != nil {
			errs = append(errs, err)
		}
		told = append(told, s.roomLost(v, node, MovedDraining)...)
	}
	s.waitGone(ctx, told)
	return errors.Join(errs...)
}

// waitGone waits until none of sessions is running, or ctx ends.
func (s *Server) waitGone(ctx context.Context, sessions []*session) {
	for {
		s.mu.Lock()
		running := 0
		for _, sess := range sessions {
			if _, ok := s.sessions[sess]; ok {
				running++
			}
		}
		s.mu.Unlock()
		if running == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RoomLost ends a visit's room on this node: every participant is told to
// reconnect to node for reason, and the room's recording (which runs on
// this node) stops.
func (s *Server) RoomLost(visit uuid.UUID, node, reason string) { s.roomLost(visit, node, reason) }

// roomLost is RoomLost; it returns the sessions it told.
func (s *Server) roomLost(visit uuid.UUID, node, reason string) []*session {
	if s.media == nil {
		return nil
	}
	slots := s.media.roster(visit)
	if len(slots) == 0 {
		return nil
	}
	s.log.Info("room moves", "visit", visit, "node", node, "reason", reason)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.stopMovedRecording(ctx, visit)
	msg := movedMsg{header: hdr("moved", ""), Node: node, Reason: reason}
	var told []*session
	for _, sl := range slots {
		sl.mu.Lock()
		sess := sl.sess
		sl.mu.Unlock()
		if sess != nil {
			sess.post(movedNotice{msg: msg})
			s.moved.count(reason)
			told = append(told, sess)
		}
		s.media.dropQuiet(sl)
	}
	return told
}

// stopMovedRecording stops a visit's live recording when its room leaves
// this node: the recorder runs beside the room, so the object ends here
// and the clinician may ask again on the new node.
func (s *Server) stopMovedRecording(ctx context.Context, visit uuid.UUID) {
	if s.rec == nil {
		return
	}
	rec, err := s.rec.svc.StopRecording(ctx, visits.SystemActor("signaling"), visit, visits.StopEnded)
	if errors.Is(err, visits.ErrNotFound) || errors.Is(err, visits.ErrConflict) {
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "stop recording of a moved room", "visit", visit, "err", err)
		return
	}
	s.applyRecording(ctx, rec)
}
