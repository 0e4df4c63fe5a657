package visits

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Admin operations of the EHR writeback: clinics' EHR profiles, staff
// Practitioner ids, the job list and retries. Admins only; every call,
// refused ones included, is audited.

// ClinicEHR is a clinic's EHR profile.
type ClinicEHR struct {
	ClinicID         uuid.UUID  `json:"clinic_id"`
	Profile          EHRProfile `json:"profile"`
	Endpoint         string     `json:"endpoint"`
	IdentifierSystem string     `json:"identifier_system"`
	UpdatedAt        *time.Time `json:"updated_at"` // nil: never set
}

// ClinicEHRSettings is what an admin sets.
type ClinicEHRSettings struct {
	Profile          EHRProfile `json:"profile"`
	Endpoint         string     `json:"endpoint,omitempty"`          // a name in the server's ehr.endpoints
	IdentifierSystem string     `json:"identifier_system,omitempty"` // absolute URI of our identifiers
}

// StaffEHR is a staff member's Practitioner id in the EHR.
type StaffEHR struct {
	StaffID        uuid.UUID `json:"staff_id"`
	PractitionerID string    `json:"practitioner_id"`
}

// SetEHREndpoints names the EHR endpoints this server has configured;
// a clinic profile may only refer to one of them.
func (s *Service) SetEHREndpoints(names ...string) {
	s.ehrEndpoints = map[string]bool{}
	for _, n := range names {
		s.ehrEndpoints[n] = true
	}
}

func (c *ClinicEHRSettings) validate(known map[string]bool) error {
	switch c.Profile {
	case EHRNone:
		if c.Endpoint != "" || c.IdentifierSystem != "" {
			return invalid("profile", "none takes no endpoint or identifier_system")
		}
		return nil
	case EHRGeneric, EHREpicLike:
	default:
		return invalid("profile", "must be none, generic or epic_like")
	}
	if !known[c.Endpoint] {
		return invalid("endpoint", "is not an EHR endpoint of the server configuration")
	}
	u, err := url.Parse(c.IdentifierSystem)
	if err != nil || u.Scheme == "" || len(c.IdentifierSystem) > 200 || strings.ContainsAny(c.IdentifierSystem, " \t\r\n") {
		return invalid("identifier_system", "must be an absolute URI without spaces, up to 200 characters")
	}
	return nil
}

// adminOnly runs fn in a transaction with ev audited, for admins only.
func (s *Service) adminOnly(ctx context.Context, a Actor, ev *AuditEvent, fn func(pgx.Tx) error) error {
	if !a.IsStaff() || !a.Has(RoleAdmin) {
		return s.deny(ctx, a, *ev, ErrForbidden)
	}
	return s.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return Audit(ctx, tx, a, *ev)
	})
}

// GetClinicEHR reads a clinic's EHR profile (none when never set).
func (s *Service) GetClinicEHR(ctx context.Context, a Actor, clinic uuid.UUID) (ClinicEHR, error) {
	ev := AuditEvent{Action: "ehr.profile.read", ResourceType: "clinic", ResourceID: clinic.String()}
	out := ClinicEHR{ClinicID: clinic, Profile: EHRNone}
	err := s.adminOnly(ctx, a, &ev, func(tx pgx.Tx) error {
		if err := clinicExists(ctx, tx, clinic); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT profile, endpoint, identifier_system, updated_at FROM clinic_ehr
			WHERE clinic_id = $1`, clinic).Scan(&out.Profile, &out.Endpoint, &out.IdentifierSystem, &out.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return out, err
}

// SetClinicEHR sets a clinic's EHR profile. Jobs already queued are
// delivered with the profile in force at delivery time.
func (s *Service) SetClinicEHR(ctx context.Context, a Actor, clinic uuid.UUID, set ClinicEHRSettings) (ClinicEHR, error) {
	ev := AuditEvent{Action: "ehr.profile.set", ResourceType: "clinic", ResourceID: clinic.String(),
		Detail: map[string]any{"profile": string(set.Profile), "endpoint": set.Endpoint}}
	if a.IsStaff() && a.Has(RoleAdmin) {
		if err := set.validate(s.ehrEndpoints); err != nil {
			return ClinicEHR{}, err
		}
	}
	out := ClinicEHR{ClinicID: clinic, Profile: set.Profile, Endpoint: set.Endpoint, IdentifierSystem: set.IdentifierSystem}
	err := s.adminOnly(ctx, a, &ev, func(tx pgx.Tx) error {
		if err := clinicExists(ctx, tx, clinic); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO clinic_ehr (clinic_id, profile, endpoint, identifier_system, updated_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (clinic_id) DO UPDATE
			SET profile = $2, endpoint = $3, identifier_system = $4, updated_by = $5, updated_at = now()
			RETURNING updated_at`, clinic, set.Profile, set.Endpoint, set.IdentifierSystem, a.ID).Scan(&out.UpdatedAt)
	})
	return out, err
}

// SetPractitionerID sets the Practitioner id a staff member has in the
// EHR: the author of their notes and a participant of their encounters.
func (s *Service) SetPractitionerID(ctx context.Context, a Actor, staff uuid.UUID, practitioner string) (StaffEHR, error) {
	ev := AuditEvent{Action: "ehr.practitioner.set", ResourceType: "staff", ResourceID: staff.String()}
	if a.IsStaff() && a.Has(RoleAdmin) && !fhirID.MatchString(practitioner) {
		return StaffEHR{}, invalid("practitioner_id", "must be a FHIR id (letters, digits, '-' and '.', up to 64)")
	}
	err := s.adminOnly(ctx, a, &ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE staff SET ehr_practitioner_id = $2 WHERE id = $1", staff, practitioner)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return err
	})
	return StaffEHR{StaffID: staff, PractitionerID: practitioner}, err
}

func clinicExists(ctx context.Context, tx pgx.Tx, clinic uuid.UUID) error {
	var ok bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM clinics WHERE id = $1)", clinic).Scan(&ok); err != nil {
		return fmt.Errorf("read clinic: %w", err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}
