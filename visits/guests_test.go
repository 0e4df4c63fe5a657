package visits

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// invite invites a guest as a and returns the link's token and the guest id.
func (f *fixture) invite(t testing.TB, a Actor, visit uuid.UUID, name string) (string, uuid.UUID) {
	t.Helper()
	l, err := f.svc.InviteGuest(context.Background(), a, visit, GuestInvite{DisplayName: name, Role: "interpreter"})
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	base, token, ok := strings.Cut(l.URL, "#")
	if !ok || base != "https://visits.test/guest" || !plausibleToken(token) {
		t.Fatalf("guest link %q has no token fragment", l.URL)
	}
	return token, l.GuestID
}

// guestActor opens a guest link and authenticates the session.
func (f *fixture) guestActor(t testing.TB, token string) Actor {
	t.Helper()
	ctx := context.Background()
	gs, err := f.svc.StartGuestSession(ctx, anon, token)
	if err != nil {
		t.Fatalf("start guest session: %v", err)
	}
	g, err := f.svc.AuthenticateGuest(ctx, gs.Token, "203.0.113.9", "test")
	if err != nil {
		t.Fatalf("authenticate guest: %v", err)
	}
	if g.Kind != ActorGuest || g.VisitID != gs.VisitID || g.GuestID != gs.GuestID {
		t.Fatalf("guest actor %+v for session %+v", g, gs)
	}
	return g
}

func (f *fixture) guestStatus(t testing.TB, visit, guest uuid.UUID) GuestStatus {
	t.Helper()
	gs, err := f.svc.ListGuests(context.Background(), f.clin, visit)
	if err != nil {
		t.Fatalf("list guests: %v", err)
	}
	for _, g := range gs {
		if g.ID == guest {
			return g.Status
		}
	}
	t.Fatalf("guest %s not listed", guest)
	return ""
}

func wantGrant(t *testing.T, f *fixture, a Actor, visit uuid.UUID, admitted bool, reason string) Grant {
	t.Helper()
	g, err := f.svc.MediaGrant(context.Background(), a, visit)
	if err != nil {
		t.Fatalf("media grant for %s: %v", a.Kind, err)
	}
	if visit == uuid.Nil {
		visit = a.VisitID
	}
	if g.Admitted != admitted || g.Reason != reason || g.VisitID != visit {
		t.Fatalf("media grant for %s: admitted %v reason %q (visit %s), want %v %q", a.Kind, g.Admitted, g.Reason, g.VisitID, admitted, reason)
	}
	return g
}

// The whole journey: invite, open the link, wait, admit, media only while
// the visit is in progress, remove; the link is then dead.
func TestGuestJourney(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	patient := f.checkedIn(t, v.ID)
	token, gid := f.invite(t, f.clin, v.ID, "Maria Interpreter")
	if st := f.guestStatus(t, v.ID, gid); st != GuestInvited {
		t.Fatalf("before the link is opened: %q", st)
	}
	guest := f.guestActor(t, token)
	gs, err := f.svc.ListGuests(ctx, f.clin, v.ID)
	if err != nil || len(gs) != 1 || gs[0].DisplayName != "Maria Interpreter" || gs[0].Status != GuestWaiting ||
		gs[0].Role != "interpreter" || gs[0].InvitedBy != f.clin.StaffID || gs[0].WaitingSince == nil {
		t.Fatalf("list guests: %v %+v", err, gs)
	}
	gv, err := f.svc.GuestView(ctx, guest)
	if err != nil || gv.Status != GuestWaiting || gv.ClinicName != "North Clinic" || gv.VisitStatus != StatusWaiting {
		t.Fatalf("guest view: %v %+v", err, gv)
	}
	wantGrant(t, f, guest, v.ID, false, ReasonVisitWaiting)

	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, guest, v.ID, false, ReasonGuestWaiting) // the visit runs, the guest still waits
	g, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid)
	if err != nil || g.Status != GuestAdmitted || g.AdmittedAt == nil {
		t.Fatalf("admit guest: %v %+v", err, g)
	}
	if _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); !errors.Is(err, ErrConflict) {
		t.Fatalf("admit twice: %v, want conflict", err)
	}
	got := wantGrant(t, f, guest, uuid.Nil, true, "")
	if got.ParticipantID != "guest:"+gid.String() || got.Role != "guest" || got.DisplayName != "Maria Interpreter" {
		t.Fatalf("guest grant: %+v", got)
	}
	if _, err := f.svc.SendBack(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, guest, v.ID, false, ReasonVisitWaiting)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, guest, v.ID, true, "")
	wantGrant(t, f, patient, v.ID, true, "")

	g, err = f.svc.RemoveGuest(ctx, f.clin, v.ID, gid)
	if err != nil || g.Status != GuestRemoved || g.RemovedAt == nil {
		t.Fatalf("remove guest: %v %+v", err, g)
	}
	wantGrant(t, f, guest, v.ID, false, ReasonGuestRemoved)
	if _, err := f.svc.StartGuestSession(ctx, anon, token); !errors.Is(err, ErrLinkRevoked) {
		t.Fatalf("link after removal: %v, want revoked", err)
	}
	if _, err := f.svc.RemoveGuest(ctx, f.clin, v.ID, gid); !errors.Is(err, ErrConflict) {
		t.Fatalf("remove twice: %v, want conflict", err)
	}
	wantGrant(t, f, patient, v.ID, true, "") // the patient is unaffected
	assertAuditChain(t, f)
}

