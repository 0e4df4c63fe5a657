package signaling

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// onPatientEvent: an event about the patient's own visit is answered at
// once (it may be the admission); one about their clinic's queue moves
// their place, coalesced. Until an event has told us the patient's clinic,
// every queue event counts.
func (s *session) onPatientEvent(ctx context.Context, ev visits.Event) error {
	if done, err := s.onPatientMessageEvent(ctx, ev); done || err != nil {
		return err
	}
	if ev.VisitID == s.actor.VisitID && ev.VisitID != uuid.Nil {
		s.ownClinic = ev.ClinicID
		return s.pushPatientStatus(ctx)
	}
	if ev.Kind == kindResync || s.ownClinic == uuid.Nil || ev.ClinicID == s.ownClinic {
		s.refresh.request()
	}
	return nil
}

func (s *session) patientView(ctx context.Context) (visits.PatientView, error) {
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	pv, err := s.srv.visits.PatientView(cctx, s.actor)
	if err != nil {
		return pv, fmt.Errorf("signaling: read patient view: %w", err)
	}
	return pv, nil
}

// sendPatientStatus answers hello with the patient's status.
func (s *session) sendPatientStatus(ctx context.Context, ref string) error {
	pv, err := s.patientView(ctx)
	if err != nil {
		return err
	}
	s.refresh.sent()
	s.lastView = &pv
	return s.send(patientStatusMsg{header: hdr("patient_status", ref), PatientView: pv})
}

// pushPatientStatus sends the patient's status when it changed, followed by
// admitted, sent_back or visit_ended when the visit moved. A failed read
// is logged and left to the next event or the periodic refresh.
func (s *session) pushPatientStatus(ctx context.Context) error {
	pv, err := s.patientView(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("patient status refresh failed", "err", err)
		}
		return nil
	}
	s.refresh.sent()
	prev := s.lastView
	s.lastView = &pv
	if prev != nil && sameView(*prev, pv) {
		return nil
	}
	if err := s.send(patientStatusMsg{header: hdr("patient_status", ""), PatientView: pv}); err != nil {
		return err
	}
	if prev == nil {
		return nil
	}
	typ := transition(prev.Status, pv.Status)
	if typ == "" {
		return nil
	}
	return s.send(visitMsg{header: hdr(typ, ""), VisitID: s.actor.VisitID, Status: pv.Status})
}

// transition names the message for a move of the visit from one state to
// another, or "" when there is none to tell.
func transition(from, to visits.Status) string {
	switch {
	case from == to:
		return ""
	case to == visits.StatusInProgress:
		return "admitted"
	case from == visits.StatusInProgress && to == visits.StatusWaiting:
		return "sent_back"
	case to.Terminal():
		return "visit_ended"
	}
	return ""
}

func sameView(a, b visits.PatientView) bool {
	return a.Status == b.Status && a.ClinicName == b.ClinicName && a.StartsAt.Equal(b.StartsAt) &&
		a.DurationMinutes == b.DurationMinutes && a.Position == b.Position &&
		a.EstimatedWaitMinutes == b.EstimatedWaitMinutes && a.CheckedIn == b.CheckedIn
}
