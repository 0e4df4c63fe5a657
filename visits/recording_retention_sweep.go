package visits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RetentionSweeperConfig configures a RetentionSweeper. Zero values take
// defaults.
type RetentionSweeperConfig struct {
	// Lease is how long a claimed object is ours; a sweeper that dies loses
	// it after this and another one takes it. Default 2m.
	Lease time.Duration
	// Poll is the pause between rounds that found nothing. Default 1m.
	Poll time.Duration
	// Batch is how many objects one claim takes. Default 16.
	Batch int
}

func (c *RetentionSweeperConfig) validate() error {
	if c.Lease == 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Poll == 0 {
		c.Poll = time.Minute
	}
	if c.Batch == 0 {
		c.Batch = 16
	}
	if c.Lease < time.Second || c.Poll < 0 || c.Batch < 1 {
		return errors.New("visits: retention sweeper Lease, Poll or Batch out of range")
	}
	return nil
}

// RetentionSweeper deletes recording objects whose retention has ended:
// the store deletes every version (it refuses while the lock holds, and
// then nothing is marked), the row is marked deleted and the deletion is
// audited as recording.delete. Several sweepers, in one process or many,
// may run on one database: each claims objects with a lease.
type RetentionSweeper struct {
	cfg RetentionSweeperConfig
	rec *Recordings
	log *slog.Logger
	now func() time.Time
}

// NewRetentionSweeper returns a sweeper over rec's object store.
func NewRetentionSweeper(cfg RetentionSweeperConfig, rec *Recordings, log *slog.Logger) (*RetentionSweeper, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rec == nil || rec.objects == nil || log == nil {
		return nil, errors.New("visits: retention sweeper needs recordings with an object store and a logger")
	}
	return &RetentionSweeper{cfg: cfg, rec: rec, log: log, now: time.Now}, nil
}

// SetClock replaces the clock that decides whether retention has ended
// (tests move it; the store still enforces its own clock).
func (w *RetentionSweeper) SetClock(now func() time.Time) { w.now = now }

// Run sweeps until ctx ends. Errors are logged and retried after Poll.
func (w *RetentionSweeper) Run(ctx context.Context) error {
	return runPolling(ctx, w.cfg.Poll, w.log, "retention sweep", w.RunOnce)
}

// refusedRecheck is how long an object the store refused to delete, past
// its retain-until date (a legal hold), is left before the next attempt.
const refusedRecheck = 24 * time.Hour

// sweepObject is one claimed object.
type sweepObject struct {
	id, recording, visit, clinic uuid.UUID
	key                          string
	storedAt                     time.Time
	retainUntil                  *time.Time
}

// RunOnce claims one batch and handles it; n is the number claimed.
func (w *RetentionSweeper) RunOnce(ctx context.Context) (n int, err error) {
	objs, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, o := range objs {
		errs = append(errs, w.sweep(ctx, o))
	}
	return len(objs), errors.Join(errs...)
}

const sqlClaimSweep = `UPDATE recording_objects o SET lease_until = $1::timestamptz + $2 * interval '1 microsecond'
	FROM recordings r JOIN visits v ON v.id = r.visit_id
	WHERE r.id = o.recording_id AND o.id IN (
		SELECT id FROM recording_objects
		WHERE state = 'stored' AND deleted_at IS NULL
		  AND (retain_until IS NULL OR retain_until <= $1)
		  AND (lease_until IS NULL OR lease_until < $1)
		ORDER BY retain_until NULLS FIRST, id LIMIT $3 FOR UPDATE SKIP LOCKED)
	RETURNING o.id, o.recording_id, r.visit_id, v.clinic_id, o.object_key, o.stored_at, o.retain_until`

func (w *RetentionSweeper) claim(ctx context.Context) ([]sweepObject, error) {
	rows, err := w.rec.svc.pool.Query(ctx, sqlClaimSweep, w.now(), w.cfg.Lease.Microseconds(), w.cfg.Batch)
	if err != nil {
		return nil, fmt.Errorf("visits: claim recording objects: %w", err)
	}
	objs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sweepObject, error) {
		var o sweepObject
		err := row.Scan(&o.id, &o.recording, &o.visit, &o.clinic, &o.key, &o.storedAt, &o.retainUntil)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("visits: claim recording objects: %w", err)
	}
	return objs, nil
}

