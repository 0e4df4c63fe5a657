package signaling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Messages to a waiting patient. A clinician sends message_patient; the
// visits service stores the text sealed and publishes an event naming only
// the visit. The patient's session, on whichever process holds it, reads
// the messages back (an audited read) and sends the ones this socket has
// not had yet as clinic_message. On hello a patient gets the visit's latest
// messages, oldest first.

// Error codes of message_patient.
const (
	codeInvalid  = "invalid"
	codeConflict = "conflict"
)

type messagePatientPayload struct {
	VisitID uuid.UUID `json:"visit_id"`
	Text    string    `json:"text"`
}

type messageSentMsg struct {
	header
	VisitID   uuid.UUID `json:"visit_id"`
	MessageID uuid.UUID `json:"message_id"`
}

type clinicMessageMsg struct {
	header
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// handleMessagePatient sends a clinician's message to a waiting patient;
// the visits service decides who may.
func handleMessagePatient(ctx context.Context, s *session, m inbound) error {
	p, err := payload[messagePatientPayload](m)
	if err != nil {
		return err
	}
	if p.VisitID == uuid.Nil {
		return badMessage("visit_id is required")
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	sent, err := s.srv.visits.SendPatientMessage(cctx, s.actor, p.VisitID, p.Text)
	if err != nil {
		return messageError(err)
	}
	return s.send(messageSentMsg{header: hdr("message_sent", m.ID), VisitID: p.VisitID, MessageID: sent.ID})
}

// messageError maps the service's refusals of a message to what the client
// is told; the rest goes through clientErrorFor.
func messageError(err error) error {
	var conflict *visits.ConflictError
	switch {
	case errors.As(err, &conflict):
		return &clientError{code: codeConflict, message: "the patient is not in the waiting room"}
	case errors.Is(err, visits.ErrInvalid):
		return &clientError{code: codeInvalid, message: "text must be 1 to 500 characters of plain text"}
	}
	return fmt.Errorf("signaling: message patient: %w", err)
}

// deliverPatientMessages sends the patient the messages of their visit this
// socket has not had yet. A failed read is logged and left to the next
// event.
func (s *session) deliverPatientMessages(ctx context.Context) error {
	cctx, cancel := s.callCtx(ctx)
	ms, err := s.srv.visits.PatientMessages(cctx, s.actor, s.actor.VisitID)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("patient messages read failed", "err", err)
		}
		return nil
	}
	seen := make(map[uuid.UUID]bool, len(ms))
	for _, m := range ms {
		seen[m.ID] = true
		if s.delivered[m.ID] {
			continue
		}
		if err := s.send(clinicMessageMsg{header: hdr("clinic_message", ""), ID: m.ID, Text: m.Text, At: m.At}); err != nil {
			return err
		}
	}
	s.delivered = seen // only the latest can come back: the set stays small
	return nil
}

// onPatientMessageEvent reports whether ev is about a message to this
// patient (or may have hidden one) and delivers what is new.
func (s *session) onPatientMessageEvent(ctx context.Context, ev visits.Event) (bool, error) {
	switch {
	case ev.Kind == visits.EventPatientMessage && ev.VisitID == s.actor.VisitID:
		return true, s.deliverPatientMessages(ctx)
	case ev.Kind == kindResync:
		return false, s.deliverPatientMessages(ctx)
	}
	return false, nil
}

// catchUpPatientMessages delivers what a dropped event kept from the
// patient: it runs on every re-check and reads the messages (an audited
// read) only when the newest one has not been sent on this socket.
func (s *session) catchUpPatientMessages(ctx context.Context) error {
	cctx, cancel := s.callCtx(ctx)
	head, err := s.srv.visits.PatientMessageHead(cctx, s.actor, s.actor.VisitID)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("patient message check failed", "err", err)
		}
		return nil
	}
	if head == uuid.Nil || s.delivered[head] {
		return nil
	}
	return s.deliverPatientMessages(ctx)
}
