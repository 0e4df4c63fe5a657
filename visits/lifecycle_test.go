package visits

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestVisitLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	if v.Status != StatusScheduled || v.Reason != "" {
		t.Fatalf("scheduler sees %q with reason %q", v.Status, v.Reason)
	}
	patient := f.checkedIn(t, v.ID)

	q, err := f.svc.WaitingRoom(ctx, f.clin, f.clinic.ID)
	if err != nil || len(q) != 1 {
		t.Fatalf("waiting room: %v %d", err, len(q))
	}
	e := q[0]
	if e.PatientName != "Ada Lovelace" || !e.IdentityVerified || e.LocationState != "NY" || e.DeviceVerdict != "ok" || e.Position != 1 {
		t.Fatalf("queue entry: %+v", e)
	}
	steps := []struct {
		name string
		do   func() (Visit, error)
		want Status
	}{
		{"admit", func() (Visit, error) { return f.svc.Admit(ctx, f.clin, v.ID) }, StatusInProgress},
		{"send back", func() (Visit, error) { return f.svc.SendBack(ctx, f.clin, v.ID) }, StatusWaiting},
		{"admit again", func() (Visit, error) { return f.svc.Admit(ctx, f.clin, v.ID) }, StatusInProgress},
		{"complete", func() (Visit, error) { return f.svc.Complete(ctx, f.clin, v.ID) }, StatusCompleted},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got.Status != s.want {
			t.Fatalf("%s: %v, status %q", s.name, err, got.Status)
		}
	}
	pv, err := f.svc.PatientView(ctx, patient)
	if err != nil || pv.Status != StatusCompleted {
		t.Fatalf("patient view after completion: %v %+v", err, pv)
	}
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("admit after completion: %v, want conflict", err)
	}
	got, err := f.svc.GetVisit(ctx, f.clin, v.ID)
	if err != nil || got.Reason != "Follow-up on rash" {
		t.Fatalf("clinician read: %v, reason %q", err, got.Reason)
	}
	assertAuditChain(t, f)
}

func assertAuditChain(t *testing.T, f *fixture) {
	t.Helper()
	rep, err := VerifyAudit(context.Background(), f.pool)
	if err != nil || !rep.OK || rep.Checked == 0 {
		t.Fatalf("audit chain: %v %+v", err, rep)
	}
}

func TestPHIIsSealedAtRest(t *testing.T) {
	f := newFixture(t)
	v := f.newVisit(t, nil)
	var name, dob, contact, reason []byte
	err := f.pool.QueryRow(context.Background(), `SELECT patient_name_enc, patient_dob_enc, patient_contact_enc, reason_enc
		FROM visits WHERE id = $1`, v.ID).Scan(&name, &dob, &contact, &reason)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"Ada Lovelace", "1985-12-10", "ada@example.com", "+15555550123", "rash"} {
		for _, col := range [][]byte{name, dob, contact, reason} {
			if bytes.Contains(col, []byte(plain)) {
				t.Fatalf("plaintext PHI found in a sealed column")
			}
		}
	}
	// A sealed value moved to another row does not open.
	other := f.newVisit(t, nil)
	if _, err := f.pool.Exec(context.Background(), "UPDATE visits SET patient_name_enc = $1 WHERE id = $2", name, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetVisit(context.Background(), f.sched, other.ID); err == nil {
		t.Fatal("a sealed value opened in another row")
	}
}

func TestCreateVisitRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good := func() NewVisit {
		return NewVisit{ClinicID: f.clinic.ID, StartsAt: time.Now().Add(time.Hour), DurationMinutes: 30,
			Patient: Patient{Name: "Grace Hopper", DateOfBirth: "1970-01-01"}}
	}
	cases := []struct {
		field string
		edit  func(*NewVisit)
	}{
		{"clinic_id", func(n *NewVisit) { n.ClinicID = [16]byte{} }},
		{"patient.name", func(n *NewVisit) { n.Patient.Name = "  " }},
		{"patient.name", func(n *NewVisit) { n.Patient.Name = "a\x00b" }},
		{"patient.date_of_birth", func(n *NewVisit) { n.Patient.DateOfBirth = "10/12/1985" }},
		{"patient.date_of_birth", func(n *NewVisit) { n.Patient.DateOfBirth = "2999-01-01" }},
		{"patient.email", func(n *NewVisit) { n.Patient.Email = "not an address" }},
		{"patient.phone", func(n *NewVisit) { n.Patient.Phone = "555-0123" }},
		{"patient.ehr_patient_id", func(n *NewVisit) { n.Patient.EHRPatientID = "a/b" }},
		{"starts_at", func(n *NewVisit) { n.StartsAt = time.Time{} }},
		{"starts_at", func(n *NewVisit) { n.StartsAt = time.Now().AddDate(5, 0, 0) }},
		{"duration_minutes", func(n *NewVisit) { n.DurationMinutes = 1 }},
		{"clinician_id", func(n *NewVisit) { n.ClinicianID = &f.otherClin.StaffID }},
		{"clinician_id", func(n *NewVisit) { n.ClinicianID = &f.sched.StaffID }},
	}
	for _, c := range cases {
		nv := good()
		c.edit(&nv)
		_, err := f.svc.CreateVisit(ctx, f.sched, nv)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM visits").Scan(&n); err != nil || n != 0 {
		t.Fatalf("bad input stored %d visits (%v)", n, err)
	}
	if _, err := f.svc.CreateVisit(ctx, f.sched, good()); err != nil {
		t.Fatalf("good input refused: %v", err)
	}
}

func TestListVisitsDefaultsToTheClinicsToday(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	loc, _ := time.LoadLocation(f.clinic.Timezone)
	// 23:50 in New York is already tomorrow in UTC.
	f.setClock(time.Date(2026, 11, 24, 23, 50, 0, 0, loc))
	if _, err := f.pool.Exec(ctx, "UPDATE visits SET starts_at = $2 WHERE id = $1",
		v.ID, time.Date(2026, 11, 24, 9, 0, 0, 0, loc)); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.ListVisits(ctx, f.sched, ListFilter{ClinicID: f.clinic.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("default day: %v, %d visits", err, len(got))
	}
}

func TestAdminCreatesVisitInUnknownClinic(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateVisit(context.Background(), f.admin, NewVisit{ClinicID: [16]byte{1}, StartsAt: time.Now().Add(time.Hour),
		DurationMinutes: 15, Patient: Patient{Name: "Grace Hopper", DateOfBirth: "1970-01-01"}})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "clinic_id" {
		t.Fatalf("got %v, want a clinic_id validation error", err)
	}
}
