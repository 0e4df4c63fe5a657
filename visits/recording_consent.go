package visits

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RequestRecording starts a recording session of a visit: only the visit's
// clinician may ask, while the visit is in progress, and only one session
// of a visit may be pending or active. Every participant named (the room's
// participants; the clinician is always added) is asked; the patient's
// request carries their check-in answer, which they must confirm again.
// Errors: ErrForbidden, ErrConflict (visit not in progress, a recording
// already live), ErrInvalid (a malformed participant ID), ErrNotFound.
func (s *Service) RequestRecording(ctx context.Context, a Actor, visit uuid.UUID, participants []string) (Recording, error) {
	ev := AuditEvent{Action: "recording.request", ResourceType: "recording", VisitID: visit}
	me := ParticipantOf(a)
	for _, p := range participants {
		if !validParticipant(p) {
			return Recording{}, invalid("participants", "must be patient, clinician:<id> or guest:<id>")
		}
	}
	asked := []string{me}
	for _, p := range participants {
		if !containsStr(asked, p) {
			asked = append(asked, p)
		}
	}
	var rec Recording
	err := s.inTx(ctx, "request recording", func(tx pgx.Tx) error {
		clinic, checkin, err := s.recordingGate(ctx, tx, a, visit)
		if err != nil {
			return err
		}
		rec = Recording{ID: uuid.New(), VisitID: visit, ClinicID: clinic, RequestedBy: a.StaffID, RequestedAt: s.now(),
			State: RecordingPending}
		_, err = tx.Exec(ctx, `INSERT INTO recordings (id, visit_id, requested_by, requested_at) VALUES ($1, $2, $3, $4)`,
			rec.ID, visit, a.StaffID, rec.RequestedAt)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		for _, p := range asked {
			c, err := s.insertConsent(ctx, tx, rec.ID, p, checkin)
			if err != nil {
				return err
			}
			rec.Consents = append(rec.Consents, c)
		}
		ev.ResourceID = rec.ID.String()
		ev.Detail = map[string]any{"asked": asked}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return Recording{}, s.deny(ctx, a, ev, err)
	}
	return rec, err
}

// recordingGate: a must be the clinician of visit, which is in progress.
// It returns the visit's clinic and the patient's check-in answer.
func (s *Service) recordingGate(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) (uuid.UUID, string, error) {
	var clinic uuid.UUID
	var clinician *uuid.UUID
	var st Status
	var checkin string
	err := tx.QueryRow(ctx, `SELECT clinic_id, clinician_id, status, recording_consent FROM visits WHERE id = $1`, visit).
		Scan(&clinic, &clinician, &st, &checkin)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", ErrNotFound
	}
	if err != nil {
		return uuid.Nil, "", err
	}
	if a.Kind != ActorStaff || !canRunWaitingRoom(a, clinic) || clinician == nil || *clinician != a.StaffID {
		return uuid.Nil, "", ErrForbidden
	}
	if st != StatusInProgress {
		return uuid.Nil, "", ErrConflict
	}
	return clinic, checkin, nil
}

func (s *Service) insertConsent(ctx context.Context, tx pgx.Tx, rec uuid.UUID, participant, checkin string) (Consent, error) {
	c := Consent{ID: uuid.New(), ParticipantID: participant, AskedAt: s.now(),
		TextID: ConsentTextID, TextVersion: ConsentTextVersion, Text: ConsentText}
	if participant == "patient" {
		c.CheckinAnswer = checkin
	}
	_, err := tx.Exec(ctx, `INSERT INTO recording_consents (id, recording_id, participant_id, asked_at, text_id,
		text_version, text_shown, checkin_answer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, rec, participant, c.AskedAt, c.TextID, c.TextVersion, c.Text, c.CheckinAnswer)
	return c, err
}

// AskConsent is for a participant who joins while a recording of the visit
// is live: they are asked (once) and their tracks are not recorded until
// they accept. It returns the live recording (nil when there is none) and
// the actor's consent request, which needs an answer when its Answer is
// empty.
func (s *Service) AskConsent(ctx context.Context, a Actor, visit uuid.UUID) (*Recording, Consent, error) {
	me := ParticipantOf(a)
	if me == "" || ((a.Kind == ActorPatient || a.Kind == ActorGuest) && a.VisitID != visit) {
		return nil, Consent{}, ErrForbidden
	}
	var rec *Recording
	var c Consent
	err := s.inTx(ctx, "ask consent", func(tx pgx.Tx) error {
		var err error
		rec, err = liveRecording(ctx, tx, visit)
		if err != nil || rec == nil {
			return err
		}
		if have, ok := rec.Consent(me); ok {
			c = have
			return nil
		}
		var checkin string
		if err := tx.QueryRow(ctx, `SELECT recording_consent FROM visits WHERE id = $1`, visit).Scan(&checkin); err != nil {
			return err
		}
		if c, err = s.insertConsent(ctx, tx, rec.ID, me, checkin); err != nil {
			return err
		}
		rec.Consents = append(rec.Consents, c)
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.consent_ask", ResourceType: "recording",
			ResourceID: rec.ID.String(), VisitID: visit, Detail: map[string]any{"participant_id": me}})
	})
	return rec, c, err
}

// AnswerConsent records the actor's answer to their consent request. A
// "no" stops the recording for everyone (reason declined); the last "yes"
// of a pending recording makes it active. Errors: ErrNotFound (no such
// request of this actor), ErrConflict (already answered, recording over).
func (s *Service) AnswerConsent(ctx context.Context, a Actor, request uuid.UUID, yes bool) (Recording, error) {
	answer := "no"
	if yes {
		answer = "yes"
	}
	var rec Recording
	err := s.inTx(ctx, "answer consent", func(tx pgx.Tx) error {
		// Lock the recording first: answers to one recording are
		// serialised, so the last "yes" always sees the others.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM recordings WHERE id = (SELECT recording_id
			FROM recording_consents WHERE id = $1) FOR UPDATE`, request); err != nil {
			return err
		}
		var recID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE recording_consents c SET answer = $3, answered_at = $4
			FROM recordings r WHERE c.id = $1 AND c.participant_id = $2 AND r.id = c.recording_id
			AND c.answer IS NULL AND r.state <> 'stopped' RETURNING c.recording_id`,
			request, ParticipantOf(a), answer, s.now()).Scan(&recID)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.whyNoConsent(ctx, tx, request, ParticipantOf(a))
		}
		if err != nil {
			return err
		}
		if rec, err = loadRecording(ctx, tx, recID); err != nil {
			return err
		}
		if err := s.settle(ctx, tx, &rec, !yes); err != nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.consent_answer", ResourceType: "recording",
			ResourceID: rec.ID.String(), VisitID: rec.VisitID,
			Detail: map[string]any{"participant_id": ParticipantOf(a), "answer": answer, "state": rec.State}})
	})
	return rec, err
}

// whyNoConsent tells a missing request (ErrNotFound) from one already
// answered or of a stopped recording (ErrConflict).
func (s *Service) whyNoConsent(ctx context.Context, tx pgx.Tx, request uuid.UUID, me string) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM recording_consents WHERE id = $1 AND participant_id = $2`,
		request, me).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return ErrConflict
}

