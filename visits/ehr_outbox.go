package visits

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The EHR writeback is a transactional outbox (ARCHITECTURE.md rule 9): a
// visit's state change and a note's signature, amendment or retraction
// insert their EHR job (table ehr_jobs) in the same transaction, and
// EHRWorker delivers the jobs over FHIR R4, in order per visit.

// EHRProfile says how a clinic's EHR is written.
type EHRProfile string

// EHR profiles.
const (
	EHRNone     EHRProfile = "none"      // no writeback
	EHRGeneric  EHRProfile = "generic"   // we create and update the Encounter
	EHREpicLike EHRProfile = "epic_like" // the Encounter exists; notes only; no trust in If-None-Exist
)

// EHRJobKind is what a job writes.
type EHRJobKind string

// Job kinds.
const (
	JobEncounterStatus EHRJobKind = "encounter_status"
	JobNoteCreate      EHRJobKind = "note_create"
	JobNoteAmend       EHRJobKind = "note_amend"
	JobNoteRetract     EHRJobKind = "note_retract"
)

// EHRJobState is where a job stands.
type EHRJobState string

// Job states.
const (
	JobPending   EHRJobState = "pending"
	JobInFlight  EHRJobState = "in_flight"
	JobDelivered EHRJobState = "delivered"
	JobFailed    EHRJobState = "failed"
)

// encounterStatusOf maps a visit state to the FHIR R4 Encounter.status
// (value set encounter-status) the EHR shows. A scheduled visit has no
// job (its Encounter would be "planned", which the EHR's schedule already
// knows); no_show maps to cancelled: R4 has no no-show Encounter status
// (noshow exists only for Appointment), and cancelled is what EHRs use for
// an encounter that never took place.
func encounterStatusOf(s Status) (string, bool) {
	switch s {
	case StatusWaiting:
		return "arrived", true
	case StatusInProgress:
		return "in-progress", true
	case StatusCompleted:
		return "finished", true
	case StatusCancelled, StatusNoShow:
		return "cancelled", true
	}
	return "", false
}

// clinicProfile reads a clinic's EHR profile; none when it has none.
func clinicProfile(ctx context.Context, tx pgx.Tx, clinic uuid.UUID) (EHRProfile, error) {
	var p EHRProfile
	err := tx.QueryRow(ctx, "SELECT profile FROM clinic_ehr WHERE clinic_id = $1", clinic).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return EHRNone, nil
	}
	if err != nil {
		return "", fmt.Errorf("read clinic EHR profile: %w", err)
	}
	return p, nil
}

// encounterOutboxHook queues the Encounter status job of a visit state
// change, inside apply's transaction. Only the generic profile writes the
// Encounter.
func encounterOutboxHook(ctx context.Context, tx pgx.Tx, v Visit, from Status) error {
	status, ok := encounterStatusOf(v.Status)
	if !ok || v.Status == from {
		return nil
	}
	p, err := clinicProfile(ctx, tx, v.ClinicID)
	if err != nil || p != EHRGeneric {
		return err
	}
	return insertEncounterJob(ctx, tx, v.ID, v.ClinicID, status)
}

func insertEncounterJob(ctx context.Context, tx pgx.Tx, visit, clinic uuid.UUID, status string) error {
	_, err := tx.Exec(ctx, `INSERT INTO ehr_jobs (visit_id, clinic_id, seq, kind, encounter_status, status_at)
		VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM ehr_jobs WHERE visit_id = $1),
			'encounter_status', $3, now())`, visit, clinic, status)
	if err != nil {
		return fmt.Errorf("queue EHR encounter job: %w", err)
	}
	return nil
}

// queueNoteJob inserts the job of a note change. With the generic profile
// a visit without an Encounter job yet (its clinic got an EHR after the
// visit began) first gets one for its current state, so that the note has
// an Encounter to point at.
func queueNoteJob(ctx context.Context, tx pgx.Tx, c NoteChange) error {
	var clinic uuid.UUID
	var status Status
	if err := tx.QueryRow(ctx, "SELECT clinic_id, status FROM visits WHERE id = $1", c.VisitID).Scan(&clinic, &status); err != nil {
		return fmt.Errorf("queue EHR note job: %w", err)
	}
	p, err := clinicProfile(ctx, tx, clinic)
	if err != nil || p == EHRNone {
		return err
	}
	if p == EHRGeneric {
		if err := ensureEncounterJob(ctx, tx, c.VisitID, clinic, status); err != nil {
			return err
		}
	}
	kind := map[NoteChangeKind]EHRJobKind{NoteSigned: JobNoteCreate, NoteAmendedEvent: JobNoteAmend, NoteRetracted: JobNoteRetract}[c.Kind]
	if kind == "" {
		return fmt.Errorf("queue EHR note job: unknown change %q", c.Kind)
	}
	_, err = tx.Exec(ctx, `INSERT INTO ehr_jobs (visit_id, clinic_id, seq, kind, note_version, supersedes)
		VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM ehr_jobs WHERE visit_id = $1), $3, $4, $5)`,
		c.VisitID, clinic, string(kind), c.Version, c.Supersedes)
	if err != nil {
		return fmt.Errorf("queue EHR note job: %w", err)
	}
	return nil
}

func ensureEncounterJob(ctx context.Context, tx pgx.Tx, visit, clinic uuid.UUID, status Status) error {
	var has bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ehr_jobs WHERE visit_id = $1 AND kind = 'encounter_status')`,
		visit).Scan(&has)
	if err != nil {
		return fmt.Errorf("queue EHR note job: %w", err)
	}
	fhir, ok := encounterStatusOf(status)
	if has || !ok {
		return nil
	}
	return insertEncounterJob(ctx, tx, visit, clinic, fhir)
}
