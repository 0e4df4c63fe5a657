package signaling

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

func TestPatientFollowsQueueAndIsAdmitted(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	ctx := context.Background()
	first := w.newPatient(t, st, cs, "Edsger Dijkstra")
	me := w.newPatient(t, st, cs, "Frances Allen")
	checkIn(t, st, first)
	checkIn(t, st, me)

	c := connect(t, st.ts, patientHeaders(me.token))
	c.hello(nil)
	if m := c.expectType(2*time.Second, "welcome"); m.Session != "patient" {
		t.Fatalf("welcome = %s", m.raw)
	}
	m := c.expectType(2*time.Second, "patient_status")
	if m.Status != visits.StatusWaiting || m.Position != 2 || m.Wait == nil || m.Ref != "h1" {
		t.Fatalf("first status = %s", m.raw)
	}

	// The patient ahead is admitted: my place moves up.
	if _, err := st.svc.Admit(ctx, cs.clinician, first.visitID); err != nil {
		t.Fatal(err)
	}
	c.expect(time.Second, "position 1", func(m msg) bool {
		return m.Type == "patient_status" && m.Status == visits.StatusWaiting && m.Position == 1
	})

	steps := []struct {
		do     func() (visits.Visit, error)
		status visits.Status
		event  string
	}{
		{func() (visits.Visit, error) { return st.svc.Admit(ctx, cs.clinician, me.visitID) }, visits.StatusInProgress, "admitted"},
		{func() (visits.Visit, error) { return st.svc.SendBack(ctx, cs.clinician, me.visitID) }, visits.StatusWaiting, "sent_back"},
		{func() (visits.Visit, error) { return st.svc.Admit(ctx, cs.clinician, me.visitID) }, visits.StatusInProgress, "admitted"},
		{func() (visits.Visit, error) { return st.svc.Complete(ctx, cs.clinician, me.visitID) }, visits.StatusCompleted, "visit_ended"},
	}
	for _, s := range steps {
		if _, err := s.do(); err != nil {
			t.Fatal(err)
		}
		c.expect(time.Second, "status "+string(s.status), func(m msg) bool {
			return m.Type == "patient_status" && m.Status == s.status
		})
		ev := c.expectType(time.Second, s.event)
		if ev.VisitID != me.visitID || ev.Status != s.status {
			t.Fatalf("%s = %s", s.event, ev.raw)
		}
	}
	c.expectNone(300*time.Millisecond, "another patient's name", func(m msg) bool {
		return strings.Contains(m.raw, "Edsger")
	})
}

func TestPatientCannotWatchWaitingRoom(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	p := w.newPatient(t, st, cs, "Hedy Lamarr")

	c := connect(t, st.ts, patientHeaders(p.token))
	c.hello(nil)
	c.expectType(2*time.Second, "patient_status")
	c.send(map[string]any{"v": 1, "type": "subscribe_waiting_room", "id": "w1", "clinic_id": cs.clinic.ID})
	if e := c.expectType(2*time.Second, "error"); e.Code != codeForbidden || e.Ref != "w1" {
		t.Fatalf("error = %s", e.raw)
	}
	c.expectNone(300*time.Millisecond, "a snapshot", func(m msg) bool { return m.Type == "waiting_room" })
}
