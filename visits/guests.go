package visits

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Guests are the other people in a visit: an interpreter, a family member,
// a caregiver. A clinician invites them; each gets a link of their own
// (PublicURL + "/guest#<token>"), has no knowledge check, waits until a
// clinician admits them, and can be removed for good. Guests never see the
// patient's record.

// GuestStatus is where a guest stands.
type GuestStatus string

// Guest states.
const (
	GuestInvited  GuestStatus = "invited"  // the link has not been opened
	GuestWaiting  GuestStatus = "waiting"  // in the waiting room
	GuestAdmitted GuestStatus = "admitted" // may have media while the visit is in progress
	GuestRemoved  GuestStatus = "removed"  // removed by a clinician; the link is dead
	GuestLeft     GuestStatus = "left"     // the visit ended
)

// maxActiveGuests bounds the guests of one visit who are not removed.
const maxActiveGuests = 10

var guestRoles = map[string]bool{"interpreter": true, "family": true, "caregiver": true, "other": true}

// GuestInvite is a clinician's invitation. DisplayName may be a relative's
// name: it is sealed at rest and never logged.
type GuestInvite struct {
	DisplayName string `json:"display_name"`
	Role        string `json:"role"` // interpreter, family, caregiver, other
}

func (g *GuestInvite) validate() error {
	g.DisplayName = strings.TrimSpace(g.DisplayName)
	n := utf8.RuneCountInString(g.DisplayName)
	if n < 1 || n > 100 || !utf8.ValidString(g.DisplayName) || strings.IndexFunc(g.DisplayName, unicode.IsControl) >= 0 {
		return invalid("display_name", "must be 1 to 100 characters without control characters")
	}
	if !guestRoles[g.Role] {
		return invalid("role", "must be interpreter, family, caregiver or other")
	}
	return nil
}

// IssuedGuestLink is returned once: the token is never stored or shown again.
type IssuedGuestLink struct {
	URL       string    `json:"url"`
	GuestID   uuid.UUID `json:"guest_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Guest is a visit's guest as clinicians see it.
type Guest struct {
	ID            uuid.UUID   `json:"id"`
	VisitID       uuid.UUID   `json:"visit_id"`
	DisplayName   string      `json:"display_name"`
	Role          string      `json:"role"`
	Status        GuestStatus `json:"status"`
	InvitedBy     uuid.UUID   `json:"invited_by"`
	CreatedAt     time.Time   `json:"created_at"`
	WaitingSince  *time.Time  `json:"waiting_since"`
	AdmittedAt    *time.Time  `json:"admitted_at"`
	RemovedAt     *time.Time  `json:"removed_at"`
	LinkExpiresAt time.Time   `json:"link_expires_at"`
}

// guestAAD binds a sealed display name to its guest row.
func guestAAD(guest uuid.UUID) []byte {
	return []byte("visit_guests/" + guest.String() + "/display_name")
}

// guestVisit is what guest changes need of the locked visit row.
type guestVisit struct {
	id, clinicID uuid.UUID
	clinicianID  *uuid.UUID
	status       Status
	endsAt       time.Time
}

func lockGuestVisit(ctx context.Context, tx pgx.Tx, id uuid.UUID) (guestVisit, error) {
	v := guestVisit{id: id}
	var starts time.Time
	var minutes int
	err := tx.QueryRow(ctx, `SELECT clinic_id, clinician_id, status, starts_at, duration_minutes
		FROM visits WHERE id = $1 FOR UPDATE`, id).Scan(&v.clinicID, &v.clinicianID, &v.status, &starts, &minutes)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	v.endsAt = starts.Add(time.Duration(minutes) * time.Minute)
	return v, err
}

// guestAction locks the visit, checks that the actor may run it (a
// clinician of the clinic who may handle the visit, as for Admit) and that
// it has not ended, runs fn and audits ev, in one transaction. Refusals are
// audited on their own. fn may fill ev.
func (s *Service) guestAction(ctx context.Context, a Actor, visit uuid.UUID, ev *AuditEvent, fn func(pgx.Tx, guestVisit) error) error {
	err := s.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		v, err := lockGuestVisit(ctx, tx, visit)
		if err != nil {
			return err
		}
		if !canRunWaitingRoom(a, v.clinicID) {
			return ErrForbidden
		}
		if err := mayHandle(a, &Visit{ClinicianID: v.clinicianID}); err != nil {
			return err
		}
		if v.status.Terminal() {
			return conflict("visit is " + string(v.status))
		}
		if err := fn(tx, v); err != nil {
			return err
		}
		return Audit(ctx, tx, a, *ev)
	})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return s.deny(ctx, a, *ev, err)
	}
	return err
}

// InviteGuest adds a guest to a visit that has not ended and issues their
// link, valid until the visit window (plus LinkGrace) ends.
func (s *Service) InviteGuest(ctx context.Context, a Actor, visit uuid.UUID, in GuestInvite) (IssuedGuestLink, error) {
	if err := in.validate(); err != nil {
		return IssuedGuestLink{}, err
	}
	out := IssuedGuestLink{GuestID: uuid.New()}
	name, err := s.keys.Seal([]byte(in.DisplayName), guestAAD(out.GuestID))
	if err != nil {
		return IssuedGuestLink{}, err
	}
	token, hash := newToken()
	ev := AuditEvent{Action: "guest.invite", ResourceType: "visit_guest", ResourceID: out.GuestID.String(), VisitID: visit}
	err = s.guestAction(ctx, a, visit, &ev, func(tx pgx.Tx, v guestVisit) error {
		out.ExpiresAt = v.endsAt.Add(s.cfg.LinkGrace)
		if !out.ExpiresAt.After(s.now()) {
			return conflict("the visit window has ended; reschedule the visit first")
		}
		if err := checkGuestCount(ctx, tx, visit); err != nil {
			return err
		}
		var link uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO visit_links (visit_id, kind, token_hash, created_by, expires_at)
			VALUES ($1, 'guest', $2, $3, $4) RETURNING id`, visit, hash, a.ID, out.ExpiresAt).Scan(&link); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO visit_guests (id, visit_id, link_id, display_name_enc, role, invited_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, out.GuestID, visit, link, name, in.Role, a.StaffID); err != nil {
			return err
		}
		return publish(ctx, tx, Event{Kind: "guest.invite", ClinicID: v.clinicID, VisitID: visit, Status: v.status})
	})
	if err != nil {
		return IssuedGuestLink{}, err
	}
	out.URL = s.cfg.PublicURL + "/guest#" + token
	return out, nil
}

