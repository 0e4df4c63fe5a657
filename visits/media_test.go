package visits

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
)

// The admission gate for the patient and the clinician: media only while
// the visit is in progress, and for the clinician only as its clinician.
func TestMediaGrantFollowsTheVisit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil) // a pool visit: the admitting clinician becomes its clinician
	patient := f.checkedIn(t, v.ID)

	g := wantGrant(t, f, patient, v.ID, false, ReasonVisitWaiting)
	if g.ParticipantID != "patient" || g.Role != "patient" || g.DisplayName != "Patient" {
		t.Fatalf("patient grant: %+v (the patient's name is never a display name)", g)
	}
	wantGrant(t, f, patient, uuid.Nil, false, ReasonVisitWaiting)
	wantGrant(t, f, f.clin, v.ID, false, ReasonNotVisitClinician)

	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, true, "")
	g = wantGrant(t, f, f.clin, v.ID, true, "")
	if g.ParticipantID != "clinician:"+f.clin.StaffID.String() || g.Role != "clinician" || g.DisplayName != "Dr clin" {
		t.Fatalf("clinician grant: %+v", g)
	}
	wantGrant(t, f, f.clin2, v.ID, false, ReasonNotVisitClinician)

	if _, err := f.svc.SendBack(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, false, ReasonVisitWaiting)
	wantGrant(t, f, f.clin, v.ID, false, ReasonVisitWaiting)

	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, true, "")
	if _, err := f.svc.Complete(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, false, ReasonVisitEnded)
	wantGrant(t, f, f.clin, v.ID, false, ReasonVisitEnded)
	assertAuditChain(t, f)
}

func TestMediaGrantScheduledVisit(t *testing.T) {
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	wantGrant(t, f, f.clin, v.ID, false, ReasonVisitScheduled)
}

func TestMediaGrantRefusesOthers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	w := f.newVisit(t, nil)
	otherPatient := f.checkedIn(t, w.ID)
	apiClin := f.clin
	apiClin.Kind = ActorAPIClient
	clinAdmin := f.staff(t, "clinadmin", RoleAdmin)
	for name, c := range map[string]struct {
		a    Actor
		want error
	}{
		"another visit's patient":  {otherPatient, ErrForbidden},
		"another clinic's doctor":  {f.otherClin, ErrForbidden},
		"scheduler":                {f.sched, ErrForbidden},
		"admin":                    {clinAdmin, ErrForbidden},
		"API client with the role": {apiClin, ErrForbidden},
		"anonymous":                {anon, ErrForbidden},
		"system":                   {SystemActor("test"), ErrForbidden},
	} {
		if _, err := f.svc.MediaGrant(ctx, c.a, v.ID); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := f.svc.MediaGrant(ctx, f.clin, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown visit: %v, want not found", err)
	}
	var denied int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'media.grant'
		AND outcome = 'denied' AND visit_id = $1`, v.ID).Scan(&denied); err != nil || denied != 7 {
		t.Errorf("denied grants audited: %v %d, want 7", err, denied)
	}
	assertAuditChain(t, f)
}

// A patient whose session ended gets no media even if signaling still holds
// their old actor: Admitted false, not an error, so the media stops.
func TestMediaGrantEndedPatientSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	patient := f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, true, "")
	if err := f.svc.EndPatientSession(ctx, patient); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, patient, v.ID, false, ReasonSessionEnded)
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'media.grant'
		AND visit_id = $1 AND outcome = 'success'`, v.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("successful grants audited: %v %d, want 1", err, n)
	}
}
