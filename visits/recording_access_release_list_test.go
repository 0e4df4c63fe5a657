package visits

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/store"
)

// newReleaseFixture is the visits fixture with recording access and no
// object store: listing and deciding requests never touch media.
func newReleaseFixture(t *testing.T) *recFixture {
	t.Helper()
	f := &recFixture{fixture: newFixture(t)}
	var err error
	if f.rec, err = NewRecordings(RecordingsConfig{}, f.svc, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// recordingOf inserts a stopped recording of visit with one stored object
// (rows only) and returns its id.
func (f *recFixture) recordingOf(t *testing.T, v Visit) uuid.UUID {
	t.Helper()
	o := recObject{recording: uuid.New(), object: uuid.New(), visit: v.ID, body: "rows only"}
	o.key = store.Key{Visit: v.ID, Recording: o.object}
	f.insertRecording(t, v, o)
	return o.recording
}

func (f *recFixture) request(t *testing.T, a Actor, recording uuid.UUID, note string) ReleaseRequest {
	t.Helper()
	req, err := f.rec.RequestRelease(context.Background(), a, recording, ReleaseRequestInput{Requester: "patient", Note: note})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// noteInAudit reports whether text appears anywhere in the audit trail.
func (f *recFixture) noteInAudit(t *testing.T, text string) bool {
	t.Helper()
	var n int
	err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE detail::text LIKE '%' || $1 || '%' OR resource_id LIKE '%' || $1 || '%'`, text).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestReleaseRequestList: an admin sees every request of a recording,
// whoever recorded it, oldest first with its note and state; the read is
// audited (counts only, never the note); schedulers, clinicians and staff
// of another clinic are refused and audited; an unknown recording is not
// found.
func TestReleaseRequestList(t *testing.T) {
	f := newReleaseFixture(t)
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	rec := f.recordingOf(t, v)
	empty, err := f.rec.ListReleaseRequests(ctx, f.admin, rec)
	if err != nil || empty.Items == nil || len(empty.Items) != 0 {
		t.Fatalf("no requests yet: %+v, %v (want an empty, non-nil list)", empty, err)
	}
	first := f.request(t, f.sched, rec, "Patient phoned on Tuesday")
	second := f.request(t, f.clin, rec, "")
	if _, err := f.rec.DecideRelease(ctx, f.admin, rec, second.ID, false); err != nil {
		t.Fatal(err)
	}

	l, err := f.rec.ListReleaseRequests(ctx, f.admin, rec)
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("list: %+v, %v", l, err)
	}
	a, b := l.Items[0], l.Items[1]
	if a.ID != first.ID || a.Note != "Patient phoned on Tuesday" || a.State != "pending" || a.RecordedBy != f.sched.ID ||
		a.RecordingID != rec || a.DecidedBy != nil {
		t.Fatalf("first request %+v", a)
	}
	if b.ID != second.ID || b.Note != "" || b.State != "denied" || b.RecordedBy != f.clin.ID ||
		b.DecidedBy == nil || *b.DecidedBy != f.admin.ID || b.DecidedAt == nil {
		t.Fatalf("second request %+v", b)
	}
	if n := f.audits(t, "recording.release.list", rec.String(), OutcomeSuccess); n != 2 {
		t.Fatalf("%d recording.release.list events, want 2", n)
	}
	var visit uuid.UUID
	var count float64
	if err := f.pool.QueryRow(ctx, `SELECT visit_id, (detail->>'requests')::float FROM audit_events
		WHERE action = 'recording.release.list' ORDER BY seq DESC LIMIT 1`).Scan(&visit, &count); err != nil ||
		visit != v.ID || count != 2 {
		t.Fatalf("audit event: visit %v requests %v, %v", visit, count, err)
	}
	if f.noteInAudit(t, "phoned") {
		t.Fatal("the request's note is in the audit trail")
	}

	for name, who := range map[string]Actor{"scheduler": f.sched, "clinician": f.clin, "other clinic": f.otherClin} {
		if l, err := f.rec.ListReleaseRequests(ctx, who, rec); !errors.Is(err, ErrForbidden) || l.Items != nil {
			t.Errorf("%s: %+v, %v, want ErrForbidden and nothing", name, l, err)
		}
	}
	if n := f.audits(t, "recording.release.list", rec.String(), OutcomeDenied); n != 3 {
		t.Errorf("%d denied recording.release.list events, want 3", n)
	}
	if _, err := f.rec.ListReleaseRequests(ctx, f.admin, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown recording: %v", err)
	}
}

// TestReleaseRequestPending: the admin's queue holds the pending requests
// of every clinic (or of one), oldest first, with the visit and clinic;
// decided requests leave it; each recording shown gets its own audit event
// and the listing one more; non-admins are refused and audited.
func TestReleaseRequestPending(t *testing.T) {
	f := newReleaseFixture(t)
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	rec := f.recordingOf(t, v)
	south, err := f.svc.CreateVisit(ctx, f.admin, NewVisit{ClinicID: f.other.ID, StartsAt: time.Now().Add(time.Hour),
		DurationMinutes: 15, Patient: Patient{Name: "Grace Hopper", DateOfBirth: "1970-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	southRec := f.recordingOf(t, south)

	north1 := f.request(t, f.sched, rec, "north one")
	approved := f.request(t, f.clin, rec, "")
	southReq := f.request(t, f.otherClin, southRec, "south one")
	north2 := f.request(t, f.clin2, rec, "")
	if _, err := f.rec.DecideRelease(ctx, f.admin, rec, approved.ID, true); err != nil {
		t.Fatal(err)
	}

	all, err := f.rec.PendingReleaseRequests(ctx, f.admin, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []uuid.UUID
	for _, it := range all.Items {
		got = append(got, it.Request.ID)
	}
	if want := []uuid.UUID{north1.ID, southReq.ID, north2.ID}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("pending %v, want %v", got, want)
	}
	if it := all.Items[1]; it.VisitID != south.ID || it.ClinicID != f.other.ID || it.Request.Note != "south one" ||
		it.Request.RecordingID != southRec {
		t.Fatalf("south item %+v", it)
	}
	if it := all.Items[0]; it.VisitID != v.ID || it.ClinicID != f.clinic.ID || it.Request.Note != "north one" {
		t.Fatalf("north item %+v", it)
	}
	if n := f.audits(t, "recording.release.list", rec.String(), OutcomeSuccess); n != 1 {
		t.Fatalf("%d events of the north recording, want 1 for two requests", n)
	}
	if n := f.audits(t, "recording.release.list", southRec.String(), OutcomeSuccess); n != 1 {
		t.Fatalf("%d events of the south recording, want 1", n)
	}
	if n := f.audits(t, "recording.release.list", "pending", OutcomeSuccess); n != 1 {
		t.Fatalf("%d events of the listing, want 1", n)
	}
	if f.noteInAudit(t, "south one") {
		t.Fatal("a note is in the audit trail")
	}

	south1, err := f.rec.PendingReleaseRequests(ctx, f.admin, f.other.ID)
	if err != nil || len(south1.Items) != 1 || south1.Items[0].Request.ID != southReq.ID {
		t.Fatalf("south clinic: %+v, %v", south1, err)
	}
	for name, who := range map[string]Actor{"scheduler": f.sched, "clinician": f.clin, "other clinic": f.otherClin} {
		if _, err := f.rec.PendingReleaseRequests(ctx, who, uuid.Nil); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", name, err)
		}
	}
	if _, err := f.rec.PendingReleaseRequests(ctx, f.clin, f.clinic.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("clinician, own clinic: %v, want ErrForbidden", err)
	}
	if n := f.audits(t, "recording.release.list", "pending", OutcomeDenied); n != 3 {
		t.Errorf("%d denied listing events, want 3", n)
	}
}
