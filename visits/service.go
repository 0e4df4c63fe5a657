package visits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/sealbox"
)

// Config configures the visit service.
type Config struct {
	// PublicURL is the base of the links patients open, e.g.
	// https://visits.example.org. Required.
	PublicURL string
	// LinkGrace extends a link past the end of the visit window.
	LinkGrace time.Duration
	// PatientSessionTTL bounds a patient session; it also ends an hour after
	// the visit window. Default 4h.
	PatientSessionTTL time.Duration
	// MaxCheckAttempts wrong answers lock a link. Default 5.
	MaxCheckAttempts int
}

func (c *Config) validate() error {
	if c.PublicURL == "" {
		return errors.New("visits: PublicURL is required")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("visits: PublicURL must be an absolute http(s) URL")
	}
	if c.PatientSessionTTL == 0 {
		c.PatientSessionTTL = 4 * time.Hour
	}
	if c.MaxCheckAttempts == 0 {
		c.MaxCheckAttempts = 5
	}
	if c.LinkGrace < 0 || c.PatientSessionTTL < time.Minute || c.MaxCheckAttempts < 1 {
		return errors.New("visits: LinkGrace, PatientSessionTTL or MaxCheckAttempts out of range")
	}
	return nil
}

// Service is the visits and waiting-room service.
type Service struct {
	cfg  Config
	pool *pgxpool.Pool
	keys *sealbox.Keyring
	log  *slog.Logger
	now  func() time.Time

	ehrEndpoints map[string]bool // EHR endpoint names of the configuration (SetEHREndpoints)

	onAdmitted func(wait time.Duration) // metrics hook (OnAdmitted); nil: none
}

// NewService checks cfg and returns a service on pool. keys seals PHI columns.
func NewService(cfg Config, pool *pgxpool.Pool, keys *sealbox.Keyring, log *slog.Logger) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if pool == nil || keys == nil || log == nil {
		return nil, errors.New("visits: pool, keys and logger are required")
	}
	return &Service{cfg: cfg, pool: pool, keys: keys, log: log, now: time.Now}, nil
}

// Pool is the service's database pool (for health checks and workers).
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// Keys is the key ring that seals PHI columns.
func (s *Service) Keys() *sealbox.Keyring { return s.keys }

// SetClock replaces the clock; tests use it to move time.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// inTx runs fn in a transaction and commits it when fn returns nil or an
// error made by commitWith.
func (s *Service) inTx(ctx context.Context, step string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("visits: %s: begin: %w", step, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	ferr := fn(tx)
	var kept committedError
	if ferr != nil && !errors.As(ferr, &kept) {
		if isTyped(ferr) {
			return ferr
		}
		return fmt.Errorf("visits: %s: %w", step, ferr)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("visits: %s: commit: %w", step, err)
	}
	return ferr
}

// isTyped reports whether err is one of ours and should reach the edge as is.
func isTyped(err error) bool {
	for _, t := range []error{ErrNotFound, ErrForbidden, ErrUnauthorized, ErrConflict, ErrInvalid,
		ErrLinkExpired, ErrLinkRevoked, ErrLinkLocked, ErrWrongAnswer, ErrRateLimited, ErrSessionEnded} {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// deny records a refused attempt in its own transaction and returns err.
func (s *Service) deny(ctx context.Context, a Actor, ev AuditEvent, err error) error {
	ev.Outcome = OutcomeDenied
	if aerr := AuditAlone(ctx, s.pool, a, ev); aerr != nil {
		s.log.ErrorContext(ctx, "audit of a denied attempt failed", "action", ev.Action, "err", aerr)
	}
	return err
}
