package visits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Claiming and marking EHR jobs. Each statement is a single autocommit
// statement (or, for a delivery, one short transaction with its audit
// event): no row lock is held while the EHR is called.

// sqlClaimEHR leases up to $1 deliverable jobs for $2 microseconds and
// counts the attempt. A job is deliverable when it is pending and due, or
// in flight with a lapsed lease (its worker died or lost its database), and
// every earlier job of its visit was delivered: a visit's jobs go out in
// order, and a failed job holds back its visit's later jobs until it is
// retried. SKIP LOCKED lets several processes claim disjoint jobs.
const sqlClaimEHR = `UPDATE ehr_jobs j
SET state = 'in_flight', attempts = j.attempts + 1, updated_at = now(),
    lease_until = now() + $2::bigint * interval '1 microsecond'
FROM (
    SELECT c.id FROM ehr_jobs c
    WHERE ((c.state = 'pending' AND c.next_attempt_at <= now())
           OR (c.state = 'in_flight' AND c.lease_until <= now()))
      AND NOT EXISTS (SELECT 1 FROM ehr_jobs p
                      WHERE p.visit_id = c.visit_id AND p.seq < c.seq AND p.state <> 'delivered')
    ORDER BY c.next_attempt_at, c.id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE j.id = due.id
RETURNING j.id, j.visit_id, j.clinic_id, j.seq, j.kind, coalesce(j.encounter_status, ''),
    j.note_version, j.supersedes, j.attempts`

// The marks are fenced on (id, attempts, in_flight): attempts identifies
// the lease, so a worker whose lease lapsed cannot overwrite its successor.
const (
	sqlMarkDelivered = `UPDATE ehr_jobs
SET state = 'delivered', lease_until = NULL, delivered_at = now(), updated_at = now(),
    last_error = '', outcome_enc = NULL, fhir_ref = $3, fhir_version = $4
WHERE id = $1 AND attempts = $2 AND state = 'in_flight'`
	sqlMarkRetry = `UPDATE ehr_jobs
SET state = 'pending', lease_until = NULL, updated_at = now(),
    next_attempt_at = now() + $3::bigint * interval '1 microsecond', last_error = $4, outcome_enc = $5
WHERE id = $1 AND attempts = $2 AND state = 'in_flight'`
	sqlMarkFailed = `UPDATE ehr_jobs
SET state = 'failed', lease_until = NULL, updated_at = now(), last_error = $3, outcome_enc = $4
WHERE id = $1 AND attempts = $2 AND state = 'in_flight'`
	// sqlReleaseEHR gives a job back at shutdown, due again at once. The
	// attempt stays counted: the next one searches before it writes.
	sqlReleaseEHR = `UPDATE ehr_jobs
SET state = 'pending', lease_until = NULL, next_attempt_at = now(), updated_at = now()
WHERE id = $1 AND attempts = $2 AND state = 'in_flight'`
)

// ehrJob is one leased job.
type ehrJob struct {
	id          int64
	visitID     uuid.UUID
	clinicID    uuid.UUID
	seq         int
	kind        EHRJobKind
	status      string // encounter_status jobs
	noteVersion *int
	supersedes  *int
	attempts    int
}

// uncertain reports whether an earlier attempt may have reached the EHR:
// then nothing is created before a search by our identifier.
func (j *ehrJob) uncertain() bool { return j.attempts > 1 }

func (w *EHRWorker) claim(ctx context.Context) ([]ehrJob, error) {
	rows, err := w.svc.pool.Query(ctx, sqlClaimEHR, w.cfg.Batch, w.cfg.Lease.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("claim EHR jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ehrJob, error) {
		var j ehrJob
		err := r.Scan(&j.id, &j.visitID, &j.clinicID, &j.seq, &j.kind, &j.status, &j.noteVersion, &j.supersedes, &j.attempts)
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim EHR jobs: %w", err)
	}
	return out, nil
}

// mark runs one fenced update; held is false when the lease was lost.
func (w *EHRWorker) mark(ctx context.Context, step, sql string, args ...any) (held bool, err error) {
	tag, err := w.svc.pool.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("mark EHR job %s: %w", step, err)
	}
	return tag.RowsAffected() == 1, nil
}

// delivered records the result, the map of our ids to the EHR's and the
// audit event in one transaction; a lost lease rolls it all back.
func (w *EHRWorker) delivered(ctx context.Context, j ehrJob, r result) (held bool, err error) {
	err = w.svc.inTx(ctx, "record EHR delivery", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sqlMarkDelivered, j.id, j.attempts, r.ref, r.version)
		if err != nil {
			return err
		}
		if held = tag.RowsAffected() == 1; !held {
			return errLeaseLost
		}
		if r.record != nil {
			if err := r.record(tx); err != nil {
				return err
			}
		}
		if r.ref == "" { // nothing was written (an Encounter job of an epic_like clinic)
			return nil
		}
		return Audit(ctx, tx, SystemActor("ehr-worker"), w.auditEvent(j, r.ref, ""))
	})
	if errors.Is(err, errLeaseLost) {
		return false, nil
	}
	return held, err
}

var errLeaseLost = errors.New("lease lost")

// auditEvent is the audit record of an EHR write: PHI left the system. It
// names the job, the kind and the resource, never its content.
func (w *EHRWorker) auditEvent(j ehrJob, ref string, outcome Outcome) AuditEvent {
	d := map[string]any{"job": j.id, "kind": string(j.kind), "attempt": j.attempts}
	if ref != "" {
		d["fhir_ref"] = ref
	}
	if j.noteVersion != nil {
		d["note_version"] = *j.noteVersion
	}
	return AuditEvent{Action: "ehr.write", ResourceType: "ehr_job", ResourceID: fmt.Sprint(j.id),
		VisitID: j.visitID, Outcome: outcome, Detail: d}
}

// leaseLeft is how long the job's lease still runs, with a margin for the
// final mark.
func (w *EHRWorker) leaseLeft(start time.Time) time.Duration {
	return w.cfg.Lease - time.Since(start) - w.cfg.Lease/10
}
