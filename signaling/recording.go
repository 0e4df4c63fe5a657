package signaling

import (
	"context"
	"errors"
	"log/slog"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// RecordingService is the consent side of recording (visits.Service):
// who was asked, what they answered, whether the recording is live.
type RecordingService interface {
	RequestRecording(ctx context.Context, a visits.Actor, visit uuid.UUID, participants []string) (visits.Recording, error)
	AskConsent(ctx context.Context, a visits.Actor, visit uuid.UUID) (*visits.Recording, visits.Consent, error)
	AnswerConsent(ctx context.Context, a visits.Actor, request uuid.UUID, yes bool) (visits.Recording, error)
	WithdrawConsent(ctx context.Context, a visits.Actor, visit uuid.UUID) (visits.Recording, error)
	StopRecording(ctx context.Context, a visits.Actor, visit uuid.UUID, reason string) (visits.Recording, error)
}

// Recorder records participants' media (recording.Manager). Record is
// called only for participants who consented; Stop ends every
// participant's recording before it returns.
type Recorder interface {
	Record(ctx context.Context, visit, recording uuid.UUID, participant string) error
	Stop(ctx context.Context, recording uuid.UUID)
}

// recordingGlue ties consent decisions to the recorder and the room.
type recordingGlue struct {
	svc      RecordingService
	rec      Recorder
	log      *slog.Logger
	stopping visitLocks // per visit: one session stops a recording at a time
}

// EnableRecording turns on the recording messages; without it
// recording_request answers recording_unavailable.
func (s *Server) EnableRecording(svc RecordingService, r Recorder) {
	s.rec = &recordingGlue{svc: svc, rec: r, log: s.log.With("part", "recording")}
}

const (
	codeRecordingUnavailable = "recording_unavailable"
	codeRecordingConflict    = "recording_conflict"
)

func recordingHandlers() map[string]handler {
	return map[string]handler{
		"recording_request":  {fn: handleRecordingRequest},
		"recording_consent":  {fn: handleRecordingConsent},
		"recording_withdraw": {fn: handleRecordingWithdraw},
		"recording_stop":     {fn: handleRecordingStop},
	}
}

type recordingConsentRequestMsg struct {
	header
	RequestID       uuid.UUID `json:"request_id"`
	RecordingID     uuid.UUID `json:"recording_id"`
	Text            string    `json:"text"`
	TextID          string    `json:"text_id"`
	TextVersion     int       `json:"text_version"`
	CheckinAnswer   string    `json:"checkin_answer,omitempty"`
	RequestedByRole string    `json:"requested_by_role"`
}

type recordingStateMsg struct {
	header
	Active      bool      `json:"active"`
	RecordingID uuid.UUID `json:"recording_id,omitzero"` // absent: no recording
	WaitingFor  []string  `json:"waiting_for"`
	Reason      string    `json:"reason,omitempty"`
}

type consentPayload struct {
	RequestID uuid.UUID `json:"request_id"`
	Answer    string    `json:"answer"`
}

// recordingVisit is the joined caller's visit, if recording is on.
func (s *session) recordingVisit() (uuid.UUID, error) {
	if s.srv.rec == nil {
		return uuid.Nil, &clientError{code: codeRecordingUnavailable, message: "recording is not available on this server"}
	}
	if s.media == nil {
		return uuid.Nil, &clientError{code: codeNotJoined, message: "join the visit first"}
	}
	return s.media.key.visit, nil
}

// recordingErr maps the consent service's conflicts for the client.
func recordingErr(err error) error {
	if errors.Is(err, visits.ErrConflict) {
		return &clientError{code: codeRecordingConflict, message: "a recording is already live, or the visit is not in progress"}
	}
	if errors.Is(err, visits.ErrNotFound) {
		return &clientError{code: codeRecordingConflict, message: "no such recording or consent request"}
	}
	return err
}

// handleRecordingRequest: the visit's clinician asks everyone in the room.
func handleRecordingRequest(ctx context.Context, s *session, _ inbound) error {
	visit, err := s.recordingVisit()
	if err != nil {
		return err
	}
	var parts []string
	for _, sl := range s.srv.media.roster(visit) {
		parts = append(parts, sl.key.participant)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	rec, err := s.srv.rec.svc.RequestRecording(cctx, s.actor, visit, parts)
	if err != nil {
		return recordingErr(err)
	}
	for _, c := range rec.Consents {
		s.srv.postTo(visit, c.ParticipantID, consentRequestMsg(rec, c))
	}
	s.srv.applyRecording(cctx, rec)
	return nil
}

func consentRequestMsg(rec visits.Recording, c visits.Consent) recordingConsentRequestMsg {
	return recordingConsentRequestMsg{header: hdr("recording_consent_request", ""), RequestID: c.ID, RecordingID: rec.ID,
		Text: c.Text, TextID: c.TextID, TextVersion: c.TextVersion, CheckinAnswer: c.CheckinAnswer, RequestedByRole: "clinician"}
}

func handleRecordingConsent(ctx context.Context, s *session, m inbound) error {
	if _, err := s.recordingVisit(); err != nil {
		return err
	}
	p, err := payload[consentPayload](m)
	if err != nil {
		return err
	}
	if p.RequestID == uuid.Nil || (p.Answer != "yes" && p.Answer != "no") {
		return badMessage(`request_id and answer "yes" or "no" are required`)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	rec, err := s.srv.rec.svc.AnswerConsent(cctx, s.actor, p.RequestID, p.Answer == "yes")
	if err != nil {
		return recordingErr(err)
	}
	s.srv.applyRecording(cctx, rec)
	return nil
}

func handleRecordingWithdraw(ctx context.Context, s *session, _ inbound) error {
	visit, err := s.recordingVisit()
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	rec, err := s.srv.rec.svc.WithdrawConsent(cctx, s.actor, visit)
	if err != nil {
		return recordingErr(err)
	}
	s.srv.applyRecording(cctx, rec)
	return nil
}

func handleRecordingStop(ctx context.Context, s *session, _ inbound) error {
	visit, err := s.recordingVisit()
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	rec, err := s.srv.rec.svc.StopRecording(cctx, s.actor, visit, visits.StopStopped)
	if err != nil {
		return recordingErr(err)
	}
	s.srv.applyRecording(cctx, rec)
	return nil
}

// askJoinerConsent: someone who joins while a recording is live is asked
// first (or, having consented before, recorded again) and told its state.
func (s *session) askJoinerConsent(ctx context.Context) error {
	if s.srv.rec == nil || s.media == nil {
		return nil
	}
	visit := s.media.key.visit
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	rec, c, err := s.srv.rec.svc.AskConsent(cctx, s.actor, visit)
	if err != nil {
		return err
	}
	if rec == nil {
		// No recording: a joiner coming back (a reconnect, a move to
		// another node) may still show one that ended while it was away.
		return s.send(recordingStateMsg{header: hdr("recording_state", ""), WaitingFor: []string{}})
	}
	if c.Answer == "" && c.WithdrawnAt == nil {
		if err := s.send(consentRequestMsg(*rec, c)); err != nil {
			return err
		}
	}
	s.srv.applyRecording(cctx, *rec)
	return nil
}

// applyRecording makes the recorder follow the consent state, then tells
// everyone in the room. A stop reaches the recorder first, so media stops
// being recorded before anyone sees recording_state inactive.
func (srv *Server) applyRecording(ctx context.Context, rec visits.Recording) {
	g := srv.rec
	switch {
	case rec.State == visits.RecordingStopped:
		g.rec.Stop(ctx, rec.ID)
	case rec.Active():
		for _, p := range rec.Consented() {
			if err := g.rec.Record(ctx, rec.VisitID, rec.ID, p); err != nil {
				g.log.ErrorContext(ctx, "recorder failed; stopping the recording", "recording", rec.ID, "err", err)
				g.rec.Stop(ctx, rec.ID)
				if stopped, serr := g.svc.StopRecording(ctx, visits.SystemActor("signaling"), rec.VisitID, visits.StopError); serr == nil {
					rec = stopped
				} else {
					rec.State, rec.StopReason = visits.RecordingStopped, visits.StopError
				}
				break
			}
		}
	}
	srv.media.broadcast(rec.VisitID, recordingStateMsg{header: hdr("recording_state", ""), Active: rec.Active(),
		RecordingID: rec.ID, WaitingFor: rec.WaitingFor(), Reason: rec.StopReason})
}

// endRecording stops a visit's live recording when the visit leaves the
// in-progress state (sent back to the waiting room, completed): reason
// ended. Every participant's session notices; the first one stops it.
func (srv *Server) endRecording(ctx context.Context, visit uuid.UUID, reason string) {
	if srv.rec == nil || (reason != visits.ReasonVisitWaiting && reason != visits.ReasonVisitEnded) {
		return
	}
	// Every session of the room comes here on the same event; the others
	// wait until the first has stopped the recording and told the room, so
	// none of them leaves the room (and misses recording_state) before.
	unlock := srv.rec.stopping.lock(visit)
	defer unlock()
	rec, err := srv.rec.svc.StopRecording(ctx, visits.SystemActor("signaling"), visit, visits.StopEnded)
	if errors.Is(err, visits.ErrNotFound) {
		return
	}
	if err != nil {
		srv.rec.log.ErrorContext(ctx, "stop recording of an ended visit", "visit", visit, "err", err)
		return
	}
	srv.applyRecording(ctx, rec)
}

// postTo posts msg to one participant's session in a visit's room.
func (srv *Server) postTo(visit uuid.UUID, participant string, msg any) {
	sl := srv.media.slot(visit, participant)
	if sl == nil {
		return
	}
	sl.mu.Lock()
	s := sl.sess
	sl.mu.Unlock()
	if s != nil {
		s.post(msg)
	}
}
