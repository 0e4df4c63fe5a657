package visits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EHRIssue is one issue of the OperationOutcome the EHR answered a failed
// attempt with. Diagnostics is the EHR's text and may echo submitted
// values: it is stored sealed and shown to admins only.
type EHRIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// EHRJob is an EHR write as admins see it.
type EHRJob struct {
	ID              int64       `json:"id"`
	VisitID         uuid.UUID   `json:"visit_id"`
	ClinicID        uuid.UUID   `json:"clinic_id"`
	Seq             int         `json:"seq"`
	Kind            EHRJobKind  `json:"kind"`
	EncounterStatus string      `json:"encounter_status,omitempty"`
	NoteVersion     *int        `json:"note_version,omitempty"`
	State           EHRJobState `json:"state"`
	Attempts        int         `json:"attempts"`
	NextAttemptAt   time.Time   `json:"next_attempt_at"`
	LastError       string      `json:"last_error"`
	Outcome         []EHRIssue  `json:"outcome"` // the EHR's issues of the last failed attempt
	FHIRRef         string      `json:"fhir_ref"`
	FHIRVersion     string      `json:"fhir_version"`
	CreatedAt       time.Time   `json:"created_at"`
	DeliveredAt     *time.Time  `json:"delivered_at"`
}

// EHRJobList is one page of jobs, newest first; NextBefore, when set, is
// the `before` of the next page.
type EHRJobList struct {
	Items      []EHRJob `json:"items"`
	NextBefore *int64   `json:"next_before"`
}

// EHRJobFilter selects jobs. Zero values select everything.
type EHRJobFilter struct {
	State    EHRJobState
	ClinicID uuid.UUID
	Before   int64 // only jobs with a smaller id (paging)
	Limit    int   // 1..500, default 100
}

func (f *EHRJobFilter) normalise() error {
	switch f.State {
	case "", JobPending, JobInFlight, JobDelivered, JobFailed:
	default:
		return invalid("state", "must be pending, in_flight, delivered or failed")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 500 {
		return invalid("limit", "must be between 1 and 500")
	}
	if f.Before < 0 {
		return invalid("before", "must be a job id")
	}
	return nil
}

const ehrJobColumns = `id, visit_id, clinic_id, seq, kind, coalesce(encounter_status, ''), note_version, state,
	attempts, next_attempt_at, last_error, outcome_enc, fhir_ref, fhir_version, created_at, delivered_at`

// ListEHRJobs lists jobs for admins. The read is audited: failed jobs
// carry the EHR's diagnostics.
func (s *Service) ListEHRJobs(ctx context.Context, a Actor, f EHRJobFilter) (EHRJobList, error) {
	out := EHRJobList{Items: []EHRJob{}}
	if err := f.normalise(); err != nil {
		return out, err
	}
	ev := AuditEvent{Action: "ehr.jobs.read", ResourceType: "ehr_job",
		Detail: map[string]any{"state": string(f.State), "clinic_id": f.ClinicID.String(), "before": f.Before}}
	err := s.adminOnly(ctx, a, &ev, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+ehrJobColumns+` FROM ehr_jobs
			WHERE ($1 = '' OR state = $1) AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR clinic_id = $2)
			  AND ($3 = 0 OR id < $3)
			ORDER BY id DESC LIMIT $4`, string(f.State), f.ClinicID, f.Before, f.Limit+1)
		if err != nil {
			return err
		}
		jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EHRJob, error) { return s.scanEHRJob(r) })
		if err != nil {
			return err
		}
		if len(jobs) > f.Limit {
			jobs = jobs[:f.Limit]
			next := jobs[f.Limit-1].ID
			out.NextBefore = &next
		}
		out.Items = append(out.Items, jobs...)
		ev.Detail["count"] = len(jobs)
		return nil
	})
	return out, err
}

func (s *Service) scanEHRJob(r pgx.Row) (EHRJob, error) {
	var j EHRJob
	var sealed []byte
	err := r.Scan(&j.ID, &j.VisitID, &j.ClinicID, &j.Seq, &j.Kind, &j.EncounterStatus, &j.NoteVersion, &j.State,
		&j.Attempts, &j.NextAttemptAt, &j.LastError, &sealed, &j.FHIRRef, &j.FHIRVersion, &j.CreatedAt, &j.DeliveredAt)
	if err != nil {
		return j, fmt.Errorf("read EHR job: %w", err)
	}
	j.Outcome = []EHRIssue{}
	if sealed == nil {
		return j, nil
	}
	raw, err := s.keys.Open(sealed, outcomeAAD(j.ID))
	if err != nil {
		return j, fmt.Errorf("open EHR outcome: %w", err)
	}
	if err := json.Unmarshal(raw, &j.Outcome); err != nil {
		return j, fmt.Errorf("decode EHR outcome: %w", err)
	}
	return j, nil
}

// RetryEHRJob puts a failed job back in the queue, due now; the attempt
// count goes on, so the next attempt searches the EHR before it writes.
func (s *Service) RetryEHRJob(ctx context.Context, a Actor, id int64) (EHRJob, error) {
	ev := AuditEvent{Action: "ehr.job.retry", ResourceType: "ehr_job", ResourceID: fmt.Sprint(id)}
	var out EHRJob
	err := s.adminOnly(ctx, a, &ev, func(tx pgx.Tx) error {
		var state EHRJobState
		err := tx.QueryRow(ctx, "SELECT state, visit_id FROM ehr_jobs WHERE id = $1 FOR UPDATE", id).Scan(&state, &ev.VisitID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if state != JobFailed {
			return conflict("Only a failed job can be retried; this one is " + string(state) + ".")
		}
		row := tx.QueryRow(ctx, `UPDATE ehr_jobs SET state = 'pending', next_attempt_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+ehrJobColumns, id)
		out, err = s.scanEHRJob(row)
		return err
	})
	return out, err
}
