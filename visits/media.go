package visits

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Grant is the admission gate's answer for one participant of one visit:
// whether their PeerConnection may join the visit's room (send and receive
// media) now. Signaling asks before a PeerConnection joins and again on
// every event of the visit; Admitted false means: no media, in either
// direction.
type Grant struct {
	VisitID uuid.UUID `json:"visit_id"`
	// ParticipantID is stable per person per visit: "patient",
	// "clinician:<staff id>" or "guest:<guest id>". Never PHI.
	ParticipantID string `json:"participant_id"`
	Role          string `json:"role"` // patient, clinician, guest
	// DisplayName is what the other participants see: "Patient" for the
	// patient, the clinician's name, the guest's name. A guest's name may be
	// PHI: show it only to participants of the same visit, never log it.
	DisplayName string `json:"display_name"`
	Admitted    bool   `json:"admitted"`
	Reason      string `json:"reason,omitempty"` // one of the Reason constants when not admitted
}

// Why a grant is not admitted.
const (
	ReasonVisitScheduled    = "visit_scheduled"     // the patient has not checked in
	ReasonVisitWaiting      = "visit_waiting"       // the patient is in the waiting room (or was sent back)
	ReasonVisitEnded        = "visit_ended"         // completed, cancelled or no-show
	ReasonGuestWaiting      = "guest_waiting"       // the guest has not been admitted
	ReasonNotVisitClinician = "not_visit_clinician" // a clinician of the clinic, but not this visit's
	ReasonGuestRemoved      = "guest_removed"       // a clinician removed the guest
	ReasonSessionEnded      = "session_ended"       // the patient's or guest's session ended or expired
)

// visitReason is why nobody has media in a visit in state st ("" when in
// progress).
func visitReason(st Status) string {
	switch {
	case st == StatusInProgress:
		return ""
	case st == StatusScheduled:
		return ReasonVisitScheduled
	case st == StatusWaiting:
		return ReasonVisitWaiting
	}
	return ReasonVisitEnded
}

