package visits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/televisit/televisit/visits/ehr"
)

// EHRWorkerConfig configures an EHRWorker.
type EHRWorkerConfig struct {
	// Endpoints are the FHIR clients by the endpoint names clinics' EHR
	// profiles refer to (server configuration ehr.endpoints).
	Endpoints map[string]*ehr.Client
	// Lease is how long a claimed job is ours; a worker that dies loses it
	// after this and another worker delivers the job. Default 2m.
	Lease time.Duration
	// Poll is the pause between looks for due jobs when none was found.
	// Default 2s.
	Poll time.Duration
	// RetryBase and RetryMax bound the backoff after a retryable failure:
	// a random delay up to min(RetryMax, RetryBase·2^(attempt-1)), or the
	// EHR's Retry-After when longer. Defaults 5s and 15m.
	RetryBase, RetryMax time.Duration
	// Batch is how many jobs one claim takes (at most one per visit).
	// Default 8.
	Batch int
}

func (c *EHRWorkerConfig) validate() error {
	if c.Lease == 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Poll == 0 {
		c.Poll = 2 * time.Second
	}
	if c.RetryBase == 0 {
		c.RetryBase = 5 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 15 * time.Minute
	}
	if c.Batch == 0 {
		c.Batch = 8
	}
	if c.Lease < time.Second || c.Poll < 0 || c.RetryBase <= 0 || c.RetryMax < c.RetryBase || c.Batch < 1 {
		return errors.New("visits: EHR worker Lease, Poll, RetryBase, RetryMax or Batch out of range")
	}
	return nil
}

// EHRWorker delivers EHR jobs. Several workers, in one process or many,
// may run on one database.
type EHRWorker struct {
	cfg    EHRWorkerConfig
	svc    *Service
	log    *slog.Logger
	jitter func(int64) int64
}

// NewEHRWorker returns a worker that reads PHI through svc at delivery time.
func NewEHRWorker(cfg EHRWorkerConfig, svc *Service, log *slog.Logger) (*EHRWorker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if svc == nil || log == nil {
		return nil, errors.New("visits: EHR worker needs the service and a logger")
	}
	return &EHRWorker{cfg: cfg, svc: svc, log: log, jitter: rand.Int64N}, nil
}

// Run delivers due jobs until ctx ends. Database errors are logged and
// retried after Poll; they never end the loop.
func (w *EHRWorker) Run(ctx context.Context) error {
	return runPolling(ctx, w.cfg.Poll, w.log, "EHR worker round", w.RunOnce)
}

// RunOnce claims one batch and delivers it; n is the number claimed.
func (w *EHRWorker) RunOnce(ctx context.Context) (n int, err error) {
	jobs, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, j := range jobs {
		errs = append(errs, w.run(ctx, j))
	}
	return len(jobs), errors.Join(errs...)
}

// run delivers one job within its lease and records the outcome.
func (w *EHRWorker) run(ctx context.Context, j ehrJob) error {
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, w.leaseLeft(start))
	defer cancel()
	r, err := w.deliver(dctx, j)
	mctx := context.WithoutCancel(ctx)
	if err == nil {
		held, err := w.delivered(mctx, j, r)
		w.logOutcome(ctx, j, held, "delivered", start)
		return err
	}
	if ctx.Err() != nil { // shutting down: give the job back, due at once
		_, rerr := w.mark(mctx, "release", sqlReleaseEHR, j.id, j.attempts)
		return rerr
	}
	return w.failedAttempt(mctx, j, err, start)
}

// failedAttempt schedules a retry or, for a permanent failure, fails the
// job with its PHI-free reason and the sealed OperationOutcome.
func (w *EHRWorker) failedAttempt(ctx context.Context, j ehrJob, cause error, start time.Time) error {
	reason := errorText(cause)
	outcome, err := w.sealOutcome(j.id, cause)
	if err != nil {
		return err
	}
	if retryable(cause) {
		delay := w.backoff(j.attempts, ehr.RetryAfter(cause))
		held, err := w.mark(ctx, "retry", sqlMarkRetry, j.id, j.attempts, delay.Microseconds(), reason, outcome)
		w.logOutcome(ctx, j, held, "retry", start, "delay", delay, "err", reason)
		return err
	}
	held, err := w.mark(ctx, "failed", sqlMarkFailed, j.id, j.attempts, reason, outcome)
	w.logOutcome(ctx, j, held, "failed", start, "err", reason)
	if err != nil || !held {
		return err
	}
	return AuditAlone(ctx, w.svc.pool, SystemActor("ehr-worker"), w.auditEvent(j, "", OutcomeFailure))
}

// retryable: the EHR's transient answers and transport failures, and a
// lapsed delivery deadline; our own missing data and 4xx are permanent.
func retryable(err error) bool {
	return ehr.Retryable(err) || errors.Is(err, context.DeadlineExceeded)
}

// backoff is exponential with full jitter, capped at RetryMax, and never
// shorter than the EHR's Retry-After.
func (w *EHRWorker) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceiling := w.cfg.RetryMax
	if shift := attempt - 1; shift >= 0 && shift < 62 && w.cfg.RetryBase <= w.cfg.RetryMax>>shift {
		ceiling = w.cfg.RetryBase << shift
	}
	d := time.Duration(w.jitter(int64(ceiling) + 1))
	return max(d, retryAfter)
}

// errorText is the PHI-free reason kept in last_error: our errors and the
// ehr package's name the step, the status and issue codes only.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// sealOutcome seals the EHR's OperationOutcome issues, whose diagnostics
// can echo submitted values; nil when the error carries none.
func (w *EHRWorker) sealOutcome(job int64, err error) ([]byte, error) {
	var oe *ehr.OutcomeError
	if !errors.As(err, &oe) || len(oe.Issues) == 0 {
		return nil, nil
	}
	raw, jerr := json.Marshal(oe.Issues)
	if jerr != nil {
		return nil, fmt.Errorf("encode outcome: %w", jerr)
	}
	sealed, serr := w.svc.keys.Seal(raw, outcomeAAD(job))
	if serr != nil {
		return nil, fmt.Errorf("seal outcome: %w", serr)
	}
	return sealed, nil
}

func outcomeAAD(job int64) []byte { return fmt.Appendf(nil, "ehr_jobs/%d/outcome", job) }

func (w *EHRWorker) logOutcome(ctx context.Context, j ehrJob, held bool, what string, start time.Time, kv ...any) {
	args := append([]any{"job", j.id, "kind", string(j.kind), "attempt", j.attempts,
		"lease_held", held, "duration", time.Since(start)}, kv...)
	w.log.InfoContext(ctx, "EHR job "+what, args...)
}
