package visits

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKnowledgeCheckLocksAfterFiveWrongAnswers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	hub := NewHub(f.pool, testLogger())
	events, stop := hub.Subscribe()
	defer stop()
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go hub.Run(hctx)
	waitListening(t, f)

	v := f.newVisit(t, nil)
	token := f.linkToken(t, v.ID)
	for i := 1; i <= 4; i++ {
		if _, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-11"); !errors.Is(err, ErrWrongAnswer) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-11"); !errors.Is(err, ErrLinkLocked) {
		t.Fatalf("fifth wrong answer: %v", err)
	}
	if _, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-10"); !errors.Is(err, ErrLinkLocked) {
		t.Fatalf("right answer on a locked link: %v", err)
	}
	waitEvent(t, events, "link.locked")
	got, err := f.svc.GetVisit(ctx, f.sched, v.ID)
	if err != nil || got.Link.State != "locked" || got.Link.FailedAttempts != 5 {
		t.Fatalf("staff view of the link: %v %+v", err, got.Link)
	}
	// A new link unlocks the patient.
	if _, err := f.svc.VerifyPatient(ctx, anon, f.linkToken(t, v.ID), "1985-12-10"); err != nil {
		t.Fatalf("new link: %v", err)
	}
	assertAuditChain(t, f)
}

func TestLinkExpiryAndRevocation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	token := f.linkToken(t, v.ID)
	if _, err := f.svc.OpenLink(ctx, anon, token); err != nil {
		t.Fatalf("open: %v", err)
	}
	for _, bad := range []string{"", "x", token[:42] + "!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := f.svc.OpenLink(ctx, anon, bad); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bogus token: %v", err)
		}
	}
	f.setClock(v.EndsAt().Add(time.Second))
	if _, err := f.svc.OpenLink(ctx, anon, token); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("expired link: %v", err)
	}
	f.svc.SetClock(time.Now)

	ps, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-10")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticatePatient(ctx, ps.Token, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeLink(ctx, f.sched, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLink(ctx, anon, token); !errors.Is(err, ErrLinkRevoked) {
		t.Fatalf("revoked link: %v", err)
	}
	if _, err := f.svc.AuthenticatePatient(ctx, ps.Token, "", ""); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("session of a revoked link: %v", err)
	}
	// Re-issuing revokes the previous link.
	first := f.linkToken(t, v.ID)
	second := f.linkToken(t, v.ID)
	if _, err := f.svc.OpenLink(ctx, anon, first); !errors.Is(err, ErrLinkRevoked) {
		t.Fatalf("superseded link: %v", err)
	}
	if _, err := f.svc.OpenLink(ctx, anon, second); err != nil {
		t.Fatalf("new link: %v", err)
	}
}

func TestPatientSessionExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	ps, err := f.svc.VerifyPatient(ctx, anon, f.linkToken(t, v.ID), "1985-12-10")
	if err != nil {
		t.Fatal(err)
	}
	if ps.ExpiresAt.After(v.EndsAt().Add(time.Hour)) {
		t.Fatalf("session outlives the visit window by more than an hour")
	}
	f.setClock(ps.ExpiresAt)
	if _, err := f.svc.AuthenticatePatient(ctx, ps.Token, "", ""); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("expired session: %v", err)
	}
}

func TestCheckInValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	ps, err := f.svc.VerifyPatient(ctx, anon, f.linkToken(t, v.ID), "1985-12-10")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.svc.AuthenticatePatient(ctx, ps.Token, "", "")
	bad := []CheckIn{
		{LocationState: "XX", RecordingConsent: "yes", DeviceTest: goodCheckIn.DeviceTest},
		{LocationState: "ny", RecordingConsent: "yes", DeviceTest: goodCheckIn.DeviceTest},
		{LocationState: "NY", RecordingConsent: "maybe", DeviceTest: goodCheckIn.DeviceTest},
		{LocationState: "NY", RecordingConsent: "yes", DeviceTest: DeviceTest{Camera: "ok"}},
	}
	for _, ci := range bad {
		if _, err := f.svc.CheckIn(ctx, p, ci); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v", ci, err)
		}
	}
	got, _ := f.svc.GetVisit(ctx, f.sched, v.ID)
	if got.Status != StatusScheduled {
		t.Fatalf("bad check-in changed the visit to %s", got.Status)
	}
	if _, err := f.svc.CheckIn(ctx, f.sched, goodCheckIn); !errors.Is(err, ErrForbidden) {
		t.Fatalf("staff checked in: %v", err)
	}
}

// A knowledge check racing a re-issue of the link and a cancel takes the
// rows in the same order as they do: never a deadlock (which PostgreSQL
// would report as an error).
func TestKnowledgeCheckRacingStaffChangesDoesNotDeadlock(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for trial := 0; trial < 20; trial++ {
		v := f.newVisit(t, nil)
		token := f.linkToken(t, v.ID)
		errs := make(chan error, 3)
		start := make(chan struct{})
		go func() { <-start; _, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-10"); errs <- err }()
		go func() { <-start; _, err := f.svc.IssueLink(ctx, f.sched, v.ID, IssueLinkRequest{}); errs <- err }()
		go func() { <-start; _, err := f.svc.Cancel(ctx, f.sched, v.ID); errs <- err }()
		close(start)
		for i := 0; i < 3; i++ {
			err := <-errs
			if err != nil && !isTyped(err) {
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
	}
}
