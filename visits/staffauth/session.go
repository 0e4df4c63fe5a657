package staffauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits"
)

// touchEvery spaces the last_seen_at updates of a busy session.
const touchEvery = 30 * time.Second

// Authenticate returns the staff member or API client behind r: a bearer
// access token in the Authorization header first, else the session
// cookie. It returns visits.ErrUnauthorized without a usable credential
// and visits.ErrSessionEnded for a session that ended (idle or absolute
// timeout, logout). A request with an Authorization header is judged by
// that header alone. A request whose context went through WithoutActivity
// does not count as activity.
func (a *Auth) Authenticate(r *http.Request) (visits.Actor, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return a.authenticateBearer(r, h)
	}
	c, err := r.Cookie(a.cfg.CookieName)
	if err != nil || !validToken(c.Value) {
		return visits.Actor{}, visits.ErrUnauthorized
	}
	return a.authenticateSession(r, c.Value)
}

// session is a staff_sessions row.
type session struct {
	id, staffID       uuid.UUID
	roles             []string
	clinicIDs         []uuid.UUID
	lastSeen, expires time.Time
	ended             *time.Time
}

func (a *Auth) authenticateSession(r *http.Request, token string) (visits.Actor, error) {
	ctx := r.Context()
	s, err := a.loadSession(ctx, hashToken(token))
	if err != nil {
		return visits.Actor{}, err
	}
	actor := visits.Actor{Kind: visits.ActorStaff, ID: s.staffID.String(), StaffID: s.staffID,
		Roles: rolesFrom(s.roles), ClinicIDs: s.clinicIDs, ClientAddr: clientAddr(r), UserAgent: r.UserAgent()}
	now := a.now()
	switch {
	case s.ended != nil:
		return visits.Actor{}, visits.ErrSessionEnded
	case !now.Before(s.expires):
		return visits.Actor{}, a.endSession(ctx, s.id, actor, "absolute_timeout")
	case !now.Before(s.lastSeen.Add(a.cfg.IdleTimeout)):
		return visits.Actor{}, a.endSession(ctx, s.id, actor, "idle_timeout")
	}
	if now.Sub(s.lastSeen) >= touchEvery && !passive(ctx) {
		if _, err := a.pool.Exec(ctx, `UPDATE staff_sessions SET last_seen_at = $2
			WHERE id = $1 AND ended_at IS NULL AND last_seen_at < $2`, s.id, now); err != nil {
			return visits.Actor{}, fmt.Errorf("staff session: touch: %w", err)
		}
	}
	return actor, nil
}

func (a *Auth) loadSession(ctx context.Context, hash []byte) (*session, error) {
	var s session
	err := a.pool.QueryRow(ctx, `SELECT id, staff_id, roles, clinic_ids, last_seen_at, absolute_expires_at, ended_at
		FROM staff_sessions WHERE token_hash = $1`, hash).
		Scan(&s.id, &s.staffID, &s.roles, &s.clinicIDs, &s.lastSeen, &s.expires, &s.ended)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, visits.ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("staff session: load: %w", err)
	}
	return &s, nil
}

// endSession ends session id for reason and audits it, once: a request
// that loses the race to end it audits nothing. It returns
// visits.ErrSessionEnded, or the error that kept it from recording the end.
func (a *Auth) endSession(ctx context.Context, id uuid.UUID, actor visits.Actor, reason string) error {
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_sessions SET ended_at = $2, end_reason = $3
			WHERE id = $1 AND ended_at IS NULL`, id, a.now(), reason)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		action := "staff.session_timeout"
		if reason == "logout" {
			action = "staff.sign_out"
		}
		return visits.Audit(ctx, tx, actor, visits.AuditEvent{Action: action, ResourceType: "staff_session",
			ResourceID: id.String(), Detail: map[string]any{"reason": reason}})
	})
	if err != nil {
		return fmt.Errorf("staff session: end (%s): %w", reason, err)
	}
	return visits.ErrSessionEnded
}

// SessionExpiry says when the actor's access ends if nothing else happens:
// for a signed-in staff member, the latest time at which one of their open
// sessions ends when idle from now on (sessions are not told apart by the
// Actor, so a caller should check again at that time); for a bearer token,
// the expiry of the latest token seen for that identity. It returns
// visits.ErrSessionEnded when nothing is open.
func (a *Auth) SessionExpiry(ctx context.Context, actor visits.Actor) (time.Time, error) {
	if !actor.IsStaff() || actor.StaffID == uuid.Nil {
		return time.Time{}, visits.ErrUnauthorized
	}
	end, err := a.sessionsEnd(ctx, actor.StaffID)
	if err != nil {
		return time.Time{}, err
	}
	if exp, ok := a.cache.tokenExpiry(actor.StaffID); ok && exp.After(end) {
		end = exp
	}
	if !end.After(a.now()) {
		return time.Time{}, visits.ErrSessionEnded
	}
	return end, nil
}

// sessionsEnd is the latest end of staffID's open sessions (zero if none).
func (a *Auth) sessionsEnd(ctx context.Context, staffID uuid.UUID) (time.Time, error) {
	rows, err := a.pool.Query(ctx, `SELECT last_seen_at, absolute_expires_at FROM staff_sessions
		WHERE staff_id = $1 AND ended_at IS NULL AND absolute_expires_at > $2`, staffID, a.now())
	if err != nil {
		return time.Time{}, fmt.Errorf("session expiry: %w", err)
	}
	var end time.Time
	var lastSeen, abs time.Time
	_, err = pgx.ForEachRow(rows, []any{&lastSeen, &abs}, func() error {
		e := lastSeen.Add(a.cfg.IdleTimeout)
		if abs.Before(e) {
			e = abs
		}
		if e.After(end) {
			end = e
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("session expiry: %w", err)
	}
	return end, nil
}
