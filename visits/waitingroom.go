package visits

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// QueueEntry is one patient in a clinic's virtual waiting room.
type QueueEntry struct {
	VisitID          uuid.UUID   `json:"visit_id"`
	PatientName      string      `json:"patient_name"`
	ClinicianID      *uuid.UUID  `json:"clinician_id"` // nil: the clinic's pool
	Status           Status      `json:"status"`
	StartsAt         time.Time   `json:"starts_at"`
	WaitingSince     time.Time   `json:"waiting_since"`
	WaitSeconds      int         `json:"wait_seconds"`
	Position         int         `json:"position"` // 1-based, within its clinician's queue or the pool
	IdentityVerified bool        `json:"identity_verified"`
	LocationState    string      `json:"location_state"`
	DeviceTest       *DeviceTest `json:"device_test"`
	DeviceVerdict    string      `json:"device_verdict"`
	RecordingConsent string      `json:"recording_consent"`
}

// WaitingRoom returns the clinic's waiting patients in queue order: by
// appointment time, then by arrival.
func (s *Service) WaitingRoom(ctx context.Context, a Actor, clinic uuid.UUID) ([]QueueEntry, error) {
	ev := AuditEvent{Action: "waiting_room.read", ResourceType: "waiting_room", ResourceID: clinic.String()}
	if !canRunWaitingRoom(a, clinic) {
		return nil, s.deny(ctx, a, ev, ErrForbidden)
	}
	var out []QueueEntry
	err := s.inTx(ctx, "read waiting room", func(tx pgx.Tx) error {
		var err error
		if out, err = s.queue(ctx, tx, clinic); err != nil {
			return err
		}
		ids := make([]string, len(out))
		for i, e := range out {
			ids[i] = e.VisitID.String()
		}
		ev.Detail = map[string]any{"visit_ids": ids}
		return Audit(ctx, tx, a, ev)
	})
	return out, err
}

func (s *Service) queue(ctx context.Context, tx pgx.Tx, clinic uuid.UUID) ([]QueueEntry, error) {
	rows, err := tx.Query(ctx, "SELECT "+visitColumns+visitFrom+`
		WHERE v.clinic_id = $1 AND v.status = 'waiting' ORDER BY v.starts_at, v.waiting_since, v.id LIMIT 500`, clinic)
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Visit, error) { return s.scanVisit(r, false) })
	if err != nil {
		return nil, err
	}
	now := s.now()
	positions := map[uuid.UUID]int{} // per clinician; uuid.Nil is the pool
	out := make([]QueueEntry, 0, len(vs))
	for _, v := range vs {
		key := uuid.Nil
		if v.ClinicianID != nil {
			key = *v.ClinicianID
		}
		positions[key]++
		out = append(out, entryOf(v, positions[key], now))
	}
	return out, nil
}

func entryOf(v Visit, pos int, now time.Time) QueueEntry {
	e := QueueEntry{VisitID: v.ID, PatientName: v.Patient.Name, ClinicianID: v.ClinicianID, Status: v.Status,
		StartsAt: v.StartsAt, Position: pos, IdentityVerified: v.IdentityVerified, LocationState: v.LocationState,
		DeviceTest: v.DeviceTest, DeviceVerdict: v.DeviceTest.Verdict(), RecordingConsent: v.RecordingConsent}
	if v.WaitingSince != nil {
		e.WaitingSince = *v.WaitingSince
		e.WaitSeconds = int(now.Sub(*v.WaitingSince).Seconds())
	}
	return e
}

// mayHandle: the visit is in the pool or assigned to the acting clinician.
func mayHandle(a Actor, v *Visit) error {
	if v.ClinicianID != nil && *v.ClinicianID != a.StaffID {
		return conflict("the visit is assigned to another clinician")
	}
	return nil
}

// Admit moves a waiting patient into the visit; a pool visit becomes the
// admitting clinician's.
func (s *Service) Admit(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	v, err := s.apply(ctx, a, id, change{action: "visit.admit", allowed: canRunWaitingRoom, to: StatusInProgress,
		guard: mayHandle,
		set:   "admitted_at = now(), admitted_by = $2, clinician_id = coalesce(clinician_id, $2)",
		args:  func(a Actor, _ *Visit) []any { return []any{a.StaffID} }})
	if err == nil {
		s.noteAdmitted(v)
	}
	return v, err
}

// SendBack returns an admitted patient to the waiting room, keeping their
// place.
func (s *Service) SendBack(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{action: "visit.send_back", allowed: canRunWaitingRoom, to: StatusWaiting,
		guard: mayHandle, set: "admitted_at = NULL, waiting_since = coalesce(waiting_since, now())"})
}

// Complete ends a visit that is in progress.
func (s *Service) Complete(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{action: "visit.complete", allowed: canRunWaitingRoom, to: StatusCompleted,
		guard: mayHandle, set: "ended_at = now()"})
}

// MarkNoShow records that the patient did not come.
func (s *Service) MarkNoShow(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{action: "visit.no_show", allowed: canRunWaitingRoom, to: StatusNoShow,
		guard: mayHandle, set: "ended_at = now()",
		after: func(tx pgx.Tx, v *Visit) error { return revokeLinks(ctx, tx, v.ID, a.ID) }})
}

// Take assigns a pool visit to the acting clinician.
func (s *Service) Take(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{action: "visit.take", allowed: canRunWaitingRoom,
		guard: func(a Actor, v *Visit) error {
			if v.ClinicianID != nil {
				return conflict("the visit is not in the pool")
			}
			return openForQueue(v)
		},
		set: "clinician_id = $2", args: func(a Actor, _ *Visit) []any { return []any{a.StaffID} }})
}

// HandOff gives a waiting or scheduled visit to a colleague of the same
// clinic.
func (s *Service) HandOff(ctx context.Context, a Actor, id, to uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{action: "visit.hand_off", allowed: canRunWaitingRoom,
		guard: func(a Actor, v *Visit) error {
			if err := mayHandle(a, v); err != nil {
				return err
			}
			return openForQueue(v)
		},
		set: "clinician_id = $2", args: func(Actor, *Visit) []any { return []any{to} },
		after: func(tx pgx.Tx, v *Visit) error { return checkClinician(ctx, tx, v.ClinicID, &to) }})
}

func openForQueue(v *Visit) error {
	if !slices.Contains([]Status{StatusScheduled, StatusWaiting}, v.Status) {
		return conflict("visit is " + string(v.Status))
	}
	return nil
}
