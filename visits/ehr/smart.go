package ehr

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SMARTBackend authorizes requests with access tokens from the EHR's token
// endpoint (SMART Backend Services: client_credentials with a signed JWT
// assertion). A token is cached until shortly before it expires; concurrent
// requests share one token request. Safe for concurrent use.
type SMARTBackend struct {
	cfg  SMARTConfig
	key  *signingKey
	jwks []byte
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	token    string
	until    time.Time // replace the token from then on
	inflight *tokenCall
}

// tokenCall is one token request that several callers may wait for.
type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// NewSMARTBackend checks cfg and loads the key. httpClient nil means a
// default client; log nil discards.
func NewSMARTBackend(cfg SMARTConfig, httpClient *http.Client, log *slog.Logger) (*SMARTBackend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pemData, err := cfg.keyPEM()
	if err != nil {
		return nil, err
	}
	key, err := parseSigningKey(pemData, cfg.KeyID)
	if err != nil {
		return nil, err
	}
	jwks, err := jwksJSON(key)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = noRedirectClient()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SMARTBackend{cfg: cfg.withDefaults(), key: key, jwks: jwks, http: httpClient, log: log, now: time.Now}, nil
}

// KeyID is the kid of our signing key, as published by JWKSHandler.
func (b *SMARTBackend) KeyID() string { return b.key.kid }

// Authorize sets a bearer access token, fetching one when none is cached.
func (b *SMARTBackend) Authorize(ctx context.Context, req *http.Request) error {
	tok, err := b.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Invalidate forgets the token req carried, after the server refused it.
func (b *SMARTBackend) Invalidate(req *http.Request) {
	tok := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	b.mu.Lock()
	defer b.mu.Unlock()
	if tok != "" && tok == b.token {
		b.token = ""
	}
}

// Token returns a valid access token: the cached one, or the result of the
// token request in flight, or of a new one.
func (b *SMARTBackend) Token(ctx context.Context) (string, error) {
	b.mu.Lock()
	if b.token != "" && b.now().Before(b.until) {
		tok := b.token
		b.mu.Unlock()
		return tok, nil
	}
	call := b.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		b.inflight = call
		go b.refresh(call)
	}
	b.mu.Unlock()
	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// refresh runs one token request on its own deadline, so that a caller
// giving up does not fail the others waiting for it.
func (b *SMARTBackend) refresh(call *tokenCall) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	defer cancel()
	started := b.now()
	tok, ttl, err := b.requestToken(ctx)
	b.mu.Lock()
	if err == nil {
		b.token, b.until = tok, started.Add(ttl-min(b.cfg.RefreshBefore, ttl/2))
	}
	b.inflight = nil
	b.mu.Unlock()
	call.token, call.err = tok, err
	close(call.done)
	if err != nil {
		b.log.Warn("ehr: SMART token request failed", "err", err)
		return
	}
	b.log.Debug("ehr: SMART token obtained", "expires_in", ttl)
}
