package visits

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits/notify"
)

// IssueLinkRequest says whether and how to send a newly issued link.
type IssueLinkRequest struct {
	Send    bool   `json:"send"`
	Channel string `json:"channel"` // email or sms; required when Send
}

// IssuedLink is returned once: the token is never stored or shown again.
type IssuedLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Queued    bool      `json:"queued"` // a message is in the outbox
}

// IssueLink issues a new patient link for a visit, revoking earlier ones
// (and ending their sessions), and optionally queues it to the patient.
func (s *Service) IssueLink(ctx context.Context, a Actor, id uuid.UUID, req IssueLinkRequest) (IssuedLink, error) {
	if req.Send && req.Channel != "email" && req.Channel != "sms" {
		return IssuedLink{}, invalid("channel", "must be email or sms")
	}
	token, hash := newToken()
	var out IssuedLink
	_, err := s.apply(ctx, a, id, change{
		action: "link.issue", allowed: canSchedule,
		guard: func(_ Actor, v *Visit) error {
			if v.Status != StatusScheduled && v.Status != StatusWaiting {
				return conflict("visit is " + string(v.Status))
			}
			out.ExpiresAt = v.EndsAt().Add(s.cfg.LinkGrace)
			if !out.ExpiresAt.After(s.now()) {
				return conflict("the visit window has ended; reschedule the visit first")
			}
			return nil
		},
		after: func(tx pgx.Tx, v *Visit) error {
			if err := revokeLinks(ctx, tx, v.ID, a.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO visit_links (visit_id, token_hash, created_by, expires_at)
				VALUES ($1, $2, $3, $4)`, v.ID, hash, a.ID, out.ExpiresAt); err != nil {
				return err
			}
			out.URL = s.cfg.PublicURL + "/join#" + token
			if !req.Send {
				return nil
			}
			out.Queued = true
			return s.enqueueLink(ctx, tx, v, req.Channel, out.URL)
		},
	})
	return out, err
}

func (s *Service) enqueueLink(ctx context.Context, tx pgx.Tx, v *Visit, channel, link string) error {
	to := v.Patient.Email
	if channel == "sms" {
		to = v.Patient.Phone
	}
	if to == "" {
		return invalid("channel", "the patient has no "+map[string]string{"email": "e-mail address", "sms": "phone number"}[channel])
	}
	var clinic, tz string
	if err := tx.QueryRow(ctx, "SELECT name, timezone FROM clinics WHERE id = $1", v.ClinicID).Scan(&clinic, &tz); err != nil {
		return err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	when := v.StartsAt.In(loc).Format("Mon Jan 2 at 3:04 PM MST")
	body := fmt.Sprintf("Your video visit with %s is on %s.\nJoin from your phone or computer: %s\nThis link is personal: please do not share it.", clinic, when, link)
	_, err = notify.Enqueue(ctx, tx, s.keys, notify.Message{VisitID: v.ID, Channel: notify.Channel(channel),
		Recipient: to, Subject: "Your video visit with " + clinic, Body: body})
	return err
}

// RevokeLink revokes every patient link of a visit and ends the sessions
// opened with them. Guests' links stay (RemoveGuest ends a guest).
func (s *Service) RevokeLink(ctx context.Context, a Actor, id uuid.UUID) error {
	_, err := s.apply(ctx, a, id, change{
		action: "link.revoke", allowed: canSchedule,
		after: func(tx pgx.Tx, v *Visit) error { return revokeLinks(ctx, tx, v.ID, a.ID) },
	})
	return err
}

// revokeLinks revokes a visit's patient links and ends patient sessions;
// guest links and sessions are not touched (endGuests ends those).
func revokeLinks(ctx context.Context, tx pgx.Tx, visit uuid.UUID, by string) error {
	if _, err := tx.Exec(ctx, `UPDATE visit_links SET revoked_at = now(), revoked_by = $2
		WHERE visit_id = $1 AND kind = 'patient' AND revoked_at IS NULL`, visit, by); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE patient_sessions SET ended_at = now()
		WHERE visit_id = $1 AND ended_at IS NULL`, visit)
	return err
}
