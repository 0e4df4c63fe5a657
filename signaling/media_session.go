package signaling

import (
	"context"
	"errors"
	"time"

	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// Posted to a session's inbox by other goroutines.
type (
	// mediaSignal is an SFU signal for the participant the session holds.
	mediaSignal struct {
		slot *mediaSlot
		sig  sfu.Signal
	}
	// replacedNotice: the same person attached from another socket.
	replacedNotice struct{}
	// removedNotice: a clinician removed this participant.
	removedNotice struct{}
)

var (
	errReplaced = &closeError{code: CloseReplaced, reason: "replaced"}
	errRemoved  = &closeError{code: CloseForbidden, reason: "removed"}
	errInbox    = &closeError{code: CloseTooSlow, reason: "too slow"}
)

// post hands v to the session's owner loop without blocking. A session
// whose inbox is full is too slow and will be closed.
func (s *session) post(v any) {
	select {
	case s.inbox <- v:
	default:
		s.inboxFull.Store(true)
	}
}

// onPosted handles one message another goroutine posted.
func (s *session) onPosted(ctx context.Context, v any) error {
	if s.inboxFull.Load() {
		return errInbox
	}
	switch m := v.(type) {
	case mediaSignal:
		if s.media != m.slot {
			return nil // a signal for a slot this session no longer holds
		}
		return s.send(signalMessage(m.sig))
	case replacedNotice:
		s.media = nil // the newer session holds the slot now
		return errReplaced
	case removedNotice:
		s.media = nil
		return errRemoved
	case movedNotice:
		s.media = nil // the slot is gone: the room left this node
		if err := s.send(m.msg); err != nil {
			return err
		}
		return errMoved
	default:
		return s.send(v)
	}
}

func signalMessage(sig sfu.Signal) any {
	switch sig.Kind {
	case sfu.SignalOffer:
		return sdpMsg{header: hdr("offer", ""), SDP: sig.SDP}
	case sfu.SignalAnswer:
		return sdpMsg{header: hdr("answer", ""), SDP: sig.SDP}
	case sfu.SignalCandidate:
		return candidateMsg{header: hdr("candidate", ""), Candidate: sig.Candidate}
	}
	return mediaStateMsg{header: hdr("media_state", ""), State: sig.State}
}

// recheckMedia asks the admission gate again after an event about the
// session's visit: a patient sent back, a visit ended or a guest removed
// loses their media at once and keeps the socket.
func (s *session) recheckMedia(ctx context.Context, ev visits.Event) error {
	if s.media == nil || ev.VisitID != s.media.key.visit {
		return nil
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	g, err := s.srv.media.granter.MediaGrant(cctx, s.actor, s.media.key.visit)
	if err == nil && g.Admitted {
		return nil
	}
	reason := g.Reason
	if err != nil {
		if !errors.Is(err, visits.ErrForbidden) && !errors.Is(err, visits.ErrNotFound) {
			s.log.Warn("media re-check failed; keeping media until the next event", "err", err)
			return nil
		}
		reason = "forbidden"
	}
	s.srv.endRecording(cctx, s.media.key.visit, reason)
	s.srv.media.drop(s.media)
	s.media = nil
	return s.send(mediaStoppedMsg{header: hdr("media_stopped", ""), Reason: reason})
}

// endMedia runs when the session ends: a participant who did not leave
// keeps their place for the grace window.
func (s *session) endMedia() {
	if s.media != nil {
		s.srv.media.detach(s, s.media)
		s.media = nil
	}
}

func now() time.Time { return time.Now().UTC() }
