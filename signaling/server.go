package signaling

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/televisit/televisit/sfu"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/visits"
)

// Server accepts WebSocket sessions at /ws.
type Server struct {
	cfg      Config
	origins  map[string]bool
	auth     Authenticator
	visits   Visits
	events   Events
	log      *slog.Logger
	upgrader websocket.Upgrader
	handlers map[string]handler
	msgs     msgCounters    // received messages by type (see stats.go)
	moved    movedCounters  // moved messages sent, by reason
	media    *mediaHub      // nil until EnableMedia
	rec      *recordingGlue // nil until EnableRecording
	placer   Placer         // nil: every room is local (see EnablePlacement)

	mu       sync.Mutex
	sessions map[*session]context.CancelCauseFunc
	closing  bool
	left     chan struct{} // a session left (buffered 1; wakes Shutdown)
}

// NewServer checks cfg and returns a server. auth, v, ev and log are
// required.
func NewServer(cfg Config, auth Authenticator, v Visits, ev Events, log *slog.Logger) (*Server, error) {
	cfg.AllowedOrigins = append([]string(nil), cfg.AllowedOrigins...)
	origins, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if auth == nil || v == nil || ev == nil || log == nil {
		return nil, errors.New("signaling: authenticator, visits, events and logger are required")
	}
	s := &Server{cfg: cfg, origins: origins, auth: auth, visits: v, events: ev, log: log,
		handlers: newHandlers(), sessions: map[*session]context.CancelCauseFunc{}, left: make(chan struct{}, 1)}
	s.msgs = newMsgCounters(s.handlers)
	s.moved = newMovedCounters()
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteTimeout,
		CheckOrigin:      s.originAllowed,
	}
	return s, nil
}

// originAllowed: the request carries an Origin header that is exactly one
// of the allowed origins.
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Values("Origin")
	return len(o) == 1 && s.origins[strings.ToLower(o[0])]
}

// ServeHTTP checks the Origin and the caller before upgrading, then runs the
// session until it ends. Mount it at /ws.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if s.isClosing() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	actor, err := s.authenticate(r)
	if err != nil {
		status := httpStatus(err)
		if status == http.StatusInternalServerError {
			s.log.ErrorContext(r.Context(), "websocket authentication failed", "err", err)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the request
	}
	sess := newSession(s, conn, actor, credentialsOf(r))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s.register(sess, cancel)
	defer s.unregister(sess)
	sess.run(ctx)
}

// authenticate accepts patients and guests with a visit, and staff; anyone
// else is unauthorised.
func (s *Server) authenticate(r *http.Request) (visits.Actor, error) {
	a, err := s.auth.Authenticate(r)
	if err != nil {
		return a, err
	}
	switch {
	case (a.Kind == visits.ActorPatient || a.Kind == visits.ActorGuest) && a.VisitID != uuid.Nil:
	case a.IsStaff() && a.ID != "":
	default:
		return visits.Actor{}, visits.ErrUnauthorized
	}
	return a, nil
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// register records a running session; one that arrives while the server is
// shutting down is told to go away at once.
func (s *Server) register(sess *session, cancel context.CancelCauseFunc) {
	s.mu.Lock()
	s.sessions[sess] = cancel
	closing := s.closing
	s.mu.Unlock()
	if closing {
		cancel(errShutdown)
	}
}

func (s *Server) unregister(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	select {
	case s.left <- struct{}{}:
	default:
	}
}

// sessionCount is the number of running sessions.
func (s *Server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown refuses new sessions, tells every session to close with
// CloseGoingAway (after a session_ended message) and waits until they have.
// When ctx ends first it drops the remaining connections and returns
// ctx's error. Call it before http.Server.Shutdown, which does not track
// upgraded connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	cancels := make([]context.CancelCauseFunc, 0, len(s.sessions))
	for _, c := range s.sessions {
		cancels = append(cancels, c)
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c(errShutdown)
	}
	for s.sessionCount() > 0 {
		select {
		case <-s.left:
		case <-ctx.Done():
			s.dropAll()
			s.closeMedia()
			return ctx.Err()
		}
	}
	s.closeMedia()
	return nil
}

// closeMedia ends every PeerConnection this server holds; the SFU itself
// belongs to the caller.
func (s *Server) closeMedia() {
	if s.media != nil {
		s.media.close()
	}
}

// dropAll closes every remaining connection without a close frame.
func (s *Server) dropAll() {
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.sessions))
	for sess := range s.sessions {
		conns = append(conns, sess.conn)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// EnableMedia lets admitted participants join their visit's room on m.
// granter is the visits service's admission gate. Call it before serving.
func (s *Server) EnableMedia(m *sfu.SFU, granter MediaGranter) {
	s.media = newMediaHub(m, granter, s.cfg.ResumeGrace, s.log.With("part", "media"))
	s.media.placer = s.placer
}
