package visits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits/ehr"
)

// What the worker reads from the database at delivery time. PHI (the
// patient's EHR id, the note text) is unsealed here and goes nowhere but
// into the resource sent to the EHR.

// ehrDataError is a job that cannot be delivered until someone fixes our
// data or settings (a visit without the patient's EHR id, a signer without
// a Practitioner id): permanent, safe to show (no PHI).
type ehrDataError struct{ reason string }

func (e *ehrDataError) Error() string { return "ehr job: " + e.reason }

func dataError(reason string) error { return &ehrDataError{reason: reason} }

// ehrTarget is where and how a job is written.
type ehrTarget struct {
	profile  EHRProfile
	endpoint string
	client   *ehr.Client
	system   string // identifier system URI
}

func (w *EHRWorker) target(ctx context.Context, clinic uuid.UUID) (ehrTarget, error) {
	var t ehrTarget
	err := w.svc.pool.QueryRow(ctx, "SELECT profile, endpoint, identifier_system FROM clinic_ehr WHERE clinic_id = $1",
		clinic).Scan(&t.profile, &t.endpoint, &t.system)
	if errors.Is(err, pgx.ErrNoRows) || t.profile == EHRNone {
		return t, dataError("the clinic has no EHR profile")
	}
	if err != nil {
		return t, fmt.Errorf("read clinic EHR profile: %w", err)
	}
	if t.client = w.cfg.Endpoints[t.endpoint]; t.client == nil {
		return t, dataError("EHR endpoint " + strconv.Quote(t.endpoint) + " is not configured in this process")
	}
	return t, nil
}

// patientRef is "Patient/<id>" from the visit's sealed EHR patient id.
func (w *EHRWorker) patientRef(ctx context.Context, visit uuid.UUID) (string, error) {
	id, err := w.sealedVisitColumn(ctx, visit, "ehr_patient_id")
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", dataError("the visit has no EHR patient id")
	}
	return "Patient/" + id, nil
}

// sealedVisitColumn opens visits.<column>_enc of visit ("" when NULL).
func (w *EHRWorker) sealedVisitColumn(ctx context.Context, visit uuid.UUID, column string) (string, error) {
	var sealed []byte
	q := "SELECT " + column + "_enc FROM visits WHERE id = $1" // column is a constant of ours
	if err := w.svc.pool.QueryRow(ctx, q, visit).Scan(&sealed); err != nil {
		return "", fmt.Errorf("read visit %s: %w", column, err)
	}
	return w.svc.open(visit, column, sealed)
}

// practitioner is "Practitioner/<id>" of a staff member, or "".
func (w *EHRWorker) practitioner(ctx context.Context, staff uuid.UUID) (string, error) {
	var id *string
	err := w.svc.pool.QueryRow(ctx, "SELECT ehr_practitioner_id FROM staff WHERE id = $1", staff).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("read practitioner id: %w", err)
	}
	if id == nil {
		return "", nil
	}
	return "Practitioner/" + *id, nil
}

// encounterInput is the Encounter as of job j: every status job of the
// visit up to j, the patient and the visit's clinicians.
func (w *EHRWorker) encounterInput(ctx context.Context, t ehrTarget, j ehrJob) (ehr.EncounterInput, error) {
	in := ehr.EncounterInput{IdentifierSystem: t.system, VisitID: j.visitID.String()}
	rows, err := w.svc.pool.Query(ctx, `SELECT encounter_status, status_at FROM ehr_jobs
		WHERE visit_id = $1 AND kind = 'encounter_status' AND seq <= $2 ORDER BY seq`, j.visitID, j.seq)
	if err != nil {
		return in, fmt.Errorf("read encounter history: %w", err)
	}
	in.Changes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ehr.StatusChange, error) {
		var c ehr.StatusChange
		err := r.Scan(&c.Status, &c.At)
		return c, err
	})
	if err != nil {
		return in, fmt.Errorf("read encounter history: %w", err)
	}
	if in.Patient, err = w.patientRef(ctx, j.visitID); err != nil {
		return in, err
	}
	in.Practitioners, err = w.visitPractitioners(ctx, j.visitID)
	return in, err
}

// visitPractitioners are the visit's clinician and whoever admitted the
// patient, when they have a Practitioner id.
func (w *EHRWorker) visitPractitioners(ctx context.Context, visit uuid.UUID) ([]string, error) {
	rows, err := w.svc.pool.Query(ctx, `SELECT DISTINCT s.ehr_practitioner_id FROM visits v
		JOIN staff s ON s.id IN (v.clinician_id, v.admitted_by)
		WHERE v.id = $1 AND s.ehr_practitioner_id IS NOT NULL ORDER BY 1`, visit)
	if err != nil {
		return nil, fmt.Errorf("read practitioners: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read practitioners: %w", err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, "Practitioner/"+id)
	}
	return out, nil
}

// signedVersion is what the EHR needs of one signed note version.
type signedVersion struct {
	text       string
	signedBy   uuid.UUID
	signedAt   time.Time
	supersedes *int
}

func (w *EHRWorker) signedVersion(ctx context.Context, visit uuid.UUID, version int) (signedVersion, error) {
	var v signedVersion
	var sealed []byte
	err := w.svc.pool.QueryRow(ctx, `SELECT text_enc, signed_by, signed_at, supersedes FROM note_versions
		WHERE visit_id = $1 AND version = $2`, visit, version).Scan(&sealed, &v.signedBy, &v.signedAt, &v.supersedes)
	if err != nil {
		return v, fmt.Errorf("read note version: %w", err)
	}
	v.text, err = w.svc.openNote(sealed, versionAAD(visit, version))
	return v, err
}

// noteIdentifier is our identifier value of a signed version.
func noteIdentifier(visit uuid.UUID, version int) string {
	return visit.String() + "/note/" + strconv.Itoa(version)
}

// mappedDocument is the DocumentReference id of a version we delivered, or "".
func (w *EHRWorker) mappedDocument(ctx context.Context, visit uuid.UUID, version int) (string, error) {
	var id string
	err := w.svc.pool.QueryRow(ctx, "SELECT document_id FROM ehr_documents WHERE visit_id = $1 AND note_version = $2",
		visit, version).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read document map: %w", err)
	}
	return id, nil
}

// mappedEncounter is the Encounter id we created for visit, or "".
func (w *EHRWorker) mappedEncounter(ctx context.Context, visit uuid.UUID) (string, error) {
	var id string
	err := w.svc.pool.QueryRow(ctx, "SELECT encounter_id FROM ehr_encounters WHERE visit_id = $1", visit).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read encounter map: %w", err)
	}
	return id, nil
}
