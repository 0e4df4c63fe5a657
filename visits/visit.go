package visits

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// DeviceTest is what the patient's device test found.
type DeviceTest struct {
	Camera     string `json:"camera"`     // pass, fail, skipped
	Microphone string `json:"microphone"` // pass, fail, skipped
	Speaker    string `json:"speaker"`    // pass, fail, skipped
	Network    string `json:"network"`    // good, poor, failed, skipped
}

// Verdict summarises a device test for the clinician's queue.
func (d *DeviceTest) Verdict() string {
	if d == nil {
		return "not_run"
	}
	switch {
	case d.Camera == "fail" || d.Microphone == "fail" || d.Network == "failed":
		return "problem"
	case d.Network == "poor" || d.Speaker == "fail":
		return "warning"
	}
	return "ok"
}

// LinkState describes a visit's newest patient link.
type LinkState struct {
	State          string     `json:"state"` // none, active, expired, revoked, locked
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	FailedAttempts int        `json:"failed_attempts"`
}

// Visit is a video visit as staff see it. Reason is empty unless the reader
// may see clinical content.
type Visit struct {
	ID               uuid.UUID   `json:"id"`
	ClinicID         uuid.UUID   `json:"clinic_id"`
	ClinicianID      *uuid.UUID  `json:"clinician_id"`
	Status           Status      `json:"status"`
	StartsAt         time.Time   `json:"starts_at"`
	DurationMinutes  int         `json:"duration_minutes"`
	Patient          Patient     `json:"patient"`
	Reason           string      `json:"reason,omitempty"`
	LocationState    string      `json:"location_state,omitempty"`
	DeviceTest       *DeviceTest `json:"device_test,omitempty"`
	RecordingConsent string      `json:"recording_consent"`
	IdentityVerified bool        `json:"identity_verified"`
	WaitingSince     *time.Time  `json:"waiting_since,omitempty"`
	AdmittedAt       *time.Time  `json:"admitted_at,omitempty"`
	EndedAt          *time.Time  `json:"ended_at,omitempty"`
	Link             LinkState   `json:"link"`
	CreatedAt        time.Time   `json:"created_at"`
	UpdatedAt        time.Time   `json:"updated_at"`
	Version          int         `json:"version"`
}

// EndsAt is the end of the visit window.
func (v *Visit) EndsAt() time.Time {
	return v.StartsAt.Add(time.Duration(v.DurationMinutes) * time.Minute)
}

// visitColumns is the SELECT list scanned by scanVisit; it joins the newest
// patient link.
const visitColumns = `v.id, v.clinic_id, v.clinician_id, v.status, v.starts_at, v.duration_minutes,
	v.patient_name_enc, v.patient_dob_enc, v.patient_contact_enc, v.ehr_patient_id_enc, v.reason_enc,
	coalesce(v.location_state, ''), v.device_test, v.recording_consent, v.identity_verified_at IS NOT NULL,
	v.waiting_since, v.admitted_at, v.ended_at, v.created_at, v.updated_at, v.version,
	l.expires_at, l.revoked_at IS NOT NULL, l.locked_at IS NOT NULL, coalesce(l.failed_attempts, 0)`

const visitFrom = ` FROM visits v LEFT JOIN LATERAL (
	SELECT expires_at, revoked_at, locked_at, failed_attempts FROM visit_links
	WHERE visit_id = v.id AND kind = 'patient' ORDER BY created_at DESC LIMIT 1) l ON true `

type rowScanner interface{ Scan(dest ...any) error }

// scanVisit reads one row of visitColumns. withClinical decides whether the
// reason is opened.
func (s *Service) scanVisit(row rowScanner, withClinical bool) (Visit, error) {
	var v Visit
	var sp sealedPatient
	var reason, device []byte
	var linkExp *time.Time
	var revoked, locked bool
	err := row.Scan(&v.ID, &v.ClinicID, &v.ClinicianID, &v.Status, &v.StartsAt, &v.DurationMinutes,
		&sp.name, &sp.dob, &sp.contact, &sp.ehrID, &reason,
		&v.LocationState, &device, &v.RecordingConsent, &v.IdentityVerified,
		&v.WaitingSince, &v.AdmittedAt, &v.EndedAt, &v.CreatedAt, &v.UpdatedAt, &v.Version,
		&linkExp, &revoked, &locked, &v.Link.FailedAttempts)
	if err != nil {
		return v, err
	}
	if v.Patient, err = s.openPatient(v.ID, sp); err != nil {
		return v, err
	}
	if withClinical {
		if v.Reason, err = s.open(v.ID, "reason", reason); err != nil {
			return v, err
		}
	}
	if device != nil {
		v.DeviceTest = new(DeviceTest)
		if err := json.Unmarshal(device, v.DeviceTest); err != nil {
			return v, err
		}
	}
	v.Link = s.linkState(linkExp, revoked, locked, v.Link.FailedAttempts)
	return v, nil
}

func (s *Service) linkState(exp *time.Time, revoked, locked bool, failed int) LinkState {
	st := LinkState{ExpiresAt: exp, FailedAttempts: failed}
	switch {
	case exp == nil:
		st.State = "none"
	case revoked:
		st.State = "revoked"
	case locked:
		st.State = "locked"
	case !s.now().Before(*exp):
		st.State = "expired"
	default:
		st.State = "active"
	}
	return st
}
