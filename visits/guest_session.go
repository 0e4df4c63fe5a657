package visits

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// GuestSession is the session a guest gets by opening their link. Token
// goes into an HttpOnly cookie and nowhere else.
type GuestSession struct {
	Token     string    `json:"-"`
	VisitID   uuid.UUID `json:"-"`
	GuestID   uuid.UUID `json:"-"`
	ExpiresAt time.Time `json:"expires_at"`
}

// guestLink is a guest link joined with its guest and visit.
type guestLink struct {
	id, guestID, visitID, clinicID uuid.UUID
	expiresAt                      time.Time
	revoked                        bool
	guestStatus                    GuestStatus
	visitStatus                    Status
}

// loadGuestLink finds a guest link and locks its visit, then the link and
// the guest, in the order every guest and visit change takes them (the
// visit row first), so a guest opening their link while a clinician admits
// or removes them, or ends the visit, waits instead of deadlocking.
func loadGuestLink(ctx context.Context, tx pgx.Tx, token string) (guestLink, error) {
	var l guestLink
	if !plausibleToken(token) {
		return l, ErrNotFound
	}
	hash := hashToken(token)
	err := tx.QueryRow(ctx, `SELECT id, clinic_id, status FROM visits
		WHERE id = (SELECT visit_id FROM visit_links WHERE token_hash = $1 AND kind = 'guest') FOR UPDATE`, hash).
		Scan(&l.visitID, &l.clinicID, &l.visitStatus)
	if err == nil {
		err = tx.QueryRow(ctx, `SELECT l.id, g.id, l.expires_at, l.revoked_at IS NOT NULL, g.status
			FROM visit_links l JOIN visit_guests g ON g.link_id = l.id
			WHERE l.token_hash = $1 AND l.kind = 'guest' FOR UPDATE OF l, g`, hash).
			Scan(&l.id, &l.guestID, &l.expiresAt, &l.revoked, &l.guestStatus)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// usableGuestLink says why a guest link cannot be used now, or nil.
func (s *Service) usableGuestLink(l guestLink) error {
	switch {
	case l.guestStatus == GuestRemoved:
		return ErrLinkRevoked
	case !s.now().Before(l.expiresAt) || l.visitStatus.Terminal() || l.guestStatus == GuestLeft:
		return ErrLinkExpired
	case l.revoked:
		return ErrLinkRevoked
	}
	return nil
}

// StartGuestSession opens a guest link: there is no knowledge check (a
// guest is not the patient). The guest's earlier sessions end and the guest
// waits (again) for a clinician to admit them; the clinic's consoles hear
// "guest.waiting". A link that cannot be used is refused and the refusal
// audited.
func (s *Service) StartGuestSession(ctx context.Context, a Actor, token string) (GuestSession, error) {
	var gs GuestSession
	err := s.inTx(ctx, "start guest session", func(tx pgx.Tx) error {
		l, err := loadGuestLink(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := s.usableGuestLink(l); err != nil {
			ev := AuditEvent{Action: "guest.session_start", ResourceType: "visit_guest", ResourceID: l.guestID.String(),
				VisitID: l.visitID, Outcome: OutcomeDenied, Detail: map[string]any{"reason": err.Error()}}
			if aerr := Audit(ctx, tx, a, ev); aerr != nil {
				return aerr
			}
			return commitWith(err)
		}
		gs, err = s.startGuestSession(ctx, tx, a, l)
		return err
	})
	return gs, unwrapCommit(err)
}

func (s *Service) startGuestSession(ctx context.Context, tx pgx.Tx, a Actor, l guestLink) (GuestSession, error) {
	token, hash := newToken()
	exp := s.now().Add(s.cfg.PatientSessionTTL)
	if end := l.expiresAt.Add(time.Hour); end.Before(exp) {
		exp = end
	}
	if _, err := tx.Exec(ctx, `UPDATE guest_sessions SET ended_at = now() WHERE guest_id = $1 AND ended_at IS NULL`,
		l.guestID); err != nil {
		return GuestSession{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE visit_guests SET status = 'waiting', waiting_since = now(),
		admitted_at = NULL, admitted_by = NULL WHERE id = $1`, l.guestID); err != nil {
		return GuestSession{}, err
	}
	var sid uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO guest_sessions (token_hash, guest_id, visit_id, expires_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, hash, l.guestID, l.visitID, exp).Scan(&sid); err != nil {
		return GuestSession{}, err
	}
	if err := publish(ctx, tx, Event{Kind: "guest.waiting", ClinicID: l.clinicID, VisitID: l.visitID, Status: l.visitStatus}); err != nil {
		return GuestSession{}, err
	}
	ev := AuditEvent{Action: "guest.session_start", ResourceType: "guest_session", ResourceID: sid.String(),
		VisitID: l.visitID, Detail: map[string]any{"guest_id": l.guestID.String(), "from": string(l.guestStatus)}}
	return GuestSession{Token: token, VisitID: l.visitID, GuestID: l.guestID, ExpiresAt: exp}, Audit(ctx, tx, a, ev)
}

// AuthenticateGuest turns a guest session token into an Actor for the one
// visit the guest was invited to. A session ends when it is replaced, when
// the guest is removed, when the visit ends, or when it expires.
func (s *Service) AuthenticateGuest(ctx context.Context, token, addr, userAgent string) (Actor, error) {
	if !plausibleToken(token) {
		return Actor{}, ErrUnauthorized
	}
	var sid, guest, visit uuid.UUID
	var expires, seen time.Time
	var ended bool
	var gst GuestStatus
	var vst Status
	err := s.pool.QueryRow(ctx, `SELECT s.id, s.guest_id, s.visit_id, s.expires_at, s.last_seen_at,
		s.ended_at IS NOT NULL, g.status, v.status
		FROM guest_sessions s JOIN visit_guests g ON g.id = s.guest_id JOIN visits v ON v.id = s.visit_id
		WHERE s.token_hash = $1`, hashToken(token)).Scan(&sid, &guest, &visit, &expires, &seen, &ended, &gst, &vst)
	if errors.Is(err, pgx.ErrNoRows) {
		return Actor{}, ErrUnauthorized
	}
	if err != nil {
		return Actor{}, err
	}
	if ended || !s.now().Before(expires) || gst == GuestRemoved || gst == GuestLeft || vst.Terminal() {
		return Actor{}, ErrSessionEnded
	}
	if s.now().Sub(seen) > 30*time.Second {
		_, _ = s.pool.Exec(ctx, "UPDATE guest_sessions SET last_seen_at = now() WHERE id = $1", sid)
	}
	return Actor{Kind: ActorGuest, ID: sid.String(), VisitID: visit, GuestID: guest, ClientAddr: addr, UserAgent: userAgent}, nil
}

// GuestView is what a guest sees: their own state, the clinic and the
// time. No PHI: not the patient's name, not even the guest's own.
type GuestView struct {
	Status          GuestStatus `json:"status"`
	Role            string      `json:"role"`
	VisitStatus     Status      `json:"visit_status"`
	ClinicName      string      `json:"clinic_name"`
	ClinicTimezone  string      `json:"clinic_timezone"`
	StartsAt        time.Time   `json:"starts_at"`
	DurationMinutes int         `json:"duration_minutes"`
}

// GuestView returns the calling guest's state.
func (s *Service) GuestView(ctx context.Context, a Actor) (GuestView, error) {
	if a.Kind != ActorGuest {
		return GuestView{}, ErrForbidden
	}
	var gv GuestView
	err := s.pool.QueryRow(ctx, `SELECT g.status, g.role, v.status, c.name, c.timezone, v.starts_at, v.duration_minutes
		FROM visit_guests g JOIN visits v ON v.id = g.visit_id JOIN clinics c ON c.id = v.clinic_id
		WHERE g.id = $1 AND g.visit_id = $2`, a.GuestID, a.VisitID).
		Scan(&gv.Status, &gv.Role, &gv.VisitStatus, &gv.ClinicName, &gv.ClinicTimezone, &gv.StartsAt, &gv.DurationMinutes)
	if errors.Is(err, pgx.ErrNoRows) {
		return gv, ErrNotFound
	}
	return gv, err
}

// EndGuestSession ends the caller's guest session (the guest leaves the
// page). The guest stays invited: opening the link again puts them back in
// the waiting room.
func (s *Service) EndGuestSession(ctx context.Context, a Actor) error {
	if a.Kind != ActorGuest {
		return ErrForbidden
	}
	_, err := s.pool.Exec(ctx, "UPDATE guest_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL", a.ID)
	return err
}