// settle moves a recording on after an answer: declined stops it; a
// pending one whose participants all said yes becomes active.
func (s *Service) settle(ctx context.Context, tx pgx.Tx, rec *Recording, declined bool) error {
	if declined {
		return s.stopTx(ctx, tx, rec, StopDeclined)
	}
	if rec.State != RecordingPending || len(rec.WaitingFor()) > 0 {
		return nil
	}
	now := s.now()
	if _, err := tx.Exec(ctx, `UPDATE recordings SET state = 'active', started_at = $2 WHERE id = $1`, rec.ID, now); err != nil {
		return err
	}
	rec.State, rec.StartedAt = RecordingActive, &now
	return nil
}

func (s *Service) stopTx(ctx context.Context, tx pgx.Tx, rec *Recording, reason string) error {
	now := s.now()
	if _, err := tx.Exec(ctx, `UPDATE recordings SET state = 'stopped', stopped_at = $2, stop_reason = $3
		WHERE id = $1 AND state <> 'stopped'`, rec.ID, now, reason); err != nil {
		return err
	}
	rec.State, rec.StoppedAt, rec.StopReason = RecordingStopped, &now, reason
	return nil
}

// WithdrawConsent records that the actor withdraws consent to the live
// recording of visit; the recording stops for everyone (reason withdrawn).
// Errors: ErrNotFound when the actor has no consent on a live recording.
func (s *Service) WithdrawConsent(ctx context.Context, a Actor, visit uuid.UUID) (Recording, error) {
	me := ParticipantOf(a)
	var rec Recording
	err := s.inTx(ctx, "withdraw consent", func(tx pgx.Tx) error {
		live, err := liveRecording(ctx, tx, visit)
		if err != nil {
			return err
		}
		if live == nil {
			return ErrNotFound
		}
		rec = *live
		tag, err := tx.Exec(ctx, `UPDATE recording_consents SET withdrawn_at = $3
			WHERE recording_id = $1 AND participant_id = $2 AND withdrawn_at IS NULL`, rec.ID, me, s.now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if rec, err = loadRecording(ctx, tx, rec.ID); err != nil {
			return err
		}
		if err := s.stopTx(ctx, tx, &rec, StopWithdrawn); err != nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.consent_withdraw", ResourceType: "recording",
			ResourceID: rec.ID.String(), VisitID: visit, Detail: map[string]any{"participant_id": me}})
	})
	return rec, err
}

// StopRecording stops the live recording of a visit: the visit's
// clinician (reason stopped) or the system (reason error or ended).
// Errors: ErrForbidden, ErrNotFound (nothing live), ErrInvalid (reason).
func (s *Service) StopRecording(ctx context.Context, a Actor, visit uuid.UUID, reason string) (Recording, error) {
	ev := AuditEvent{Action: "recording.stop", ResourceType: "recording", VisitID: visit}
	var rec Recording
	err := s.inTx(ctx, "stop recording", func(tx pgx.Tx) error {
		switch {
		case a.Kind == ActorSystem && (reason == StopError || reason == StopEnded):
		case a.Kind == ActorStaff && reason == StopStopped:
			if err := s.clinicianOf(ctx, tx, a, visit); err != nil {
				return err
			}
		case a.Kind == ActorStaff || a.Kind == ActorSystem:
			return invalid("reason", "not allowed for this caller")
		default:
			return ErrForbidden
		}
		live, err := liveRecording(ctx, tx, visit)
		if err != nil {
			return err
		}
		if live == nil {
			return ErrNotFound
		}
		rec = *live
		if err := s.stopTx(ctx, tx, &rec, reason); err != nil {
			return err
		}
		ev.ResourceID, ev.Detail = rec.ID.String(), map[string]any{"reason": reason}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return Recording{}, s.deny(ctx, a, ev, err)
	}
	return rec, err
}

// clinicianOf: a is the clinician of visit (any state).
func (s *Service) clinicianOf(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) error {
	var clinic uuid.UUID
	var clinician *uuid.UUID
	err := tx.QueryRow(ctx, `SELECT clinic_id, clinician_id FROM visits WHERE id = $1`, visit).Scan(&clinic, &clinician)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !canRunWaitingRoom(a, clinic) || clinician == nil || *clinician != a.StaffID {
		return ErrForbidden
	}
	return nil
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
