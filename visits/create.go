package visits

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NewVisit is what a scheduler gives to create a visit.
type NewVisit struct {
	ClinicID        uuid.UUID  `json:"clinic_id"`
	ClinicianID     *uuid.UUID `json:"clinician_id"` // nil: the clinic's pool
	StartsAt        time.Time  `json:"starts_at"`
	DurationMinutes int        `json:"duration_minutes"`
	Reason          string     `json:"reason"`
	Patient         Patient    `json:"patient"`
	// EHREncounterID is the Encounter the EHR already holds for this visit
	// (clinics with the epic_like EHR profile). Sealed like the patient's
	// EHR id.
	EHREncounterID string `json:"ehr_encounter_id,omitempty"`
}

func (nv *NewVisit) validate(now time.Time) error {
	if nv.ClinicID == uuid.Nil {
		return invalid("clinic_id", "is required")
	}
	if err := nv.Patient.validate(now); err != nil {
		return err
	}
	if err := validateWindow(nv.StartsAt, nv.DurationMinutes, now); err != nil {
		return err
	}
	if nv.EHREncounterID != "" && !fhirID.MatchString(nv.EHREncounterID) {
		return invalid("ehr_encounter_id", "must be a FHIR id (letters, digits, '-' and '.', up to 64)")
	}
	return validText("reason", nv.Reason, 0, 2000)
}

// CreateVisit creates a scheduled visit.
func (s *Service) CreateVisit(ctx context.Context, a Actor, nv NewVisit) (Visit, error) {
	if err := nv.validate(s.now()); err != nil {
		return Visit{}, err
	}
	ev := AuditEvent{Action: "visit.create", ResourceType: "visit"}
	if !canSchedule(a, nv.ClinicID) {
		return Visit{}, s.deny(ctx, a, ev, ErrForbidden)
	}
	id := uuid.New()
	sp, err := s.sealPatient(id, nv.Patient)
	if err != nil {
		return Visit{}, err
	}
	reason, err := s.seal(id, "reason", nv.Reason)
	if err != nil {
		return Visit{}, err
	}
	var encounter []byte
	if nv.EHREncounterID != "" {
		if encounter, err = s.seal(id, "ehr_encounter_id", nv.EHREncounterID); err != nil {
			return Visit{}, err
		}
	}
	var v Visit
	err = s.inTx(ctx, "create visit", func(tx pgx.Tx) error {
		if err := checkClinic(ctx, tx, nv.ClinicID); err != nil {
			return err
		}
		if err := checkClinician(ctx, tx, nv.ClinicID, nv.ClinicianID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO visits (id, clinic_id, clinician_id, starts_at, duration_minutes,
			patient_name_enc, patient_dob_enc, patient_contact_enc, ehr_patient_id_enc, reason_enc, created_by,
			ehr_encounter_id_enc)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			id, nv.ClinicID, nv.ClinicianID, nv.StartsAt.UTC(), nv.DurationMinutes,
			sp.name, sp.dob, sp.contact, sp.ehrID, reason, a.ID, encounter)
		if err != nil {
			return err
		}
		if v, err = s.loadVisit(ctx, tx, id, canReadClinical(a, nv.ClinicID), false); err != nil {
			return err
		}
		ev.ResourceID, ev.VisitID = id.String(), id
		if err := notifyChange(ctx, tx, v, "visit.created"); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
	return v, err
}

// checkClinic fails unless the clinic exists (admins may name any id).
func checkClinic(ctx context.Context, tx pgx.Tx, clinic uuid.UUID) error {
	var ok bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM clinics WHERE id = $1)", clinic).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return invalid("clinic_id", "is not a known clinic")
	}
	return nil
}

// checkClinician fails unless clinician (when set) is a clinician of clinic.
func checkClinician(ctx context.Context, tx pgx.Tx, clinic uuid.UUID, clinician *uuid.UUID) error {
	if clinician == nil {
		return nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff s JOIN staff_clinics sc ON sc.staff_id = s.id
		WHERE s.id = $1 AND sc.clinic_id = $2 AND 'clinician' = ANY (s.roles) AND s.kind = 'person')`, *clinician, clinic).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return invalid("clinician_id", "is not a clinician of this clinic")
	}
	return nil
}

// loadVisit reads one visit inside tx, optionally locking its row.
func (s *Service) loadVisit(ctx context.Context, tx pgx.Tx, id uuid.UUID, clinical, lock bool) (Visit, error) {
	q := "SELECT " + visitColumns + visitFrom + " WHERE v.id = $1"
	if lock {
		q += " FOR UPDATE OF v"
	}
	v, err := s.scanVisit(tx.QueryRow(ctx, q, id), clinical)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}
