package signaling

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

func TestClinicianSeesCheckInWithinOneSecond(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Ada Lovelace")

	c := connect(t, st.ts, staffHeaders("clin"))
	c.hello(nil)
	wm := c.expectType(2*time.Second, "welcome")
	if wm.Session != "clinician" || wm.Protocol != ProtocolVersion || wm.Ref != "h1" || wm.V != 1 {
		t.Fatalf("welcome = %s", wm.raw)
	}
	snap := c.expectType(2*time.Second, "waiting_room")
	if snap.ClinicID != cs.clinic.ID || len(snap.Entries) != 0 || snap.Ref != "h1" {
		t.Fatalf("first snapshot = %s", snap.raw)
	}

	checkIn(t, st, p)
	got := c.expect(time.Second, "a snapshot with the patient", func(m msg) bool {
		return m.Type == "waiting_room" && m.has(p.visitID)
	})
	e := got.Entries[0]
	if e.PatientName != "Ada Lovelace" || e.Status != visits.StatusWaiting || e.Position != 1 || e.DeviceVerdict != "ok" {
		t.Fatalf("entry = %+v", e)
	}
}

func TestCheckInSeenThroughAnotherProcess(t *testing.T) {
	w := newWorld(t)
	one := w.start(testConfig(), nil)
	two := w.start(testConfig(), nil)
	cs := one.newClinic(t, "north")
	two.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, one, cs, "Grace Hopper")

	c := connect(t, two.ts, staffHeaders("clin"))
	c.hello(nil)
	c.expectType(2*time.Second, "waiting_room")

	checkIn(t, one, p)
	c.expect(time.Second, "the other process's check-in", func(m msg) bool {
		return m.Type == "waiting_room" && m.has(p.visitID)
	})
}

func TestOtherClinicSeesNothingAndIsForbidden(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	a, b := st.newClinic(t, "north"), st.newClinic(t, "south")
	st.auth.addStaff("a", a.clinician)
	st.auth.addStaff("b", b.clinician)

	ca := connect(t, st.ts, staffHeaders("a"))
	ca.hello(nil)
	ca.expectType(2*time.Second, "waiting_room")
	cb := connect(t, st.ts, staffHeaders("b"))
	cb.hello(nil)
	if m := cb.expectType(2*time.Second, "waiting_room"); m.ClinicID != b.clinic.ID {
		t.Fatalf("b watches %v", m.ClinicID)
	}

	p := w.newPatient(t, st, a, "Alan Turing")
	checkIn(t, st, p)
	ca.expect(time.Second, "a's snapshot", func(m msg) bool { return m.Type == "waiting_room" && m.has(p.visitID) })

	// Lock a link of clinic a with wrong answers: a's clinicians hear of it.
	locked, link := w.newVisit(t, st, a, "Barbara Liskov")
	for i := 0; i < 5; i++ {
		_, _ = st.svc.VerifyPatient(context.Background(), anonymous, link, "1999-09-09")
	}
	m := ca.expectType(time.Second, "link_locked")
	if m.VisitID != locked || m.ClinicID != a.clinic.ID {
		t.Fatalf("link_locked = %s", m.raw)
	}

	aboutA := func(m msg) bool {
		return m.ClinicID == a.clinic.ID || m.VisitID == p.visitID || m.VisitID == locked ||
			strings.Contains(m.raw, "Alan Turing") || strings.Contains(m.raw, "Barbara Liskov")
	}
	cb.expectNone(time.Second, "message about another clinic", aboutA)

	cb.send(map[string]any{"v": 1, "type": "subscribe_waiting_room", "id": "s1", "clinic_id": a.clinic.ID})
	e := cb.expectType(2*time.Second, "error")
	if e.Code != codeForbidden || e.Ref != "s1" {
		t.Fatalf("error = %s", e.raw)
	}
	cb.expectNone(500*time.Millisecond, "message about another clinic", aboutA)
}

func TestClinicianOfSeveralClinicsChooses(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	a, b := st.newClinic(t, "north"), st.newClinic(t, "south")
	both := a.clinician
	both.ClinicIDs = []uuid.UUID{a.clinic.ID, b.clinic.ID}
	st.auth.addStaff("both", both)
	if _, err := st.svc.EnsureStaff(context.Background(), "https://idp.test", "clin-north", "Clinician north",
		[]string{"clinician"}, both.ClinicIDs); err != nil {
		t.Fatal(err)
	}

	c := connect(t, st.ts, staffHeaders("both"))
	c.hello(nil)
	c.expectType(2*time.Second, "welcome")
	e := c.expectType(2*time.Second, "error")
	if e.Code != codeClinicRequired || len(e.Clinics) != 2 || e.Ref != "h1" {
		t.Fatalf("error = %s", e.raw)
	}
	c.send(map[string]any{"v": 1, "type": "subscribe_waiting_room", "id": "s2", "clinic_id": b.clinic.ID})
	if m := c.expectType(2*time.Second, "waiting_room"); m.ClinicID != b.clinic.ID || m.Ref != "s2" {
		t.Fatalf("snapshot = %s", m.raw)
	}

	c2 := connect(t, st.ts, staffHeaders("both"))
	c2.hello(map[string]any{"clinic_id": a.clinic.ID})
	if m := c2.expectType(2*time.Second, "waiting_room"); m.ClinicID != a.clinic.ID {
		t.Fatalf("snapshot = %s", m.raw)
	}
}

func TestSnapshotsAreCoalesced(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.SnapshotInterval = 200 * time.Millisecond
	st := w.start(cfg, nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	c := connect(t, st.ts, staffHeaders("clin"))
	c.hello(nil)
	c.expectType(2*time.Second, "waiting_room")
	time.Sleep(cfg.SnapshotInterval)

	// Forty changes committed at once reach the hub as one burst.
	ctx := context.Background()
	tx, err := st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		ev := `{"kind":"visit.test","clinic_id":"` + cs.clinic.ID.String() + `","visit_id":"` + uuid.NewString() + `"}`
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", visits.EventChannel, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectType(time.Second, "waiting_room")
	n := 1
	deadline := time.After(time.Second)
	for done := false; !done; {
		select {
		case m := <-c.msgs:
			if m.Type == "waiting_room" {
				n++
			}
		case <-deadline:
			done = true
		}
	}
	if n > 2 {
		t.Fatalf("%d snapshots for one burst; want at most 2", n)
	}
}
