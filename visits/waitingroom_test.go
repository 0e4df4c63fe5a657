package visits

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Two clinicians admit the same pool patient at the same moment: exactly one
// wins, the other gets a conflict, and the visit is the winner's.
func TestConcurrentAdmitExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for trial := 0; trial < 10; trial++ {
		v := f.newVisit(t, nil)
		f.checkedIn(t, v.ID)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		winners := make([]Visit, 2)
		for i, c := range []Actor{f.clin, f.clin2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				winners[i], errs[i] = f.svc.Admit(ctx, c, v.ID)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				if *winners[i].ClinicianID != []Actor{f.clin, f.clin2}[i].StaffID {
					t.Fatalf("visit assigned to the loser")
				}
			case !errors.Is(err, ErrConflict):
				t.Fatalf("loser got %v, want conflict", err)
			}
		}
		if ok != 1 {
			t.Fatalf("trial %d: %d admits succeeded, want exactly 1", trial, ok)
		}
	}
	assertAuditChain(t, f)
}

func TestQueueOrderAndPlace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var patients []Actor
	for i := 0; i < 3; i++ {
		v := f.newVisit(t, &f.clin.StaffID)
		patients = append(patients, f.checkedIn(t, v.ID))
	}
	pool := f.newVisit(t, nil)
	poolPatient := f.checkedIn(t, pool.ID)

	q, err := f.svc.WaitingRoom(ctx, f.clin2, f.clinic.ID)
	if err != nil || len(q) != 4 {
		t.Fatalf("queue: %v, %d entries", err, len(q))
	}
	for i, p := range patients {
		pv, err := f.svc.PatientView(ctx, p)
		if err != nil || pv.Position != i+1 || pv.EstimatedWaitMinutes != i*20 {
			t.Fatalf("patient %d: %v %+v", i, err, pv)
		}
	}
	pv, err := f.svc.PatientView(ctx, poolPatient)
	if err != nil || pv.Position != 1 {
		t.Fatalf("pool patient: %v %+v", err, pv)
	}
	// Admitting the first moves the others up; the wait now counts the
	// visit in progress.
	if _, err := f.svc.Admit(ctx, f.clin, patients[0].VisitID); err != nil {
		t.Fatal(err)
	}
	pv, err = f.svc.PatientView(ctx, patients[1])
	if err != nil || pv.Position != 1 || pv.EstimatedWaitMinutes < 19 || pv.EstimatedWaitMinutes > 20 {
		t.Fatalf("after admit: %v %+v", err, pv)
	}
}

func TestTakeAndHandOff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	f.checkedIn(t, v.ID)
	got, err := f.svc.Take(ctx, f.clin, v.ID)
	if err != nil || *got.ClinicianID != f.clin.StaffID {
		t.Fatalf("take: %v", err)
	}
	if _, err := f.svc.Take(ctx, f.clin2, v.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("second take: %v", err)
	}
	if _, err := f.svc.Admit(ctx, f.clin2, v.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("admit of a colleague's patient: %v", err)
	}
	if _, err := f.svc.HandOff(ctx, f.clin, v.ID, f.otherClin.StaffID); err == nil {
		t.Fatal("hand-off to another clinic's clinician succeeded")
	}
	got, err = f.svc.HandOff(ctx, f.clin, v.ID, f.clin2.StaffID)
	if err != nil || *got.ClinicianID != f.clin2.StaffID {
		t.Fatalf("hand-off: %v", err)
	}
	if _, err := f.svc.Admit(ctx, f.clin2, v.ID); err != nil {
		t.Fatalf("admit by the new clinician: %v", err)
	}
}

func TestStaffOfAnotherClinicIsRefusedAndAudited(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	f.checkedIn(t, v.ID)
	if _, err := f.svc.WaitingRoom(ctx, f.otherClin, f.clinic.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("waiting room of another clinic: %v", err)
	}
	if _, err := f.svc.Admit(ctx, f.otherClin, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("admit in another clinic: %v", err)
	}
	if _, err := f.svc.GetVisit(ctx, f.otherClin, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("read in another clinic: %v", err)
	}
	if _, err := f.svc.Admit(ctx, f.sched, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("scheduler admitted: %v", err)
	}
	var denied int
	err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE outcome = 'denied' AND actor_id = $1`,
		f.otherClin.ID).Scan(&denied)
	if err != nil || denied != 3 {
		t.Fatalf("denied events for the other clinic's clinician: %d (%v)", denied, err)
	}
	assertAuditChain(t, f)
}

func TestRescheduleMovesLinkExpiry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	f.linkToken(t, v.ID)
	later := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	got, err := f.svc.Reschedule(ctx, f.sched, v.ID, Reschedule{StartsAt: &later, ClinicianID: &f.clin.StaffID})
	if err != nil || !got.StartsAt.Equal(later) || *got.ClinicianID != f.clin.StaffID {
		t.Fatalf("reschedule: %v %+v", err, got)
	}
	if want := later.Add(20 * time.Minute); !got.Link.ExpiresAt.Equal(want) {
		t.Fatalf("link expires %v, want %v", got.Link.ExpiresAt, want)
	}
	if _, err := f.svc.Reschedule(ctx, f.clin, v.ID, Reschedule{StartsAt: &later}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clinician rescheduled: %v", err)
	}
	if _, err := f.svc.Cancel(ctx, f.sched, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reschedule(ctx, f.sched, v.ID, Reschedule{StartsAt: &later}); !errors.Is(err, ErrConflict) {
		t.Fatalf("rescheduled a cancelled visit: %v", err)
	}
}
