package visits

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LinkInfo is what a visit link shows before the patient proves who they
// are: no PHI, only the clinic and the time.
type LinkInfo struct {
	ClinicName      string    `json:"clinic_name"`
	ClinicTimezone  string    `json:"clinic_timezone"`
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"`
}

// link is a visit link joined with what check-in needs of its visit.
type link struct {
	id, visitID, clinicID uuid.UUID
	expiresAt             time.Time
	revoked, locked       bool
	failed                int
	status                Status
	dobEnc                []byte
	info                  LinkInfo
}

// loadLink finds a patient link. A guest's token is not found here: a guest
// who knows the patient's date of birth must not become the patient.
func (s *Service) loadLink(ctx context.Context, tx pgx.Tx, token string, lock bool) (link, error) {
	var l link
	if !plausibleToken(token) {
		return l, ErrNotFound
	}
	q := `SELECT l.id, l.visit_id, v.clinic_id, l.expires_at, l.revoked_at IS NOT NULL, l.locked_at IS NOT NULL,
		l.failed_attempts, v.status, v.patient_dob_enc, c.name, c.timezone, v.starts_at, v.duration_minutes
		FROM visit_links l JOIN visits v ON v.id = l.visit_id JOIN clinics c ON c.id = v.clinic_id
		WHERE l.token_hash = $1 AND l.kind = 'patient'`
	if lock {
		// Lock order as everywhere else (apply, revokeLinks): the visit row
		// first, then its links, so a knowledge check racing a cancel or a
		// re-issue waits instead of deadlocking.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM visits WHERE id =
			(SELECT visit_id FROM visit_links WHERE token_hash = $1 AND kind = 'patient') FOR UPDATE`,
			hashToken(token)); err != nil {
			return l, err
		}
		q += " FOR UPDATE OF l"
	}
	err := tx.QueryRow(ctx, q, hashToken(token)).Scan(&l.id, &l.visitID, &l.clinicID, &l.expiresAt, &l.revoked,
		&l.locked, &l.failed, &l.status, &l.dobEnc, &l.info.ClinicName, &l.info.ClinicTimezone,
		&l.info.StartsAt, &l.info.DurationMinutes)
	if err == pgx.ErrNoRows {
		return l, ErrNotFound
	}
	return l, err
}

// usable says why a link cannot be used now, or nil.
func (s *Service) usable(l link) error {
	switch {
	case l.revoked:
		return ErrLinkRevoked
	case l.locked:
		return ErrLinkLocked
	case !s.now().Before(l.expiresAt) || l.status.Terminal():
		return ErrLinkExpired
	}
	return nil
}

// OpenLink checks a link and returns what the patient sees before the
// knowledge check.
func (s *Service) OpenLink(ctx context.Context, a Actor, token string) (LinkInfo, error) {
	var info LinkInfo
	err := s.inTx(ctx, "open link", func(tx pgx.Tx) error {
		l, err := s.loadLink(ctx, tx, token, false)
		if err != nil {
			return err
		}
		ev := AuditEvent{Action: "link.open", ResourceType: "visit_link", ResourceID: l.id.String(), VisitID: l.visitID}
		if err := s.usable(l); err != nil {
			ev.Outcome, ev.Detail = OutcomeDenied, map[string]any{"reason": err.Error()}
			if aerr := Audit(ctx, tx, a, ev); aerr != nil {
				return aerr
			}
			return commitWith(err)
		}
		info = l.info
		return Audit(ctx, tx, a, ev)
	})
	return info, unwrapCommit(err)
}

// PatientSession is the short-lived session a patient gets after the
// knowledge check. Token goes into an HttpOnly cookie and nowhere else.
type PatientSession struct {
	Token     string    `json:"-"`
	VisitID   uuid.UUID `json:"-"`
	ExpiresAt time.Time `json:"expires_at"`
}

// VerifyPatient runs the knowledge check (date of birth). Wrong answers are
// counted; the last allowed one locks the link and tells the clinic's staff.
func (s *Service) VerifyPatient(ctx context.Context, a Actor, token, dob string) (PatientSession, error) {
	var ps PatientSession
	err := s.inTx(ctx, "verify patient", func(tx pgx.Tx) error {
		l, err := s.loadLink(ctx, tx, token, true)
		if err != nil {
			return err
		}
		if err := s.usable(l); err != nil {
			return err
		}
		ok, err := s.dobMatches(l, dob)
		if err != nil {
			return err
		}
		if !ok {
			return commitWith(s.wrongAnswer(ctx, tx, a, l))
		}
		ps, err = s.startPatientSession(ctx, tx, a, l)
		return err
	})
	return ps, unwrapCommit(err)
}

func (s *Service) dobMatches(l link, answer string) (bool, error) {
	given, err := time.Parse(time.DateOnly, answer)
	if err != nil {
		return false, invalid("date_of_birth", "must be a date as YYYY-MM-DD")
	}
	stored, err := s.open(l.visitID, "patient_dob", l.dobEnc)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(given.Format(time.DateOnly)), []byte(stored)) == 1, nil
}

func (s *Service) wrongAnswer(ctx context.Context, tx pgx.Tx, a Actor, l link) error {
	l.failed++
	locked := l.failed >= s.cfg.MaxCheckAttempts
	if _, err := tx.Exec(ctx, `UPDATE visit_links SET failed_attempts = $2,
		locked_at = CASE WHEN $3 THEN now() ELSE locked_at END WHERE id = $1`, l.id, l.failed, locked); err != nil {
		return err
	}
	ev := AuditEvent{Action: "patient.verify", ResourceType: "visit_link", ResourceID: l.id.String(),
		VisitID: l.visitID, Outcome: OutcomeDenied, Detail: map[string]any{"failed_attempts": l.failed}}
	if !locked {
		if err := Audit(ctx, tx, a, ev); err != nil {
			return err
		}
		return ErrWrongAnswer
	}
	if err := publish(ctx, tx, Event{Kind: "link.locked", ClinicID: l.clinicID, VisitID: l.visitID, Status: l.status}); err != nil {
		return err
	}
	ev.Detail["locked"] = true
	if err := Audit(ctx, tx, a, ev); err != nil {
		return err
	}
	return ErrLinkLocked
}

func (s *Service) startPatientSession(ctx context.Context, tx pgx.Tx, a Actor, l link) (PatientSession, error) {
	token, hash := newToken()
	exp := s.now().Add(s.cfg.PatientSessionTTL)
	if end := l.expiresAt.Add(time.Hour); end.Before(exp) {
		exp = end
	}
	var sid uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO patient_sessions (token_hash, visit_id, link_id, expires_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, hash, l.visitID, l.id, exp).Scan(&sid)
	if err != nil {
		return PatientSession{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE visit_links SET failed_attempts = 0 WHERE id = $1`, l.id); err != nil {
		return PatientSession{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE visits SET identity_verified_at = coalesce(identity_verified_at, now()),
		updated_at = now() WHERE id = $1`, l.visitID); err != nil {
		return PatientSession{}, err
	}
	ev := AuditEvent{Action: "patient.verify", ResourceType: "patient_session", ResourceID: sid.String(), VisitID: l.visitID}
	return PatientSession{Token: token, VisitID: l.visitID, ExpiresAt: exp}, Audit(ctx, tx, a, ev)
}

// AuthenticatePatient turns a patient session token into an Actor for the
// one visit the session is for.
func (s *Service) AuthenticatePatient(ctx context.Context, token, addr, userAgent string) (Actor, error) {
	if !plausibleToken(token) {
		return Actor{}, ErrUnauthorized
	}
	var sid, visit uuid.UUID
	var expires, seen time.Time
	var ended bool
	err := s.pool.QueryRow(ctx, `SELECT id, visit_id, expires_at, last_seen_at, ended_at IS NOT NULL
		FROM patient_sessions WHERE token_hash = $1`, hashToken(token)).Scan(&sid, &visit, &expires, &seen, &ended)
	if err == pgx.ErrNoRows {
		return Actor{}, ErrUnauthorized
	}
	if err != nil {
		return Actor{}, err
	}
	if ended || !s.now().Before(expires) {
		return Actor{}, ErrSessionEnded
	}
	if s.now().Sub(seen) > 30*time.Second {
		_, _ = s.pool.Exec(ctx, "UPDATE patient_sessions SET last_seen_at = now() WHERE id = $1", sid)
	}
	return Actor{Kind: ActorPatient, ID: sid.String(), VisitID: visit, ClientAddr: addr, UserAgent: userAgent}, nil
}

// EndPatientSession ends the caller's patient session (leave, sign out).
func (s *Service) EndPatientSession(ctx context.Context, a Actor) error {
	if a.Kind != ActorPatient {
		return ErrForbidden
	}
	_, err := s.pool.Exec(ctx, "UPDATE patient_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL", a.ID)
	return err
}