func TestRemovedGuestSessionEnds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	token, gid := f.invite(t, f.clin, v.ID, "Sam Family")
	gs, err := f.svc.StartGuestSession(ctx, anon, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RemoveGuest(ctx, f.clin, v.ID, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateGuest(ctx, gs.Token, "", ""); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("session after removal: %v, want ended", err)
	}
	if _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); !errors.Is(err, ErrConflict) {
		t.Fatalf("admit a removed guest: %v, want conflict", err)
	}
}

// Opening the link again replaces the session and puts the guest back in
// the waiting room: a forwarded link does not inherit an admission.
func TestReopenedGuestLinkWaitsAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	token, gid := f.invite(t, f.clin, v.ID, "Sam Family")
	first := f.guestActor(t, token)
	if _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, first, v.ID, true, "")
	second := f.guestActor(t, token)
	wantGrant(t, f, first, v.ID, false, ReasonSessionEnded)
	wantGrant(t, f, second, v.ID, false, ReasonGuestWaiting)
	if st := f.guestStatus(t, v.ID, gid); st != GuestWaiting {
		t.Fatalf("status after reopening: %q", st)
	}
}

// A guest token is never a patient link, and a patient token never a guest
// link: a relative who knows the date of birth cannot become the patient.
func TestGuestLinkIsNotAPatientLink(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	token, _ := f.invite(t, f.clin, v.ID, "Sam Family")
	if _, err := f.svc.OpenLink(ctx, anon, token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open link with a guest token: %v, want not found", err)
	}
	if _, err := f.svc.VerifyPatient(ctx, anon, token, "1985-12-10"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("verify patient with a guest token: %v, want not found", err)
	}
	if _, err := f.svc.StartGuestSession(ctx, anon, f.linkToken(t, v.ID)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("guest session with a patient token: %v, want not found", err)
	}
	if _, err := f.svc.StartGuestSession(ctx, anon, "not-a-token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("guest session with garbage: %v, want not found", err)
	}
}

// Revoking or re-issuing the patient's link leaves guests alone; ending the
// visit ends them.
func TestGuestsAndVisitLinks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	token, gid := f.invite(t, f.clin, v.ID, "Sam Family")
	gs, err := f.svc.StartGuestSession(ctx, anon, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeLink(ctx, f.sched, v.ID); err != nil {
		t.Fatal(err)
	}
	f.linkToken(t, v.ID) // re-issue: revokes patient links only
	if _, err := f.svc.AuthenticateGuest(ctx, gs.Token, "", ""); err != nil {
		t.Fatalf("guest session after the patient's link was revoked: %v", err)
	}
	if _, err := f.svc.StartGuestSession(ctx, anon, token); err != nil {
		t.Fatalf("guest link after the patient's link was revoked: %v", err)
	}
	if _, err := f.svc.Cancel(ctx, f.sched, v.ID); err != nil {
		t.Fatal(err)
	}
	if st := f.guestStatus(t, v.ID, gid); st != GuestLeft {
		t.Fatalf("guest after cancellation: %q, want left", st)
	}
	if _, err := f.svc.StartGuestSession(ctx, anon, token); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("guest link after cancellation: %v, want expired", err)
	}
	if _, err := f.svc.InviteGuest(ctx, f.clin, v.ID, GuestInvite{DisplayName: "Late", Role: "other"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("invite to a cancelled visit: %v, want conflict", err)
	}
}