// MediaGrant decides whether a may have media in visit now: the patient
// while the visit is in progress; its clinician (clinician_id) while it is
// in progress; a guest while they are admitted and the visit is in
// progress. Patients and guests may pass uuid.Nil for their own visit.
// Every decision is audited ("media.grant", denied when not admitted).
// A patient or guest whose session has ended (left, link revoked, link
// opened again elsewhere, visit over) or a removed guest gets Admitted
// false with ReasonSessionEnded or ReasonGuestRemoved, not an error, so
// that a caller that only looks at Admitted still stops their media.
// Errors: ErrForbidden for anyone else (another visit's patient or guest,
// staff of another clinic, schedulers, API clients); ErrNotFound for an
// unknown visit. On any error, or Admitted false, the caller must not
// forward media.
func (s *Service) MediaGrant(ctx context.Context, a Actor, visit uuid.UUID) (Grant, error) {
	if visit == uuid.Nil && (a.Kind == ActorPatient || a.Kind == ActorGuest) {
		visit = a.VisitID
	}
	ev := AuditEvent{Action: "media.grant", ResourceType: "visit", ResourceID: visit.String(), VisitID: visit}
	var g Grant
	err := s.inTx(ctx, "media grant", func(tx pgx.Tx) error {
		var err error
		switch a.Kind {
		case ActorPatient:
			g, err = s.patientGrant(ctx, tx, a, visit)
		case ActorGuest:
			g, err = s.guestGrant(ctx, tx, a, visit)
		case ActorStaff:
			g, err = s.clinicianGrant(ctx, tx, a, visit)
		default:
			err = ErrForbidden
		}
		if err != nil {
			return err
		}
		g.VisitID = visit
		ev.Detail = map[string]any{"participant_id": g.ParticipantID, "admitted": g.Admitted}
		if !g.Admitted {
			ev.Outcome, ev.Detail["reason"] = OutcomeDenied, g.Reason
		}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return Grant{}, s.deny(ctx, a, ev, err)
	}
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

// liveSession reports whether the session a.ID of table, which must be
// for visit, has neither ended nor expired.
func (s *Service) liveSession(ctx context.Context, tx pgx.Tx, table string, a Actor, visit uuid.UUID) (bool, error) {
	sid, err := uuid.Parse(a.ID)
	if err != nil || visit != a.VisitID {
		return false, ErrForbidden
	}
	var ended bool
	var expires time.Time
	err = tx.QueryRow(ctx, `SELECT ended_at IS NOT NULL, expires_at FROM `+table+` WHERE id = $1 AND visit_id = $2`,
		sid, visit).Scan(&ended, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrForbidden
	}
	if err != nil {
		return false, err
	}
	return !ended && s.now().Before(expires), nil
}

func (s *Service) patientGrant(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) (Grant, error) {
	g := Grant{ParticipantID: "patient", Role: "patient", DisplayName: "Patient"}
	live, err := s.liveSession(ctx, tx, "patient_sessions", a, visit)
	if err != nil || !live {
		g.Reason = ReasonSessionEnded
		return g, err
	}
	var st Status
	if err := tx.QueryRow(ctx, "SELECT status FROM visits WHERE id = $1", visit).Scan(&st); err != nil {
		return Grant{}, err
	}
	g.Reason = visitReason(st)
	g.Admitted = g.Reason == ""
	return g, nil
}

func (s *Service) guestGrant(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) (Grant, error) {
	live, err := s.liveSession(ctx, tx, "guest_sessions", a, visit)
	if err != nil {
		return Grant{}, err
	}
	g := Grant{ParticipantID: "guest:" + a.GuestID.String(), Role: "guest"}
	var gst GuestStatus
	var vst Status
	var name []byte
	err = tx.QueryRow(ctx, `SELECT g.status, g.display_name_enc, v.status FROM visit_guests g
		JOIN visits v ON v.id = g.visit_id WHERE g.id = $1 AND g.visit_id = $2`, a.GuestID, visit).Scan(&gst, &name, &vst)
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, ErrForbidden
	}
	if err != nil {
		return Grant{}, err
	}
	switch {
	case gst == GuestRemoved:
		g.Reason = ReasonGuestRemoved
		return g, nil
	case !live || gst == GuestLeft:
		g.Reason = ReasonSessionEnded
		return g, nil
	}
	plain, err := s.keys.Open(name, guestAAD(a.GuestID))
	if err != nil {
		return Grant{}, errors.New("open guest display_name: " + err.Error())
	}
	g.DisplayName = string(plain)
	g.Reason = visitReason(vst)
	if g.Reason == "" && gst != GuestAdmitted {
		g.Reason = ReasonGuestWaiting
	}
	g.Admitted = g.Reason == ""
	return g, nil
}

// clinicianGrant: people only (API clients never join a room), clinicians
// of the visit's clinic; admitted only as the visit's clinician.
func (s *Service) clinicianGrant(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) (Grant, error) {
	var clinic uuid.UUID
	var clinician *uuid.UUID
	var st Status
	var name string
	err := tx.QueryRow(ctx, `SELECT v.clinic_id, v.clinician_id, v.status, coalesce(s.display_name, '')
		FROM visits v LEFT JOIN staff s ON s.id = $2 WHERE v.id = $1`, visit, a.StaffID).Scan(&clinic, &clinician, &st, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, ErrNotFound
	}
	if err != nil {
		return Grant{}, err
	}
	if !canRunWaitingRoom(a, clinic) {
		return Grant{}, ErrForbidden
	}
	g := Grant{ParticipantID: "clinician:" + a.StaffID.String(), Role: "clinician", DisplayName: name}
	g.Reason = visitReason(st)
	if clinician == nil || *clinician != a.StaffID {
		g.Reason = ReasonNotVisitClinician
	}
	g.Admitted = g.Reason == ""
	return g, nil
}