// sweep deletes one claimed object if its retention has ended, else
// records its retain-until date and gives it back.
func (w *RetentionSweeper) sweep(ctx context.Context, o sweepObject) error {
	if o.retainUntil == nil {
		until, err := w.rec.objects.RetainUntil(ctx, o.key)
		if errors.Is(err, ErrNotFound) {
			return w.deleted(ctx, o, "missing")
		}
		if err != nil {
			return w.release(ctx, o, nil, fmt.Errorf("visits: retention of object %s: %w", o.id, err))
		}
		if until.IsZero() { // not locked in the store: keep it as long as the clinic's policy says
			if until, err = w.policyUntil(ctx, o); err != nil {
				return w.release(ctx, o, nil, err)
			}
		}
		o.retainUntil = &until
	}
	if o.retainUntil.After(w.now()) {
		return w.release(ctx, o, o.retainUntil, nil)
	}
	err := w.rec.objects.Delete(ctx, o.key)
	switch {
	case err == nil:
		return w.deleted(ctx, o, "expired")
	case errors.Is(err, ErrNotFound):
		return w.deleted(ctx, o, "missing")
	case errors.Is(err, ErrRecordingRetained):
		return w.refused(ctx, o)
	}
	return w.release(ctx, o, o.retainUntil, fmt.Errorf("visits: delete object %s: %w", o.id, err))
}

// refused: the store still holds the lock (its clock, or a lock extended
// there). Learn the store's date, give the object back, record the attempt.
func (w *RetentionSweeper) refused(ctx context.Context, o sweepObject) error {
	w.log.WarnContext(ctx, "store refused to delete a recording object under retention", "object", o.id)
	until, err := w.rec.objects.RetainUntil(ctx, o.key)
	if err != nil || until.IsZero() {
		until = *o.retainUntil
	}
	if !until.After(w.now()) { // a legal hold, or clocks apart: look again in a day
		until = w.now().Add(refusedRecheck)
	}
	ev := w.event(o, OutcomeFailure)
	ev.Detail["reason"] = "retained_by_store"
	if aerr := AuditAlone(ctx, w.rec.svc.pool, SystemActor("retention-sweeper"), ev); aerr != nil {
		w.log.ErrorContext(ctx, "audit of a refused deletion failed", "object", o.id, "err", aerr)
	}
	return w.release(ctx, o, &until, nil)
}

func (w *RetentionSweeper) event(o sweepObject, outcome Outcome) AuditEvent {
	return AuditEvent{Action: "recording.delete", ResourceType: "recording_object", ResourceID: o.id.String(),
		VisitID: o.visit, Outcome: outcome, Detail: map[string]any{"recording_id": o.recording.String()}}
}

// release gives a claimed object back, with its retain-until date when
// known, and returns cause.
func (w *RetentionSweeper) release(ctx context.Context, o sweepObject, until *time.Time, cause error) error {
	_, err := w.rec.svc.pool.Exec(context.WithoutCancel(ctx), `UPDATE recording_objects
		SET lease_until = NULL, retain_until = COALESCE($2, retain_until) WHERE id = $1`, o.id, until)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("visits: release recording object: %w", err))
	}
	return cause
}

// deleted marks the object deleted and audits recording.delete in one
// transaction.
func (w *RetentionSweeper) deleted(ctx context.Context, o sweepObject, why string) error {
	ctx = context.WithoutCancel(ctx)
	ev := w.event(o, OutcomeSuccess)
	ev.Detail["reason"] = why
	if o.retainUntil != nil {
		ev.Detail["retain_until"] = o.retainUntil.UTC().Format(time.RFC3339)
	}
	err := w.rec.svc.inTx(ctx, "recording.delete", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE recording_objects SET deleted_at = $2, lease_until = NULL,
			retain_until = COALESCE(retain_until, $3) WHERE id = $1 AND deleted_at IS NULL`,
			o.id, w.now().UTC(), o.retainUntil)
		if err != nil || tag.RowsAffected() == 0 { // another sweeper, whose lease ran out, won
			return err
		}
		return Audit(ctx, tx, SystemActor("retention-sweeper"), ev)
	})
	if err == nil {
		w.log.InfoContext(ctx, "recording object deleted after retention", "object", o.id, "reason", why)
	}
	return err
}

// policyUntil is when the clinic's retention policy ends for an object the
// store holds without a lock: never earlier than the policy says.
func (w *RetentionSweeper) policyUntil(ctx context.Context, o sweepObject) (time.Time, error) {
	w.log.WarnContext(ctx, "recording object has no retention in the store; applying the clinic policy", "object", o.id)
	_, days, err := w.rec.RecordingRetention(ctx, o.clinic)
	if err != nil {
		return time.Time{}, err
	}
	return o.storedAt.AddDate(0, 0, days), nil
}