func TestCompletingTheVisitEndsGuests(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	token, gid := f.invite(t, f.clin, v.ID, "Sam Family")
	guest := f.guestActor(t, token)
	if _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Complete(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	wantGrant(t, f, guest, v.ID, false, ReasonSessionEnded)
	if st := f.guestStatus(t, v.ID, gid); st != GuestLeft {
		t.Fatalf("guest after completion: %q, want left", st)
	}
	assertAuditChain(t, f)
}

// Only clinicians of the visit's clinic who may handle it act on guests;
// a guest of one visit is not found through another.
func TestGuestPolicy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mine := f.newVisit(t, &f.clin.StaffID)
	pool := f.newVisit(t, nil)
	inv := GuestInvite{DisplayName: "Sam Family", Role: "family"}
	for _, c := range []struct {
		name string
		a    Actor
		want error
	}{
		{"other clinic's clinician", f.otherClin, ErrForbidden},
		{"scheduler", f.sched, ErrForbidden},
		{"admin without the clinician role", f.admin, ErrForbidden},
		{"another clinician of the clinic", f.clin2, ErrConflict},
		{"anonymous", anon, ErrForbidden},
	} {
		if _, err := f.svc.InviteGuest(ctx, c.a, mine.ID, inv); !errors.Is(err, c.want) {
			t.Errorf("%s invites: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := f.svc.InviteGuest(ctx, f.clin2, pool.ID, inv); err != nil {
		t.Errorf("a clinician of the clinic invites to a pool visit: %v", err)
	}
	if _, err := f.svc.InviteGuest(ctx, f.clin, uuid.New(), inv); !errors.Is(err, ErrNotFound) {
		t.Errorf("invite to an unknown visit: %v", err)
	}
	tokenA, gidA := f.invite(t, f.clin, mine.ID, "Guest A")
	guestA := f.guestActor(t, tokenA)
	if _, err := f.svc.AdmitGuest(ctx, f.clin, pool.ID, gidA); !errors.Is(err, ErrNotFound) {
		t.Errorf("admit a guest through another visit: %v, want not found", err)
	}
	if _, err := f.svc.RemoveGuest(ctx, f.otherClin, mine.ID, gidA); !errors.Is(err, ErrForbidden) {
		t.Errorf("other clinic removes: %v, want forbidden", err)
	}
	if _, err := f.svc.InviteGuest(ctx, guestA, mine.ID, inv); !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest invites: %v, want forbidden", err)
	}
	if _, err := f.svc.AdmitGuest(ctx, guestA, mine.ID, gidA); !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest admits themself: %v, want forbidden", err)
	}
	if _, err := f.svc.ListGuests(ctx, guestA, mine.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest lists guests: %v, want forbidden", err)
	}
	if _, err := f.svc.MediaGrant(ctx, guestA, pool.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest asks for another visit's media: %v, want forbidden", err)
	}
	for name, a := range map[string]Actor{"scheduler": f.sched, "other clinic": f.otherClin, "admin": f.admin} {
		if _, err := f.svc.ListGuests(ctx, a, mine.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s lists guests: %v, want forbidden", name, err)
		}
	}
	if gs, err := f.svc.ListGuests(ctx, f.clin2, mine.ID); err != nil || len(gs) != 1 {
		t.Errorf("another clinician of the clinic lists: %v %d", err, len(gs))
	}
	if _, err := f.svc.GuestView(ctx, f.clin); !errors.Is(err, ErrForbidden) {
		t.Errorf("staff guest view: %v, want forbidden", err)
	}
	assertAuditChain(t, f)
}

func TestGuestInviteValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	for _, in := range []GuestInvite{
		{DisplayName: "", Role: "family"},
		{DisplayName: "   ", Role: "family"},
		{DisplayName: strings.Repeat("x", 101), Role: "family"},
		{DisplayName: "Tab\there", Role: "family"},
		{DisplayName: "Sam", Role: "neighbour"},
	} {
		if _, err := f.svc.InviteGuest(ctx, f.clin, v.ID, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("invite %q/%q: %v, want invalid", in.DisplayName, in.Role, err)
		}
	}
	if _, err := f.svc.InviteGuest(ctx, f.clin, v.ID, GuestInvite{DisplayName: strings.Repeat("é", 100), Role: "other"}); err != nil {
		t.Errorf("100 characters: %v", err)
	}
	for i := 1; i < maxActiveGuests; i++ {
		f.invite(t, f.clin, v.ID, "Guest")
	}
	if _, err := f.svc.InviteGuest(ctx, f.clin, v.ID, GuestInvite{DisplayName: "One too many", Role: "other"}); !errors.Is(err, ErrConflict) {
		t.Errorf("guest %d: %v, want conflict", maxActiveGuests+1, err)
	}
}

// The display name is sealed at rest, bound to its row, and kept out of
// the audit trail and the event payloads.
func TestGuestNameSealedAtRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	token, gid := f.invite(t, f.clin, v.ID, "Zebulon Quartermaine")
	f.guestActor(t, token)
	if _, err := f.svc.ListGuests(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	var dump string
	if err := f.pool.QueryRow(ctx, "SELECT display_name_enc, g::text FROM visit_guests g WHERE id = $1", gid).Scan(&sealed, &dump); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Zebulon")) || strings.Contains(dump, "Zebulon") {
		t.Fatal("guest display name stored in plaintext")
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE detail::text LIKE '%Zebulon%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("display name in the audit trail: %v %d", err, n)
	}
	// Moved to another guest's row, the sealed name does not open.
	_, gid2 := f.invite(t, f.clin, v.ID, "Someone Else")
	if _, err := f.pool.Exec(ctx, "UPDATE visit_guests SET display_name_enc = $1 WHERE id = $2", sealed, gid2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ListGuests(ctx, f.clin, v.ID); err == nil {
		t.Fatal("a sealed name moved to another row opened")
	}
}

// A guest opening their link while a clinician admits or removes them, or
// completes the visit, never deadlocks or fails with anything but the
// typed errors (the visit row is always locked first).
func TestGuestChangesRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	typed := func(err error) bool {
		return err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrLinkRevoked) || errors.Is(err, ErrLinkExpired)
	}
	for i := range 15 {
		token, gid := f.invite(t, f.clin, v.ID, "Guest")
		f.guestActor(t, token)
		errs := make(chan error, 3)
		go func() { _, err := f.svc.StartGuestSession(ctx, anon, token); errs <- err }()
		go func() { _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); errs <- err }()
		go func() {
			var err error
			if i%2 == 0 {
				_, err = f.svc.RemoveGuest(ctx, f.clin, v.ID, gid)
			}
			errs <- err
		}()
		for range 3 {
			if err := <-errs; !typed(err) {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		if i%2 == 0 {
			continue
		}
		if _, err := f.svc.RemoveGuest(ctx, f.clin, v.ID, gid); err != nil {
			t.Fatalf("round %d: remove: %v", i, err)
		}
	}
	errs := make(chan error, 2)
	token, gid := f.invite(t, f.clin, v.ID, "Last")
	f.guestActor(t, token)
	go func() { _, err := f.svc.Complete(ctx, f.clin, v.ID); errs <- err }()
	go func() { _, err := f.svc.AdmitGuest(ctx, f.clin, v.ID, gid); errs <- err }()
	for range 2 {
		if err := <-errs; !typed(err) {
			t.Fatalf("complete and admit: %v", err)
		}
	}
	assertAuditChain(t, f)
}
