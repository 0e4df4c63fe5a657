package visits

import (
	"context"
	"fmt"
	"time"
)

// OpsStats are counts for operators' metrics. They hold no identifiers.
type OpsStats struct {
	Waiting    int            // patients in every clinic's waiting room
	EHRJobs    map[string]int // EHR outbox jobs by state
	NotifyJobs map[string]int // notification outbox rows by status
}

// OpsStats counts the waiting rooms and the outboxes. It reads no PHI
// and writes no audit event.
func (s *Service) OpsStats(ctx context.Context) (OpsStats, error) {
	st := OpsStats{EHRJobs: map[string]int{}, NotifyJobs: map[string]int{}}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM visits WHERE status = 'waiting'`).Scan(&st.Waiting); err != nil {
		return st, fmt.Errorf("count waiting: %w", err)
	}
	if err := s.countBy(ctx, `SELECT state, count(*) FROM ehr_jobs GROUP BY state`, st.EHRJobs); err != nil {
		return st, fmt.Errorf("count EHR jobs: %w", err)
	}
	if err := s.countBy(ctx, `SELECT status, count(*) FROM notification_outbox GROUP BY status`, st.NotifyJobs); err != nil {
		return st, fmt.Errorf("count notifications: %w", err)
	}
	return st, nil
}

func (s *Service) countBy(ctx context.Context, sql string, into map[string]int) error {
	rows, err := s.pool.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}

// OnAdmitted sets f to be called with each admitted patient's time in the
// waiting room. Set it before serving; f must be quick.
func (s *Service) OnAdmitted(f func(wait time.Duration)) { s.onAdmitted = f }

// noteAdmitted reports v's wait once it is admitted.
func (s *Service) noteAdmitted(v Visit) {
	if s.onAdmitted == nil || v.WaitingSince == nil || v.AdmittedAt == nil {
		return
	}
	s.onAdmitted(max(v.AdmittedAt.Sub(*v.WaitingSince), 0))
}
