package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/televisit/televisit/visits"
)

// inboxSize bounds what other goroutines may queue for a session.
const inboxSize = 256

// closeGrace is how long a session waits for the peer's answer to its close
// frame before it drops the connection.
const closeGrace = time.Second

// frame is one WebSocket frame for the writer.
type frame struct {
	kind int // websocket.TextMessage, PingMessage or CloseMessage
	data []byte
}

// readResult is one message (or the final error) from the reader.
type readResult struct {
	kind int
	data []byte
	err  error
}

// session is one WebSocket connection. The fields below the channels are
// owned by the owner loop (run) and touched by no other goroutine.
type session struct {
	srv   *Server
	cfg   Config
	conn  *websocket.Conn
	creds credentials
	log   *slog.Logger

	inbox      chan any        // from other goroutines (SFU signals, room messages)
	inboxFull  atomic.Bool     // an inbox post was dropped: the session is too slow
	out        chan frame      // the bounded send queue; only the owner sends
	abort      chan frame      // a close frame that must jump a full queue
	in         chan readResult // reader -> owner
	stop       chan struct{}   // owner -> reader: stop delivering
	readerDone chan struct{}
	writerDone chan struct{}

	actor     visits.Actor
	greeted   bool
	media     *mediaSlot // the room place this session holds, if joined
	clinic    uuid.UUID  // waiting room watched (staff); uuid.Nil: none
	ownClinic uuid.UUID  // the patient's clinic, once an event told us
	lastView  *visits.PatientView
	delivered map[uuid.UUID]bool // patient messages this socket has sent
	refresh   coalescer
	limiter   *rate.Limiter
	bad       int // malformed or unknown messages so far
	overLimit int // consecutive messages refused by the rate limiter
}

func newSession(srv *Server, conn *websocket.Conn, a visits.Actor, creds credentials) *session {
	cfg := srv.cfg
	s := &session{srv: srv, cfg: cfg, conn: conn, creds: creds, actor: a,
		inbox: make(chan any, inboxSize), out: make(chan frame, cfg.SendQueue), abort: make(chan frame, 1), in: make(chan readResult),
		stop: make(chan struct{}), readerDone: make(chan struct{}), writerDone: make(chan struct{}),
		refresh: coalescer{interval: cfg.SnapshotInterval},
		limiter: rate.NewLimiter(rate.Limit(cfg.MsgRate), cfg.MsgBurst)}
	s.log = srv.log.With("ws_session", newSessionID(), "actor_kind", string(a.Kind), "actor_id", a.ID)
	return s
}

// newSessionID names a session in logs: random, not derived from anyone.
func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// role is the session's role as told in the welcome message.
func (s *session) role() string {
	if r := s.actor.PrimaryRole(); r != "" {
		return r
	}
	return "staff"
}

// run starts the reader and writer, owns the session until it ends and then
// tears it down.
func (s *session) run(ctx context.Context) {
	s.log.InfoContext(ctx, "websocket session opened", "role", s.role())
	go s.readLoop()
	go s.writeLoop()
	events, unsubscribe := s.srv.events.Subscribe()
	err := s.loop(ctx, events)
	unsubscribe()
	s.endMedia()
	s.refresh.stop()
	s.finish(err)
}

// send encodes v and queues it without ever blocking: a full queue means
// the client is too slow, which ends the session.
func (s *session) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("signaling: encode %T: %w", v, err)
	}
	select {
	case s.out <- frame{kind: websocket.TextMessage, data: b}:
		return nil
	default:
		return errTooSlow
	}
}

// sendError tells the client about a failed request.
func (s *session) sendError(ref string, ce *clientError) error {
	return s.send(errorMsg{header: hdr("error", ref), Code: ce.code, Message: ce.message})
}

// finish says goodbye as cause requires, waits for the writer to flush,
// gives the peer a moment to answer the close frame and closes the
// connection. It returns when the reader and writer have stopped.
func (s *session) finish(cause error) {
	ce := closeFor(cause)
	answered := false // a close frame went out in order: the peer may answer it
	if ce != nil {
		answered = s.queueClose(ce)
	}
	close(s.out)
	waitFor(s.writerDone, s.cfg.WriteTimeout+closeGrace)
	close(s.stop)
	if answered {
		waitFor(s.readerDone, closeGrace)
	}
	_ = s.conn.Close()
	<-s.writerDone
	<-s.readerDone
	s.logEnd(ce, cause)
}

// queueClose queues session_ended and the close frame, or, when the queue
// is full, hands the close frame to the writer ahead of the queue. It
// reports whether the frame was queued in order.
func (s *session) queueClose(ce *closeError) bool {
	if !ce.quiet {
		_ = s.send(sessionEndedMsg{header: hdr("session_ended", ""), Reason: ce.reason})
	}
	f := frame{kind: websocket.CloseMessage, data: websocket.FormatCloseMessage(ce.code, ce.reason)}
	select {
	case s.out <- f:
		return true
	default:
		s.abort <- f // buffered 1 and used once
		return false
	}
}

func (s *session) logEnd(ce *closeError, cause error) {
	if ce != nil {
		lvl := slog.LevelInfo
		if ce.code == CloseInternal {
			lvl = slog.LevelError
		}
		s.log.Log(context.Background(), lvl, "websocket session closed", "code", ce.code, "reason", ce.reason, "err", cause)
		return
	}
	s.log.Info("websocket session closed by the peer or the network", "cause", describeLost(cause))
}

// describeLost names a lost connection without repeating text the peer
// chose (a close frame's reason could be anything).
func describeLost(err error) string {
	var ce *websocket.CloseError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &ce):
		return fmt.Sprintf("peer closed with %d", ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Sprintf("message too large (closed with %d)", CloseTooLarge)
	}
	return err.Error()
}

func waitFor(ch <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}
