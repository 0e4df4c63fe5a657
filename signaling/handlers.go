package signaling

import (
	"context"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// handler handles one client message type. Errors go back to the client as
// an error message (see reject); a *closeError ends the session.
type handler struct {
	fn          func(ctx context.Context, s *session, m inbound) error
	beforeHello bool // allowed before hello
}

// newHandlers is the protocol's client message table: the session and
// waiting-room messages here, the WebRTC ones from mediaHandlers, the
// network check from netTestHandlers.
func newHandlers() map[string]handler {
	hs := map[string]handler{
		"hello":                  {fn: handleHello, beforeHello: true},
		"ping":                   {fn: handlePing, beforeHello: true},
		"subscribe_waiting_room": {fn: handleSubscribeWaitingRoom},
		"message_patient":        {fn: handleMessagePatient},
	}
	for t, h := range mediaHandlers() {
		hs[t] = h
	}
	for t, h := range netTestHandlers() {
		hs[t] = h
	}
	for t, h := range recordingHandlers() {
		hs[t] = h
	}
	return hs
}

type helloPayload struct {
	ClinicID *uuid.UUID `json:"clinic_id"`
}

// handleHello answers with welcome, then starts what the session is for: a
// patient's own status, a clinician's waiting room.
func handleHello(ctx context.Context, s *session, m inbound) error {
	if s.greeted {
		return badMessage("hello was already sent")
	}
	p, err := payload[helloPayload](m)
	if err != nil {
		return err
	}
	patient := s.actor.Kind == visits.ActorPatient
	guest := s.actor.Kind == visits.ActorGuest
	if (patient || guest) && p.ClinicID != nil {
		return badMessage("clinic_id is for staff")
	}
	s.greeted = true
	if err := s.send(welcomeMsg{header: hdr("welcome", m.ID), Session: s.role(), Protocol: ProtocolVersion}); err != nil {
		return err
	}
	if patient {
		if err := s.sendPatientStatus(ctx, m.ID); err != nil {
			return err
		}
		return s.deliverPatientMessages(ctx)
	}
	if guest {
		return nil // a guest's socket is for the visit's room only
	}
	if p.ClinicID != nil {
		return s.subscribe(ctx, m.ID, *p.ClinicID)
	}
	return s.subscribeDefault(ctx, m.ID)
}

func handlePing(_ context.Context, s *session, m inbound) error {
	return s.send(struct{ header }{hdr("pong", m.ID)})
}

type subscribePayload struct {
	ClinicID uuid.UUID `json:"clinic_id"`
}

// handleSubscribeWaitingRoom switches the session to a clinic's waiting
// room; the visits service decides whether the actor may watch it.
func handleSubscribeWaitingRoom(ctx context.Context, s *session, m inbound) error {
	p, err := payload[subscribePayload](m)
	if err != nil {
		return err
	}
	if p.ClinicID == uuid.Nil {
		return badMessage("clinic_id is required")
	}
	return s.subscribe(ctx, m.ID, p.ClinicID)
}
