package visits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Recording retention per clinic: how many days each new recording object
// is locked in object storage, and in which S3 object-lock mode. A clinic
// without a policy of its own gets the server default
// (RecordingsConfig). Admins read and set it; every call,
// refused ones included, is audited.

// Retention modes (S3 object lock).
const (
	RetentionGovernance = "GOVERNANCE" // privileged users may shorten or bypass it
	RetentionCompliance = "COMPLIANCE" // nobody can shorten it
)

// Default retention when neither the clinic nor the server sets one: six
// years (HIPAA's documentation retention), governance mode.
const (
	defaultRetentionMode = RetentionGovernance
	defaultRetentionDays = 6 * 365
	maxRetentionDays     = 36500
)

// RecordingRetentionPolicy is a clinic's retention as the API shows it.
type RecordingRetentionPolicy struct {
	ClinicID uuid.UUID `json:"clinic_id"`
	Mode     string    `json:"mode"`
	Days     int       `json:"days"`
	// Source is "clinic" (set by an admin) or "default" (the server's).
	Source    string     `json:"source"`
	UpdatedAt *time.Time `json:"updated_at"` // nil: never set
}

// RecordingRetentionSettings is what an admin sets.
type RecordingRetentionSettings struct {
	Mode string `json:"mode"`
	Days int    `json:"days"`
}

func (rs RecordingRetentionSettings) validate() error {
	if rs.Mode != RetentionGovernance && rs.Mode != RetentionCompliance {
		return invalid("mode", "must be GOVERNANCE or COMPLIANCE")
	}
	if rs.Days < 1 || rs.Days > maxRetentionDays {
		return invalid("days", fmt.Sprintf("must be between 1 and %d", maxRetentionDays))
	}
	return nil
}

func (r *Recordings) retentionFallback() (string, int) {
	return r.cfg.DefaultRetentionMode, r.cfg.DefaultRetentionDays
}

// RecordingRetention is the retention a new recording object of clinic
// gets: the clinic's policy, else the configured default. The recorder
// calls it (as the system, not audited: it reads no PHI) and locks the
// object for days in mode (store.Retaining).
func (r *Recordings) RecordingRetention(ctx context.Context, clinic uuid.UUID) (mode string, days int, err error) {
	mode, days, ok, err := r.svc.ClinicRecordingRetention(ctx, clinic)
	if err != nil || ok {
		return mode, days, err
	}
	mode, days = r.retentionFallback()
	return mode, days, nil
}

// ClinicRecordingRetention is the retention policy an admin set for
// clinic; ok is false when none was set (the caller applies its default).
// For the recorder, which holds the service; not audited (no PHI).
func (s *Service) ClinicRecordingRetention(ctx context.Context, clinic uuid.UUID) (mode string, days int, ok bool, err error) {
	err = s.pool.QueryRow(ctx, "SELECT mode, days FROM recording_retention WHERE clinic_id = $1",
		clinic).Scan(&mode, &days)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("visits: read recording retention: %w", err)
	}
	return mode, days, true, nil
}

// retentionTx checks the policy, runs fn and audits ev in one transaction;
// refusals are audited on their own.
func (r *Recordings) retentionTx(ctx context.Context, a Actor, clinic uuid.UUID, ev AuditEvent, fn func(pgx.Tx) error) error {
	if !canManageRetention(a, clinic) {
		return r.svc.deny(ctx, a, ev, ErrForbidden)
	}
	return r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		if err := clinicExists(ctx, tx, clinic); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
}

// GetRecordingRetention reads a clinic's retention policy.
func (r *Recordings) GetRecordingRetention(ctx context.Context, a Actor, clinic uuid.UUID) (RecordingRetentionPolicy, error) {
	ev := AuditEvent{Action: "recording.retention.read", ResourceType: "clinic", ResourceID: clinic.String()}
	mode, days := r.retentionFallback()
	out := RecordingRetentionPolicy{ClinicID: clinic, Mode: mode, Days: days, Source: "default"}
	err := r.retentionTx(ctx, a, clinic, ev, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT mode, days, updated_at FROM recording_retention WHERE clinic_id = $1",
			clinic).Scan(&out.Mode, &out.Days, &out.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		out.Source = "clinic"
		return err
	})
	return out, err
}

// SetRecordingRetention sets a clinic's retention policy. It applies to
// objects stored from now on; objects already stored keep the lock they
// were given (the store would refuse to shorten a COMPLIANCE lock anyway).
func (r *Recordings) SetRecordingRetention(ctx context.Context, a Actor, clinic uuid.UUID, set RecordingRetentionSettings) (RecordingRetentionPolicy, error) {
	ev := AuditEvent{Action: "recording.retention.set", ResourceType: "clinic", ResourceID: clinic.String(),
		Detail: map[string]any{"mode": set.Mode, "days": set.Days}}
	if canManageRetention(a, clinic) {
		if err := set.validate(); err != nil {
			return RecordingRetentionPolicy{}, err
		}
	}
	out := RecordingRetentionPolicy{ClinicID: clinic, Mode: set.Mode, Days: set.Days, Source: "clinic"}
	err := r.retentionTx(ctx, a, clinic, ev, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO recording_retention (clinic_id, mode, days, updated_by)
			VALUES ($1, $2, $3, $4) ON CONFLICT (clinic_id) DO UPDATE
			SET mode = $2, days = $3, updated_by = $4, updated_at = now()
			RETURNING updated_at`, clinic, set.Mode, set.Days, a.ID).Scan(&out.UpdatedAt)
	})
	return out, err
}
