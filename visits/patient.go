package visits

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CheckIn is what the patient reports before entering the waiting room.
type CheckIn struct {
	LocationState    string     `json:"location_state"`
	DeviceTest       DeviceTest `json:"device_test"`
	RecordingConsent string     `json:"recording_consent"` // yes, no, undecided
}

var (
	deviceResults  = map[string]bool{"pass": true, "fail": true, "skipped": true}
	networkResults = map[string]bool{"good": true, "poor": true, "failed": true, "skipped": true}
	consentAnswers = map[string]bool{"yes": true, "no": true, "undecided": true}
)

func (c *CheckIn) validate() error {
	if !stateRE.MatchString(c.LocationState) || !usStates[c.LocationState] {
		return invalid("location_state", "must be a US state or territory code such as NY")
	}
	d := c.DeviceTest
	for field, v := range map[string]string{"camera": d.Camera, "microphone": d.Microphone, "speaker": d.Speaker} {
		if !deviceResults[v] {
			return invalid("device_test."+field, "must be pass, fail or skipped")
		}
	}
	if !networkResults[d.Network] {
		return invalid("device_test.network", "must be good, poor, failed or skipped")
	}
	if !consentAnswers[c.RecordingConsent] {
		return invalid("recording_consent", "must be yes, no or undecided")
	}
	return nil
}

// PatientView is what a patient sees of their own visit.
type PatientView struct {
	Status               Status    `json:"status"`
	ClinicName           string    `json:"clinic_name"`
	StartsAt             time.Time `json:"starts_at"`
	DurationMinutes      int       `json:"duration_minutes"`
	Position             int       `json:"position,omitempty"` // 1-based place while waiting
	EstimatedWaitMinutes int       `json:"estimated_wait_minutes"`
	CheckedIn            bool      `json:"checked_in"`
}

// CheckIn records the patient's location, device test and consent answer
// and puts them in the waiting room. Checking in again updates the answers.
func (s *Service) CheckIn(ctx context.Context, a Actor, ci CheckIn) (PatientView, error) {
	if a.Kind != ActorPatient {
		return PatientView{}, ErrForbidden
	}
	if err := ci.validate(); err != nil {
		return PatientView{}, err
	}
	device, _ := json.Marshal(ci.DeviceTest)
	patientPolicy := func(Actor, uuid.UUID) bool { return true } // the session is bound to this visit
	_, err := s.apply(ctx, a, a.VisitID, change{action: "patient.check_in", allowed: patientPolicy,
		guard: func(_ Actor, v *Visit) error {
			if v.Status == StatusScheduled || v.Status == StatusWaiting {
				return nil
			}
			return conflict("visit is " + string(v.Status))
		},
		set: `status = 'waiting', location_state = $2, device_test = $3, recording_consent = $4,
			waiting_since = coalesce(waiting_since, now())`,
		args: func(Actor, *Visit) []any { return []any{ci.LocationState, device, ci.RecordingConsent} }})
	if err != nil {
		return PatientView{}, err
	}
	return s.PatientView(ctx, a)
}

// PatientView returns the patient's own visit: state, place in the queue
// and an estimate of the wait.
func (s *Service) PatientView(ctx context.Context, a Actor) (PatientView, error) {
	if a.Kind != ActorPatient {
		return PatientView{}, ErrForbidden
	}
	var pv PatientView
	var clinic uuid.UUID
	var clinician *uuid.UUID
	var since *time.Time
	err := s.pool.QueryRow(ctx, `SELECT v.status, c.name, v.starts_at, v.duration_minutes, v.waiting_since,
		v.clinic_id, v.clinician_id FROM visits v JOIN clinics c ON c.id = v.clinic_id WHERE v.id = $1`, a.VisitID).
		Scan(&pv.Status, &pv.ClinicName, &pv.StartsAt, &pv.DurationMinutes, &since, &clinic, &clinician)
	if err == pgx.ErrNoRows {
		return pv, ErrNotFound
	}
	if err != nil {
		return pv, err
	}
	pv.CheckedIn = since != nil
	if pv.Status != StatusWaiting {
		return pv, nil
	}
	return pv, s.placeInQueue(ctx, a.VisitID, clinic, clinician, &pv)
}

// placeInQueue finds the patient's position among those waiting for the same
// clinician (or the pool) and estimates the wait from the visits ahead and
// the clinician's visit in progress.
func (s *Service) placeInQueue(ctx context.Context, id, clinic uuid.UUID, clinician *uuid.UUID, pv *PatientView) error {
	var ahead, minutesAhead, busyMinutes, clinicians int
	err := s.pool.QueryRow(ctx, `WITH me AS (SELECT starts_at, waiting_since FROM visits WHERE id = $1),
		q AS (SELECT v.duration_minutes FROM visits v, me WHERE v.clinic_id = $2 AND v.status = 'waiting'
			AND v.id <> $1 AND v.clinician_id IS NOT DISTINCT FROM $3
			AND (v.starts_at, v.waiting_since, v.id) < (me.starts_at, me.waiting_since, $1))
		SELECT (SELECT count(*) FROM q), (SELECT coalesce(sum(duration_minutes), 0) FROM q),
			(SELECT coalesce(sum(greatest(0, duration_minutes - extract(epoch FROM now() - admitted_at) / 60)), 0)::int
				FROM visits WHERE clinic_id = $2 AND status = 'in_progress'
				AND ($3::uuid IS NULL OR clinician_id = $3)),
			(SELECT count(*) FROM staff s JOIN staff_clinics sc ON sc.staff_id = s.id
				WHERE sc.clinic_id = $2 AND 'clinician' = ANY (s.roles) AND s.kind = 'person')`,
		id, clinic, clinician).Scan(&ahead, &minutesAhead, &busyMinutes, &clinicians)
	if err != nil {
		return err
	}
	pv.Position = ahead + 1
	wait := minutesAhead + busyMinutes
	if clinician == nil && clinicians > 1 {
		wait /= clinicians
	}
	pv.EstimatedWaitMinutes = wait
	return nil
}
