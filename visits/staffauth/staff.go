package staffauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits"
)

// openSession records the sign-in of id: it refreshes the staff row and
// clinic memberships, opens a session and audits it, in one transaction.
// It returns the session token for the cookie.
func (a *Auth) openSession(ctx context.Context, r *http.Request, id *identity) (string, error) {
	token := newToken()
	var staffID uuid.UUID
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		var err error
		staffID, err = upsertStaff(ctx, tx, id, a.now())
		if err != nil {
			return err
		}
		clinicIDs, err := syncClinics(ctx, tx, staffID, id)
		if err != nil {
			return err
		}
		amr := append([]string{}, id.amr...)
		var sessionID uuid.UUID
		err = tx.QueryRow(ctx, `INSERT INTO staff_sessions
			(token_hash, staff_id, roles, clinic_ids, amr, created_at, last_seen_at, absolute_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
			hashToken(token), staffID, roleStrings(id.roles), clinicIDs, amr, a.now(), a.now().Add(a.cfg.AbsoluteTimeout)).
			Scan(&sessionID)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		actor := visits.Actor{Kind: visits.ActorStaff, ID: staffID.String(), StaffID: staffID, Roles: id.roles,
			ClinicIDs: clinicIDs, ClientAddr: clientAddr(r), UserAgent: r.UserAgent()}
		return visits.Audit(ctx, tx, actor, visits.AuditEvent{Action: "staff.sign_in", ResourceType: "staff_session",
			ResourceID: sessionID.String(), Detail: map[string]any{"amr": amr}})
	})
	if err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	a.log.Info("staff signed in", "staff_id", staffID)
	return token, nil
}

// upsertStaff creates or refreshes the staff row of id's issuer and
// subject. A blank name or e-mail keeps the stored one.
func upsertStaff(ctx context.Context, tx pgx.Tx, id *identity, now time.Time) (uuid.UUID, error) {
	var staffID uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO staff (issuer, subject, display_name, email, roles, last_login_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (issuer, subject) DO UPDATE SET
			display_name = COALESCE(NULLIF(excluded.display_name, ''), staff.display_name),
			email = COALESCE(NULLIF(excluded.email, ''), staff.email),
			roles = excluded.roles, last_login_at = excluded.last_login_at
		RETURNING id`, id.issuer, id.subject, id.name, id.email, roleStrings(id.roles), now).Scan(&staffID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("upsert staff: %w", err)
	}
	return staffID, nil
}

// syncClinics makes the staff member's memberships those of the clinics
// claim (unknown slugs ignored) and returns the clinic ids. Without the
// claim, the stored memberships stand.
func syncClinics(ctx context.Context, tx pgx.Tx, staffID uuid.UUID, id *identity) ([]uuid.UUID, error) {
	if !id.clinicsPresent {
		return collectIDs(tx.Query(ctx, `SELECT clinic_id FROM staff_clinics WHERE staff_id = $1 ORDER BY clinic_id`, staffID))
	}
	ids, err := collectIDs(tx.Query(ctx, `SELECT id FROM clinics WHERE slug = ANY ($1) ORDER BY id`,
		append([]string{}, id.clinics...)))
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM staff_clinics WHERE staff_id = $1 AND NOT (clinic_id = ANY ($2))`,
		staffID, ids); err != nil {
		return nil, fmt.Errorf("drop clinic memberships: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO staff_clinics (staff_id, clinic_id) SELECT $1, unnest($2::uuid[])
		ON CONFLICT DO NOTHING`, staffID, ids); err != nil {
		return nil, fmt.Errorf("add clinic memberships: %w", err)
	}
	return ids, nil
}

func collectIDs(rows pgx.Rows, err error) ([]uuid.UUID, error) {
	if err != nil {
		return nil, fmt.Errorf("query clinics: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("read clinics: %w", err)
	}
	if ids == nil {
		ids = []uuid.UUID{}
	}
	slices.SortFunc(ids, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
	return ids, nil
}

// knownStaff returns the staff id of id's issuer and subject, if the row
// exists; it never creates one.
func (a *Auth) knownStaff(ctx context.Context, id *identity) (uuid.UUID, bool) {
	var staffID uuid.UUID
	err := a.pool.QueryRow(ctx, `SELECT id FROM staff WHERE issuer = $1 AND subject = $2`, id.issuer, id.subject).Scan(&staffID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		a.log.Warn("staff sign-in: look up staff", "err", err)
	}
	return staffID, err == nil
}

func (a *Auth) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: a.cfg.CookieName, Value: token, Path: "/",
		HttpOnly: true, Secure: a.cfg.CookieSecure, SameSite: http.SameSiteStrictMode})
}

func (a *Auth) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: a.cfg.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.cfg.CookieSecure, SameSite: http.SameSiteStrictMode})
}
