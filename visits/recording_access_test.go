package visits

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/store"
)

// TestRecordingPlayback: the visit's clinician and an admin get a link
// that downloads the bytes and expires; the audit event recording.view is
// there when the link is; another clinician of the clinic and a scheduler
// are refused (audited); when the audit cannot be written no link is made.
func TestRecordingPlayback(t *testing.T) {
	f := newRecFixture(t, RecordingsConfig{LinkTTL: 2 * time.Second})
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	o := f.storedRecording(t, v, "webm bytes of the patient", store.Governance, time.Now().Add(24*time.Hour))

	link, err := f.rec.PlaybackLink(ctx, f.clin, o.recording, o.object)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.audits(t, "recording.view", o.object.String(), OutcomeSuccess); n != 1 {
		t.Fatalf("%d recording.view events after the link, want 1", n)
	}
	if d := time.Until(link.ExpiresAt); d > 3*time.Second || d < -time.Second {
		t.Fatalf("link expires in %s, want about 2s", d)
	}
	if u, _ := url.Parse(link.URL); u == nil || u.Query().Get("X-Amz-Expires") != "2" {
		t.Fatalf("link %v does not carry X-Amz-Expires=2", u)
	}
	if status, body := f.fetch(t, link.URL); status != 200 || body != o.body {
		t.Fatalf("GET link: %d %q, want 200 and the object", status, body)
	}
	time.Sleep(3 * time.Second)
	if status, _ := f.fetch(t, link.URL); status != 403 {
		t.Fatalf("GET expired link: %d, want 403", status)
	}
	if _, err := f.rec.PlaybackLink(ctx, f.admin, o.recording, o.object); err != nil {
		t.Fatalf("admin: %v", err)
	}
	for name, a := range map[string]Actor{"scheduler": f.sched, "other clinician": f.clin2, "other clinic": f.otherClin} {
		if _, err := f.rec.PlaybackLink(ctx, a, o.recording, o.object); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", name, err)
		}
	}
	if n := f.audits(t, "recording.view", o.object.String(), OutcomeDenied); n != 3 {
		t.Errorf("%d denied recording.view events, want 3", n)
	}
	if _, err := f.rec.PlaybackLink(ctx, f.clin, o.recording, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown object: %v", err)
	}

	// The audit trail refuses the event: no link.
	if _, err := f.pool.Exec(ctx, `CREATE FUNCTION refuse_view() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN IF NEW.action = 'recording.view' THEN RAISE EXCEPTION 'audit down'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_view BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_view()`); err != nil {
		t.Fatal(err)
	}
	if l, err := f.rec.PlaybackLink(ctx, f.clin, o.recording, o.object); err == nil || l.URL != "" {
		t.Fatalf("audit failed but PlaybackLink gave %q, %v", l.URL, err)
	}
}

// TestRecordingList: clinicians of the clinic and admins list a visit's
// recordings and objects; schedulers are refused.
func TestRecordingList(t *testing.T) {
	f := newRecFixture(t, RecordingsConfig{})
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	o := f.storedRecording(t, v, "bytes", store.Governance, time.Now().Add(time.Hour))
	for _, a := range []Actor{f.clin, f.clin2, f.admin} {
		l, err := f.rec.ListRecordings(ctx, a, v.ID)
		if err != nil || len(l.Items) != 1 || len(l.Items[0].Objects) != 1 {
			t.Fatalf("list: %+v, %v", l, err)
		}
		obj := l.Items[0].Objects[0]
		if obj.ID != o.object || obj.State != "stored" || obj.Size == nil || *obj.Size != 5 || len(obj.SHA256) != 64 {
			t.Fatalf("object %+v", obj)
		}
	}
	if _, err := f.rec.ListRecordings(ctx, f.sched, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("scheduler: %v", err)
	}
	if _, err := f.rec.ListRecordings(ctx, f.otherClin, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("other clinic: %v", err)
	}
	if _, err := f.rec.ListRecordings(ctx, f.clin, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown visit: %v", err)
	}
}

// TestRecordingRelease: staff record a patient's request; schedulers and
// clinicians cannot approve; an admin approves and each link works and is
// audited; a denied request gives no link.
func TestRecordingRelease(t *testing.T) {
	f := newRecFixture(t, RecordingsConfig{})
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	o := f.storedRecording(t, v, "copy for the patient", store.Governance, time.Now().Add(time.Hour))

	if _, err := f.rec.RequestRelease(ctx, f.sched, o.recording, ReleaseRequestInput{Requester: "lawyer"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad requester: %v", err)
	}
	if _, err := f.rec.RequestRelease(ctx, f.otherClin, o.recording, ReleaseRequestInput{Requester: "patient"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("other clinic: %v", err)
	}
	req, err := f.rec.RequestRelease(ctx, f.sched, o.recording, ReleaseRequestInput{Requester: "patient", Note: "by phone"})
	if err != nil || req.State != "pending" {
		t.Fatalf("request: %+v, %v", req, err)
	}
	if _, err := f.rec.ReleaseLink(ctx, f.admin, o.recording, req.ID, uuid.Nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("link of a pending request: %v", err)
	}
	for _, a := range []Actor{f.sched, f.clin} {
		if _, err := f.rec.DecideRelease(ctx, a, o.recording, req.ID, true); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s approves: %v", a.PrimaryRole(), err)
		}
	}
	got, err := f.rec.DecideRelease(ctx, f.admin, o.recording, req.ID, true)
	if err != nil || got.State != "approved" || got.Note != "by phone" || got.DecidedBy == nil {
		t.Fatalf("approve: %+v, %v", got, err)
	}
	if _, err := f.rec.DecideRelease(ctx, f.admin, o.recording, req.ID, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("deny after approval: %v", err)
	}
	for i := range 2 {
		link, err := f.rec.ReleaseLink(ctx, f.admin, o.recording, req.ID, uuid.Nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.audits(t, "recording.release.link", req.ID.String(), OutcomeSuccess); n != i+1 {
			t.Fatalf("%d link events after link %d", n, i+1)
		}
		if status, body := f.fetch(t, link.URL); status != 200 || body != o.body {
			t.Fatalf("GET release link: %d %q", status, body)
		}
	}
	if _, err := f.rec.ReleaseLink(ctx, f.clin, o.recording, req.ID, uuid.Nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("clinician asks for the link: %v", err)
	}
	if n := f.audits(t, "recording.release.approve", req.ID.String(), OutcomeSuccess); n != 1 {
		t.Fatalf("%d approval events", n)
	}

	denied, _ := f.rec.RequestRelease(ctx, f.clin, o.recording, ReleaseRequestInput{Requester: "patient"})
	if d, err := f.rec.DecideRelease(ctx, f.admin, o.recording, denied.ID, false); err != nil || d.State != "denied" {
		t.Fatalf("deny: %+v, %v", d, err)
	}
	if l, err := f.rec.ReleaseLink(ctx, f.admin, o.recording, denied.ID, uuid.Nil); !errors.Is(err, ErrConflict) || l.URL != "" {
		t.Fatalf("link of a denied request: %q, %v", l.URL, err)
	}
}
