package signaling

import (
	"context"
	"errors"
	"time"

	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/visits"
)

var (
	errWriterGone   = connLost{errors.New("writer stopped")}
	errEventsClosed = errors.New("signaling: event stream closed")
)

// loop is the owner: the one goroutine that reads and changes the
// session's state. It returns why the session must end.
func (s *session) loop(ctx context.Context, events <-chan visits.Event) error {
	reauth := time.NewTicker(s.cfg.ReauthInterval)
	defer reauth.Stop()
	for {
		var err error
		select {
		case rr := <-s.in:
			err = s.onRead(ctx, rr)
		case v := <-s.inbox:
			err = s.onPosted(ctx, v)
		case ev, ok := <-events:
			if !ok {
				return errEventsClosed
			}
			err = s.onEvent(ctx, ev)
		case <-s.refresh.C():
			err = s.flush(ctx)
		case <-reauth.C:
			err = s.onReauth(ctx)
		case <-s.writerDone:
			return errWriterGone
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if err != nil {
			return err
		}
	}
}

// onRead takes one message from the reader: rate limit, decode, dispatch.
func (s *session) onRead(ctx context.Context, rr readResult) error {
	if rr.err != nil {
		return connLost{rr.err}
	}
	if !s.limiter.Allow() {
		return s.overRate()
	}
	s.overLimit = 0
	if rr.kind != websocket.TextMessage {
		return s.reject("", badMessage("only text messages are accepted"))
	}
	m, err := decode(rr.data)
	s.srv.msgs.count(m.Type) // unknown or undecodable: "unknown"
	if err != nil {
		return s.reject(m.ID, err)
	}
	h, ok := s.srv.handlers[m.Type]
	if !ok {
		return s.reject(m.ID, &clientError{code: codeUnknownType, message: "unknown message type"})
	}
	if !s.greeted && !h.beforeHello {
		return s.reject(m.ID, badMessage("send hello first"))
	}
	err = h.fn(ctx, s, m)
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx) // shutting down: the call was cut short
	}
	return s.reject(m.ID, err)
}

// overRate drops a message over the rate limit. The first of a run is
// answered with an error; MsgBurst in a row close the socket.
func (s *session) overRate() error {
	s.overLimit++
	if s.overLimit >= s.cfg.MsgBurst {
		return errRateLimited
	}
	if s.overLimit > 1 {
		return nil
	}
	return s.sendError("", &clientError{code: codeRateLimited, message: "slow down: message dropped"})
}

// reject reports a handler's (or the decoder's) error to the client. Errors
// that end the session pass through; bad messages are counted and too many
// close the socket.
func (s *session) reject(ref string, err error) error {
	if err == nil {
		return nil
	}
	var ce *closeError
	if errors.As(err, &ce) {
		return err
	}
	cerr, known := clientErrorFor(err)
	if !known {
		s.log.Error("websocket request failed", "err", err)
	}
	if cerr.abusive() {
		s.bad++
		if s.bad >= s.cfg.MaxBadMessages {
			if err := s.sendError(ref, cerr); err != nil {
				return err
			}
			return errAbuse
		}
	}
	return s.sendError(ref, cerr)
}

// callCtx bounds one call to the visits service or the authenticator.
func (s *session) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.CallTimeout)
}

// onEvent routes a hub event by the session's kind. Before hello a session
// has asked for nothing.
func (s *session) onEvent(ctx context.Context, ev visits.Event) error {
	if !s.greeted {
		return nil
	}
	if err := s.recheckMedia(ctx, ev); err != nil {
		return err
	}
	switch s.actor.Kind {
	case visits.ActorGuest:
		return nil
	case visits.ActorPatient:
		return s.onPatientEvent(ctx, ev)
	}
	return s.onStaffEvent(ev)
}

// flush sends the coalesced update the refresh timer was armed for.
func (s *session) flush(ctx context.Context) error {
	s.refresh.fired()
	switch s.actor.Kind {
	case visits.ActorGuest:
		return nil
	case visits.ActorPatient:
		return s.pushPatientStatus(ctx)
	}
	return s.pushSnapshot(ctx)
}
