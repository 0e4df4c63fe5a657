package devoidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	authRequestTTL = 10 * time.Minute
	maxPending     = 10000 // pending auth requests or live tokens kept in memory
)

var errNotFound = errors.New("devoidc: not found")

// storage is the in-memory op.Storage. Users, clients and the key are fixed
// at start; auth requests, codes and tokens live under mu.
type storage struct {
	cfg     *Config
	users   map[string]*User // by subject
	byName  map[string]*User // by username
	clients map[string]*opClient
	key     *signingKey
	logout  string // absolute URL of the signed-out page

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> auth request id
	tokens   map[string]*accessToken
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func newStorage(cfg *Config, key *signingKey, loginPath, logoutURL string) *storage {
	s := &storage{
		cfg: cfg, key: key, logout: logoutURL,
		users: map[string]*User{}, byName: map[string]*User{}, clients: map[string]*opClient{},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]*accessToken{},
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		s.users[u.Subject], s.byName[u.Username] = u, u
	}
	for i := range cfg.Clients {
		c := &cfg.Clients[i]
		s.clients[c.ID] = &opClient{c: c, loginURL: loginPath}
	}
	return s
}

func (s *storage) Health(context.Context) error { return nil }

// CreateAuthRequest stores a validated authorization request. PKCE with
// S256 is required of every client.
func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if len(s.requests) >= maxPending {
		return nil, oidc.ErrServerError().WithDescription("too many pending sign-ins")
	}
	a := newAuthRequest(RandomSecret(), r, now)
	s.requests[a.id] = a
	return a.clone(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || time.Since(a.created) > authRequestTTL {
		return nil, errNotFound
	}
	return a.clone(), nil
}

// AuthRequestByCode consumes the code: a code works once, even when the
// exchange then fails.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound
	}
	delete(s.codes, code)
	a, ok := s.requests[id]
	if !ok || !a.done || time.Since(a.created) > authRequestTTL {
		return nil, errNotFound
	}
	return a.clone(), nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || !a.done || a.coded {
		return errNotFound
	}
	a.coded = true
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteRequestLocked(id)
	return nil
}

func (s *storage) deleteRequestLocked(id string) {
	delete(s.requests, id)
	for c, rid := range s.codes {
		if rid == id {
			delete(s.codes, c)
		}
	}
}

// pruneLocked drops expired auth requests and tokens.
func (s *storage) pruneLocked(now time.Time) {
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestTTL {
			s.deleteRequestLocked(id)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// checkPassword returns the user when username and password match.
func (s *storage) checkPassword(username, password string) (*User, bool) {
	u, ok := s.byName[username]
	if !ok {
		// Compare anyway so that timing does not reveal which names exist.
		subtle.ConstantTimeCompare([]byte(password), []byte(password+"x"))
		return nil, false
	}
	return u, subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) == 1
}

// completeLogin marks auth request id as signed in by u. It fails when the
// request is unknown, expired or already signed in.
func (s *storage) completeLogin(id string, u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || a.done || time.Since(a.created) > authRequestTTL {
		return errNotFound
	}
	a.subject, a.authTime, a.amr, a.done = u.Subject, time.Now(), amrFor(u), true
	return nil
}

// pendingRequest reports whether id names an auth request waiting for a
// sign-in.
func (s *storage) pendingRequest(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	return ok && !a.done && time.Since(a.created) <= authRequestTTL
}

// TerminateSessionFromRequest ends nothing (the provider keeps no browser
// session: every sign-in shows the login page) and sends the browser on.
func (s *storage) TerminateSessionFromRequest(_ context.Context, r *op.EndSessionRequest) (string, error) {
	if r.RedirectURI == "" {
		return s.logout, nil
	}
	return r.RedirectURI, nil
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }
