package signaling

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// kindResync is the hub's "events may have been lost" event.
const kindResync = "resync"

// kindLinkLocked is the event of a link locked by wrong answers.
const kindLinkLocked = "link.locked"

// subscribeDefault watches the clinician's only clinic; with several it asks
// the client to choose, with none (or for staff who do not run a waiting
// room) it watches nothing.
func (s *session) subscribeDefault(ctx context.Context, ref string) error {
	if !s.actor.Has(visits.RoleClinician) {
		return nil
	}
	cctx, cancel := s.callCtx(ctx)
	clinics, err := s.srv.visits.ListClinics(cctx, s.actor)
	cancel()
	if err != nil {
		return fmt.Errorf("signaling: list clinics: %w", err)
	}
	switch len(clinics) {
	case 0:
		return &clientError{code: codeForbidden, message: "you belong to no clinic"}
	case 1:
		return s.subscribe(ctx, ref, clinics[0].ID)
	}
	refs := make([]clinicRef, len(clinics))
	for i, c := range clinics {
		refs[i] = clinicRef{ID: c.ID, Name: c.Name}
	}
	return s.send(errorMsg{header: hdr("error", ref), Code: codeClinicRequired,
		Message: "choose a clinic: send subscribe_waiting_room with clinic_id", Clinics: refs})
}

// subscribe reads the clinic's waiting room (the service checks and audits
// the access) and, when allowed, makes it the one this session watches.
func (s *session) subscribe(ctx context.Context, ref string, clinic uuid.UUID) error {
	entries, err := s.waitingRoom(ctx, clinic)
	if err != nil {
		return err
	}
	s.clinic = clinic
	return s.sendSnapshot(ref, entries)
}

func (s *session) waitingRoom(ctx context.Context, clinic uuid.UUID) ([]visits.QueueEntry, error) {
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	entries, err := s.srv.visits.WaitingRoom(cctx, s.actor, clinic)
	if err != nil {
		return nil, fmt.Errorf("signaling: read waiting room: %w", err)
	}
	if entries == nil {
		entries = []visits.QueueEntry{}
	}
	return entries, nil
}

func (s *session) sendSnapshot(ref string, entries []visits.QueueEntry) error {
	s.refresh.sent()
	return s.send(waitingRoomMsg{header: hdr("waiting_room", ref), ClinicID: s.clinic, Entries: entries})
}

// pushSnapshot re-sends the watched waiting room. Losing access ends the
// subscription (with a forbidden error); a failed read is logged and left
// to the next event or the periodic refresh.
func (s *session) pushSnapshot(ctx context.Context) error {
	if s.clinic == uuid.Nil {
		return nil
	}
	entries, err := s.waitingRoom(ctx, s.clinic)
	switch {
	case errors.Is(err, visits.ErrForbidden):
		s.clinic = uuid.Nil
		return s.sendError("", &clientError{code: codeForbidden, message: "you may no longer watch this waiting room"})
	case err != nil:
		if ctx.Err() == nil {
			s.log.Warn("waiting room refresh failed", "err", err)
		}
		return nil
	}
	return s.sendSnapshot("", entries)
}

// onStaffEvent: link_locked for the clinics the actor runs a waiting room
// in; a snapshot (coalesced) when the watched clinic changed.
func (s *session) onStaffEvent(ev visits.Event) error {
	if ev.Kind == visits.EventPatientMessage {
		return nil // the queue did not change
	}
	if ev.Kind == kindLinkLocked {
		if !runsWaitingRoom(s.actor, ev.ClinicID) {
			return nil
		}
		clinic := ev.ClinicID
		return s.send(visitMsg{header: hdr("link_locked", ""), VisitID: ev.VisitID, ClinicID: &clinic})
	}
	if s.clinic != uuid.Nil && (ev.Kind == kindResync || ev.ClinicID == s.clinic) {
		s.refresh.request()
	}
	return nil
}

// runsWaitingRoom mirrors the visits service's rule for who sees a clinic's
// waiting room: its clinicians (and admins who are clinicians).
func runsWaitingRoom(a visits.Actor, clinic uuid.UUID) bool {
	return a.InClinic(clinic) && a.Has(visits.RoleClinician)
}
