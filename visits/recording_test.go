package visits

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// inCall returns an in-progress visit of f.clin and its patient.
func (f *fixture) inCall(t *testing.T) (Visit, Actor) {
	t.Helper()
	v := f.newVisit(t, &f.clin.StaffID)
	patient := f.checkedIn(t, v.ID)
	if _, err := f.svc.Admit(context.Background(), f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	return v, patient
}

// Everyone asked must say yes before a recording is active; the patient
// sees their check-in answer; the consent text and times are kept.
func TestRecordingConsentAllYes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v, patient := f.inCall(t)
	me := ParticipantOf(f.clin)
	rec, err := f.svc.RequestRecording(ctx, f.clin, v.ID, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != RecordingPending || !slices.Equal(rec.WaitingFor(), []string{me, "patient"}) {
		t.Fatalf("after request: %s waiting for %v", rec.State, rec.WaitingFor())
	}
	pc, _ := rec.Consent("patient")
	if pc.CheckinAnswer != "yes" || pc.Text != ConsentText || pc.TextVersion != ConsentTextVersion {
		t.Fatalf("patient request: %+v", pc)
	}
	if _, err := f.svc.RequestRecording(ctx, f.clin, v.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("second request: %v, want conflict", err)
	}
	cc, _ := rec.Consent(me)
	if _, err := f.svc.AnswerConsent(ctx, patient, cc.ID, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("patient answering the clinician's request: %v", err)
	}
	if rec, err = f.svc.AnswerConsent(ctx, f.clin, cc.ID, true); err != nil || rec.State != RecordingPending {
		t.Fatalf("clinician yes: %v %s", err, rec.State)
	}
	if rec, err = f.svc.AnswerConsent(ctx, patient, pc.ID, true); err != nil || !rec.Active() || rec.StartedAt == nil {
		t.Fatalf("patient yes: %v %+v", err, rec)
	}
	if _, err := f.svc.AnswerConsent(ctx, patient, pc.ID, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("answering twice: %v", err)
	}
	if got := rec.Consented(); !slices.Equal(got, []string{me, "patient"}) {
		t.Fatalf("consented %v", got)
	}
	if rec, err = f.svc.StopRecording(ctx, f.clin, v.ID, StopStopped); err != nil || rec.StopReason != StopStopped {
		t.Fatalf("stop: %v %+v", err, rec)
	}
	if live, err := f.svc.LiveRecording(ctx, patient, v.ID); err != nil || live != nil {
		t.Fatalf("live after stop: %v %v", live, err)
	}
	assertAuditChain(t, f)
}

// One "no" stops the recording for everyone; a withdrawal stops it too.
func TestRecordingConsentDeclineAndWithdraw(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v, patient := f.inCall(t)
	rec, err := f.svc.RequestRecording(ctx, f.clin, v.ID, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := rec.Consent("patient")
	if rec, err = f.svc.AnswerConsent(ctx, patient, pc.ID, false); err != nil || rec.State != RecordingStopped || rec.StopReason != StopDeclined {
		t.Fatalf("patient no: %v %+v", err, rec)
	}

	rec, err = f.svc.RequestRecording(ctx, f.clin, v.ID, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Consents {
		a := f.clin
		if c.ParticipantID == "patient" {
			a = patient
		}
		if rec, err = f.svc.AnswerConsent(ctx, a, c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	if !rec.Active() {
		t.Fatalf("not active: %+v", rec)
	}
	if rec, err = f.svc.WithdrawConsent(ctx, patient, v.ID); err != nil || rec.StopReason != StopWithdrawn {
		t.Fatalf("withdraw: %v %+v", err, rec)
	}
	if c, _ := rec.Consent("patient"); c.WithdrawnAt == nil {
		t.Fatal("withdrawal not recorded")
	}
	if _, err := f.svc.WithdrawConsent(ctx, patient, v.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("withdraw with nothing live: %v", err)
	}
	assertAuditChain(t, f)
}

// Only the visit's clinician may ask, only in progress; a joiner is asked
// once and is not consenting until they answer.
func TestRecordingConsentPolicyAndJoiner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v, patient := f.inCall(t)
	for _, a := range []Actor{f.clin2, f.otherClin, patient, f.sched} {
		if _, err := f.svc.RequestRecording(ctx, a, v.ID, nil); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s requesting: %v, want forbidden", a.ID, err)
		}
	}
	if _, err := f.svc.RequestRecording(ctx, f.clin, v.ID, []string{"bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad participant: %v", err)
	}
	scheduled := f.newVisit(t, &f.clin.StaffID)
	if _, err := f.svc.RequestRecording(ctx, f.clin, scheduled.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("not in progress: %v", err)
	}
	rec, err := f.svc.RequestRecording(ctx, f.clin, v.ID, nil) // the patient has not joined the room
	if err != nil {
		t.Fatal(err)
	}
	if rec, err = f.svc.AnswerConsent(ctx, f.clin, rec.Consents[0].ID, true); err != nil || !rec.Active() {
		t.Fatalf("clinician alone: %v %+v", err, rec)
	}
	live, c, err := f.svc.AskConsent(ctx, patient, v.ID)
	if err != nil || live == nil || c.ParticipantID != "patient" || c.Answer != "" {
		t.Fatalf("ask joiner: %v %+v %+v", err, live, c)
	}
	if !slices.Equal(live.WaitingFor(), []string{"patient"}) || slices.Contains(live.Consented(), "patient") {
		t.Fatalf("joiner state: waiting %v consented %v", live.WaitingFor(), live.Consented())
	}
	again, c2, err := f.svc.AskConsent(ctx, patient, v.ID)
	if err != nil || c2.ID != c.ID || len(again.Consents) != 2 {
		t.Fatalf("asked twice: %v %+v", err, c2)
	}
	if rec, err = f.svc.AnswerConsent(ctx, patient, c.ID, true); err != nil || !slices.Contains(rec.Consented(), "patient") {
		t.Fatalf("joiner yes: %v %+v", err, rec)
	}
	if _, err := f.svc.StopRecording(ctx, f.clin2, v.ID, StopStopped); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another clinician stopping: %v", err)
	}
	if _, err := f.svc.StopRecording(ctx, SystemActor("recorder"), v.ID, StopError); err != nil {
		t.Fatal(err)
	}
	assertAuditChain(t, f)
}

// Objects: the recorder notes uploads, and unfinished ones are listed for
// crash recovery.
func TestRecordingObjects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v, _ := f.inCall(t)
	rec, err := f.svc.RequestRecording(ctx, f.clin, v.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := SystemActor("recorder")
	o := RecordingObject{ID: uuid.New(), RecordingID: rec.ID, ParticipantID: "patient",
		Key: "recordings/" + v.ID.String() + "/x.webm", SpoolPath: "/tmp/x.spool"}
	if err := f.svc.AddRecordingObject(ctx, f.clin, o); !errors.Is(err, ErrForbidden) {
		t.Fatalf("staff adding an object: %v", err)
	}
	if err := f.svc.AddRecordingObject(ctx, sys, o); err != nil {
		t.Fatal(err)
	}
	up, err := f.svc.UploadingRecordingObjects(ctx, sys)
	if err != nil || len(up) != 1 || up[0].SpoolPath != o.SpoolPath || up[0].VisitID != v.ID {
		t.Fatalf("uploading: %v %+v", err, up)
	}
	sum := make([]byte, 32)
	if err := f.svc.RecordingObjectStored(ctx, sys, o.ID, 1234, sum); err != nil {
		t.Fatal(err)
	}
	if up, _ := f.svc.UploadingRecordingObjects(ctx, sys); len(up) != 0 {
		t.Fatalf("still uploading: %+v", up)
	}
	objs, err := f.svc.RecordingObjects(ctx, f.clin, rec.ID)
	if err != nil || len(objs) != 1 || objs[0].State != "stored" || objs[0].Size != 1234 {
		t.Fatalf("objects: %v %+v", err, objs)
	}
	if _, err := f.svc.RecordingObjects(ctx, f.otherClin, rec.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("other clinic: %v", err)
	}
	assertAuditChain(t, f)
}

// Answers arriving at the same time: the last "yes" always sees the
// others, so the recording becomes active.
func TestRecordingConsentConcurrentAnswers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v, patient := f.inCall(t)
	for range 5 {
		rec, err := f.svc.RequestRecording(ctx, f.clin, v.ID, []string{"patient"})
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, len(rec.Consents))
		for _, c := range rec.Consents {
			a := f.clin
			if c.ParticipantID == "patient" {
				a = patient
			}
			go func() {
				_, err := f.svc.AnswerConsent(ctx, a, c.ID, true)
				errs <- err
			}()
		}
		for range rec.Consents {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		live, err := f.svc.LiveRecording(ctx, f.clin, v.ID)
		if err != nil || live == nil || !live.Active() {
			t.Fatalf("after concurrent yeses: %v %+v", err, live)
		}
		if _, err := f.svc.StopRecording(ctx, f.clin, v.ID, StopStopped); err != nil {
			t.Fatal(err)
		}
	}
}