func checkGuestCount(ctx context.Context, tx pgx.Tx, visit uuid.UUID) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM visit_guests
		WHERE visit_id = $1 AND status IN ('invited', 'waiting', 'admitted')`, visit).Scan(&n); err != nil {
		return err
	}
	if n >= maxActiveGuests {
		return conflict("the visit already has the most guests allowed; remove one first")
	}
	return nil
}

// AdmitGuest lets a waiting guest into the visit. They get media while the
// visit is in progress (see MediaGrant).
func (s *Service) AdmitGuest(ctx context.Context, a Actor, visit, guest uuid.UUID) (Guest, error) {
	return s.changeGuest(ctx, a, visit, guest, "guest.admit", func(tx pgx.Tx, g *Guest) error {
		if g.Status != GuestWaiting {
			return conflict("the guest is " + string(g.Status))
		}
		_, err := tx.Exec(ctx, `UPDATE visit_guests SET status = 'admitted', admitted_at = now(), admitted_by = $2
			WHERE id = $1`, g.ID, a.StaffID)
		return err
	})
}

// RemoveGuest removes a guest for good: their link is revoked and their
// sessions end, so media stops and the same link cannot bring them back.
func (s *Service) RemoveGuest(ctx context.Context, a Actor, visit, guest uuid.UUID) (Guest, error) {
	return s.changeGuest(ctx, a, visit, guest, "guest.remove", func(tx pgx.Tx, g *Guest) error {
		if g.Status == GuestRemoved || g.Status == GuestLeft {
			return conflict("the guest is " + string(g.Status))
		}
		if _, err := tx.Exec(ctx, `UPDATE visit_guests SET status = 'removed', removed_at = now(), removed_by = $2
			WHERE id = $1`, g.ID, a.ID); err != nil {
			return err
		}
		return endGuestAccess(ctx, tx, "g.id = $1", g.ID, a.ID)
	})
}

// changeGuest runs a guest change: the visit row lock, the policy, the
// guest row lock, fn, a NOTIFY and the audit event, in one transaction.
func (s *Service) changeGuest(ctx context.Context, a Actor, visit, guest uuid.UUID, action string, fn func(pgx.Tx, *Guest) error) (Guest, error) {
	ev := AuditEvent{Action: action, ResourceType: "visit_guest", ResourceID: guest.String(), VisitID: visit}
	var out Guest
	err := s.guestAction(ctx, a, visit, &ev, func(tx pgx.Tx, v guestVisit) error {
		g, err := s.loadGuest(ctx, tx, visit, guest, true)
		if err != nil {
			return err
		}
		if err := fn(tx, &g); err != nil {
			return err
		}
		if out, err = s.loadGuest(ctx, tx, visit, guest, false); err != nil {
			return err
		}
		ev.Detail = map[string]any{"from": string(g.Status), "to": string(out.Status)}
		return publish(ctx, tx, Event{Kind: action, ClinicID: v.clinicID, VisitID: visit, Status: v.status})
	})
	return out, err
}

// ListGuests returns a visit's guests, display names opened, to the
// clinicians of its clinic. The read is audited.
func (s *Service) ListGuests(ctx context.Context, a Actor, visit uuid.UUID) ([]Guest, error) {
	ev := AuditEvent{Action: "guest.list", ResourceType: "visit", ResourceID: visit.String(), VisitID: visit}
	var out []Guest
	err := s.inTx(ctx, "list guests", func(tx pgx.Tx) error {
		clinic, err := visitClinic(ctx, tx, visit)
		if err != nil {
			return err
		}
		if !canRunWaitingRoom(a, clinic) {
			return ErrForbidden
		}
		rows, err := tx.Query(ctx, "SELECT "+guestColumns+guestFrom+" WHERE g.visit_id = $1 ORDER BY g.created_at, g.id", visit)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Guest, error) { return s.scanGuest(r) }); err != nil {
			return err
		}
		ids := make([]string, len(out))
		for i, g := range out {
			ids[i] = g.ID.String()
		}
		ev.Detail = map[string]any{"guest_ids": ids}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return nil, s.deny(ctx, a, ev, err)
	}
	return out, err
}

const guestColumns = `g.id, g.visit_id, g.display_name_enc, g.role, g.status, g.invited_by, g.created_at,
	g.waiting_since, g.admitted_at, g.removed_at, l.expires_at`

const guestFrom = ` FROM visit_guests g JOIN visit_links l ON l.id = g.link_id `

func (s *Service) scanGuest(row rowScanner) (Guest, error) {
	var g Guest
	var name []byte
	err := row.Scan(&g.ID, &g.VisitID, &name, &g.Role, &g.Status, &g.InvitedBy, &g.CreatedAt,
		&g.WaitingSince, &g.AdmittedAt, &g.RemovedAt, &g.LinkExpiresAt)
	if err != nil {
		return g, err
	}
	plain, err := s.keys.Open(name, guestAAD(g.ID))
	if err != nil {
		return g, errors.New("open guest display_name: " + err.Error())
	}
	g.DisplayName = string(plain)
	return g, nil
}

// loadGuest reads one guest of visit; a guest of another visit is not found.
func (s *Service) loadGuest(ctx context.Context, tx pgx.Tx, visit, guest uuid.UUID, lock bool) (Guest, error) {
	q := "SELECT " + guestColumns + guestFrom + " WHERE g.id = $1 AND g.visit_id = $2"
	if lock {
		q += " FOR UPDATE OF g"
	}
	g, err := s.scanGuest(tx.QueryRow(ctx, q, guest, visit))
	if errors.Is(err, pgx.ErrNoRows) {
		return g, ErrNotFound
	}
	return g, err
}

// endGuests ends every guest of a visit that has ended: they have left,
// their links are revoked and their sessions end.
func endGuests(ctx context.Context, tx pgx.Tx, visit uuid.UUID, by string) error {
	if _, err := tx.Exec(ctx, `UPDATE visit_guests SET status = 'left'
		WHERE visit_id = $1 AND status IN ('invited', 'waiting', 'admitted')`, visit); err != nil {
		return err
	}
	return endGuestAccess(ctx, tx, "g.visit_id = $1", visit, by)
}

// endGuestAccess revokes the links and ends the sessions of the guests that
// where (a constant condition on g) selects.
func endGuestAccess(ctx context.Context, tx pgx.Tx, where string, arg any, by string) error {
	if _, err := tx.Exec(ctx, `UPDATE visit_links l SET revoked_at = now(), revoked_by = $2
		FROM visit_guests g WHERE g.link_id = l.id AND `+where+` AND l.revoked_at IS NULL`, arg, by); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE guest_sessions s SET ended_at = now()
		FROM visit_guests g WHERE g.id = s.guest_id AND `+where+` AND s.ended_at IS NULL`, arg)
	return err
}
