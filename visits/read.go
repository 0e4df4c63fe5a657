package visits

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// GetVisit returns one visit to staff who may read it.
func (s *Service) GetVisit(ctx context.Context, a Actor, id uuid.UUID) (Visit, error) {
	ev := AuditEvent{Action: "visit.read", ResourceType: "visit", ResourceID: id.String(), VisitID: id}
	var v Visit
	err := s.inTx(ctx, "read visit", func(tx pgx.Tx) error {
		clinic, err := visitClinic(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canReadVisit(a, clinic) {
			return ErrForbidden
		}
		if v, err = s.loadVisit(ctx, tx, id, canReadClinical(a, clinic), false); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
	if err == ErrForbidden {
		return Visit{}, s.deny(ctx, a, ev, err)
	}
	return v, err
}

// visitClinic returns the clinic of visit id, or ErrNotFound.
func visitClinic(ctx context.Context, tx pgx.Tx, id uuid.UUID) (uuid.UUID, error) {
	var clinic uuid.UUID
	err := tx.QueryRow(ctx, "SELECT clinic_id FROM visits WHERE id = $1", id).Scan(&clinic)
	if err == pgx.ErrNoRows {
		return clinic, ErrNotFound
	}
	return clinic, err
}

// ListFilter selects visits for the day view.
type ListFilter struct {
	ClinicID    uuid.UUID
	Date        string     // YYYY-MM-DD in the clinic's time zone; default today there
	ClinicianID *uuid.UUID // only this clinician's visits
	PoolOnly    bool       // only visits not assigned to anyone
}

// ListVisits returns a clinic's visits of one day, in start order. Each
// visit returned is audited as read.
func (s *Service) ListVisits(ctx context.Context, a Actor, f ListFilter) ([]Visit, error) {
	if f.ClinicID == uuid.Nil {
		return nil, invalid("clinic_id", "is required")
	}
	ev := AuditEvent{Action: "visit.list", ResourceType: "visit"}
	if !canReadVisit(a, f.ClinicID) {
		return nil, s.deny(ctx, a, ev, ErrForbidden)
	}
	var out []Visit
	err := s.inTx(ctx, "list visits", func(tx pgx.Tx) error {
		from, to, err := s.dayBounds(ctx, tx, f.ClinicID, f.Date)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+visitColumns+visitFrom+`
			WHERE v.clinic_id = $1 AND v.starts_at >= $2 AND v.starts_at < $3
			AND ($4::uuid IS NULL OR v.clinician_id = $4) AND (NOT $5 OR v.clinician_id IS NULL)
			ORDER BY v.starts_at, v.id LIMIT 1000`, f.ClinicID, from, to, f.ClinicianID, f.PoolOnly)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Visit, error) {
			return s.scanVisit(r, canReadClinical(a, f.ClinicID))
		})
		if err != nil {
			return err
		}
		return s.auditEach(ctx, tx, a, ev, out)
	})
	return out, err
}

func (s *Service) auditEach(ctx context.Context, tx pgx.Tx, a Actor, ev AuditEvent, vs []Visit) error {
	evs := make([]AuditEvent, len(vs))
	for i, v := range vs {
		evs[i] = ev
		evs[i].ResourceID, evs[i].VisitID = v.ID.String(), v.ID
	}
	return AuditMany(ctx, tx, a, evs)
}

// dayBounds turns a date in the clinic's time zone (today there when empty)
// into a time range.
func (s *Service) dayBounds(ctx context.Context, tx pgx.Tx, clinic uuid.UUID, date string) (time.Time, time.Time, error) {
	var tzName string
	if err := tx.QueryRow(ctx, "SELECT timezone FROM clinics WHERE id = $1", clinic).Scan(&tzName); err != nil {
		if err == pgx.ErrNoRows {
			return time.Time{}, time.Time{}, ErrNotFound
		}
		return time.Time{}, time.Time{}, err
	}
	loc, err := time.LoadLocation(tzName)
	if err != nil {
		loc = time.UTC
	}
	if date == "" {
		date = s.now().In(loc).Format(time.DateOnly)
	}
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, time.Time{}, invalid("date", "must be a date as YYYY-MM-DD")
	}
	return day, day.AddDate(0, 0, 1), nil
}
