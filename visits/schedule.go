package visits

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Reschedule changes a scheduled visit's time, length or clinician.
type Reschedule struct {
	StartsAt        *time.Time `json:"starts_at"`
	DurationMinutes *int       `json:"duration_minutes"`
	ClinicianID     *uuid.UUID `json:"clinician_id"`
	ToPool          bool       `json:"to_pool"` // unassign: back to the clinic's pool
}

// Reschedule moves a scheduled visit. Open links follow the new window.
func (s *Service) Reschedule(ctx context.Context, a Actor, id uuid.UUID, r Reschedule) (Visit, error) {
	if r.ToPool && r.ClinicianID != nil {
		return Visit{}, invalid("to_pool", "cannot be set together with clinician_id")
	}
	var startsAt time.Time
	var minutes int
	var clinician *uuid.UUID
	return s.apply(ctx, a, id, change{
		action: "visit.reschedule", allowed: canSchedule,
		guard: func(_ Actor, v *Visit) error {
			if v.Status != StatusScheduled {
				return conflict("only a scheduled visit can be rescheduled")
			}
			startsAt, minutes, clinician = v.StartsAt, v.DurationMinutes, v.ClinicianID
			if r.StartsAt != nil {
				startsAt = r.StartsAt.UTC()
			}
			if r.DurationMinutes != nil {
				minutes = *r.DurationMinutes
			}
			if r.ClinicianID != nil || r.ToPool {
				clinician = r.ClinicianID
			}
			return validateWindow(startsAt, minutes, s.now())
		},
		set:  "starts_at = $2, duration_minutes = $3, clinician_id = $4",
		args: func(Actor, *Visit) []any { return []any{startsAt, minutes, clinician} },
		after: func(tx pgx.Tx, v *Visit) error {
			if err := checkClinician(ctx, tx, v.ClinicID, clinician); err != nil {
				return err
			}
			end := startsAt.Add(time.Duration(minutes)*time.Minute + s.cfg.LinkGrace)
			_, err := tx.Exec(ctx, `UPDATE visit_links SET expires_at = $2
				WHERE visit_id = $1 AND revoked_at IS NULL`, v.ID, end)
			return err
		},
	})
}

// Cancel cancels a visit that has not started; its links stop working.
func (s *Service) Cancel(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	return s.apply(ctx, a, id, change{
		action: "visit.cancel", allowed: canSchedule, to: StatusCancelled,
		set:   "ended_at = now()",
		after: func(tx pgx.Tx, v *Visit) error { return revokeLinks(ctx, tx, v.ID, a.ID) },
	})
}
