package visits

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Clinic is a practice whose staff share a waiting room.
type Clinic struct {
	ID       uuid.UUID `json:"id"`
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	Timezone string    `json:"timezone"`
}

// StaffMember is a clinician or other staff member, as others see them.
type StaffMember struct {
	ID          uuid.UUID `json:"id"`
	DisplayName string    `json:"display_name"`
	Roles       []string  `json:"roles"`
}

// ListClinics returns the clinics the actor belongs to (all for admins).
func (s *Service) ListClinics(ctx context.Context, a Actor) ([]Clinic, error) {
	if !a.IsStaff() {
		return nil, ErrForbidden
	}
	rows, err := s.pool.Query(ctx, `SELECT id, slug, name, timezone FROM clinics
		WHERE $1 OR id = ANY ($2) ORDER BY name`, a.Has(RoleAdmin), a.ClinicIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Clinic])
}

// ListClinicians returns the clinicians of a clinic, for assigning visits.
func (s *Service) ListClinicians(ctx context.Context, a Actor, clinic uuid.UUID) ([]StaffMember, error) {
	if !canReadVisit(a, clinic) {
		return nil, ErrForbidden
	}
	rows, err := s.pool.Query(ctx, `SELECT s.id, s.display_name, s.roles FROM staff s
		JOIN staff_clinics sc ON sc.staff_id = s.id
		WHERE sc.clinic_id = $1 AND 'clinician' = ANY (s.roles) AND s.kind = 'person' ORDER BY s.display_name`, clinic)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[StaffMember])
}

// EnsureClinic creates a clinic if its slug is new and returns it. For
// seeding and operators' tooling.
func (s *Service) EnsureClinic(ctx context.Context, slug, name, tz string) (Clinic, error) {
	var c Clinic
	err := s.pool.QueryRow(ctx, `INSERT INTO clinics (slug, name, timezone) VALUES ($1, $2, $3)
		ON CONFLICT (slug) DO UPDATE SET name = excluded.name
		RETURNING id, slug, name, timezone`, slug, name, tz).Scan(&c.ID, &c.Slug, &c.Name, &c.Timezone)
	return c, err
}

// EnsureStaff provisions a staff member ahead of their first sign-in (so a
// scheduler can assign visits to them) and returns their id.
func (s *Service) EnsureStaff(ctx context.Context, issuer, subject, name string, roles []string, clinics []uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO staff (issuer, subject, display_name, roles) VALUES ($1, $2, $3, $4)
			ON CONFLICT (issuer, subject) DO UPDATE SET display_name = excluded.display_name, roles = excluded.roles
			RETURNING id`, issuer, subject, name, roles).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO staff_clinics (staff_id, clinic_id) SELECT $1, unnest($2::uuid[])
			ON CONFLICT DO NOTHING`, id, clinics)
		return err
	})
	return id, err
}
