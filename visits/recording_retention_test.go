package visits

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
)

// TestRecordingRetentionPolicy: the server default until an admin sets a
// clinic's policy; only admins read or set it (refusals audited); bad
// values are refused; RecordingRetention gives the recorder the policy.
func TestRecordingRetentionPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec, err := NewRecordings(RecordingsConfig{DefaultRetentionMode: RetentionCompliance, DefaultRetentionDays: 30}, f.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rec.GetRecordingRetention(ctx, f.admin, f.clinic.ID)
	if err != nil || p.Source != "default" || p.Mode != RetentionCompliance || p.Days != 30 || p.UpdatedAt != nil {
		t.Fatalf("default: %+v, %v", p, err)
	}
	set := RecordingRetentionSettings{Mode: RetentionGovernance, Days: 400}
	for _, a := range []Actor{f.sched, f.clin} {
		if _, err := rec.SetRecordingRetention(ctx, a, f.clinic.ID, set); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s sets retention: %v", a.PrimaryRole(), err)
		}
		if _, err := rec.GetRecordingRetention(ctx, a, f.clinic.ID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s reads retention: %v", a.PrimaryRole(), err)
		}
	}
	for _, bad := range []RecordingRetentionSettings{{Mode: "governance", Days: 1}, {Mode: RetentionGovernance},
		{Mode: RetentionCompliance, Days: 36501}} {
		if _, err := rec.SetRecordingRetention(ctx, f.admin, f.clinic.ID, bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if p, err = rec.SetRecordingRetention(ctx, f.admin, f.clinic.ID, set); err != nil || p.Source != "clinic" || p.UpdatedAt == nil {
		t.Fatalf("set: %+v, %v", p, err)
	}
	if mode, days, err := rec.RecordingRetention(ctx, f.clinic.ID); err != nil || mode != RetentionGovernance || days != 400 {
		t.Fatalf("RecordingRetention: %s %d %v", mode, days, err)
	}
	if mode, days, _ := rec.RecordingRetention(ctx, f.other.ID); mode != RetentionCompliance || days != 30 {
		t.Fatalf("other clinic keeps the default: %s %d", mode, days)
	}
	if _, _, ok, err := f.svc.ClinicRecordingRetention(ctx, f.other.ID); ok || err != nil {
		t.Fatalf("other clinic has a policy of its own: %v %v", ok, err)
	}
	var denied, sets int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'denied'),
		count(*) FILTER (WHERE outcome = 'success' AND action = 'recording.retention.set')
		FROM audit_events WHERE action LIKE 'recording.retention.%'`).Scan(&denied, &sets); err != nil || denied != 4 || sets != 1 {
		t.Fatalf("audit: %d denied, %d set, %v", denied, sets, err)
	}
	if _, err := NewRecordings(RecordingsConfig{LinkTTL: 6 * time.Minute}, f.svc, nil); err == nil {
		t.Fatal("a link TTL over 5 minutes was accepted")
	}
}

// TestRecordingRetentionSweep: MinIO itself refuses to delete an object
// under retention, and the sweeper leaves such an object alone even when
// its clock says retention has ended; an object whose (real, short)
// retention has ended is deleted from MinIO, marked deleted and the
// deletion audited.
func TestRecordingRetentionSweep(t *testing.T) {
	f := newRecFixture(t, RecordingsConfig{})
	ctx := context.Background()
	v := f.newVisit(t, &f.clin.StaffID)
	long := f.storedRecording(t, v, "kept for a day", store.Compliance, time.Now().Add(24*time.Hour))
	shortUntil := time.Now().Add(4 * time.Second)
	short := f.storedRecording(t, v, "kept for seconds", store.Governance, shortUntil)
	names := f.st.Names(ErrRecordingRetained, ErrNotFound)

	// The store itself refuses while retention holds.
	if err := names.Delete(ctx, long.key.String()); !errors.Is(err, ErrRecordingRetained) {
		t.Fatalf("delete under COMPLIANCE: %v, want ErrRecordingRetained", err)
	}
	w, err := NewRetentionSweeper(RetentionSweeperConfig{}, f.rec, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	// Now: both retained; the sweeper learns their dates and leaves them.
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantObjects(t, long, short)
	var known int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM recording_objects WHERE retain_until > now() AND lease_until IS NULL").Scan(&known); err != nil || known != 2 {
		t.Fatalf("%d objects with their retain-until date recorded, want 2 (%v)", known, err)
	}

	// After the short retention ends: the short one goes, the other stays.
	time.Sleep(time.Until(shortUntil) + 1500*time.Millisecond)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Stat(ctx, short.key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("short-retention object still in MinIO: %v", err)
	}
	f.wantObjects(t, long)
	if n := f.audits(t, "recording.delete", short.object.String(), OutcomeSuccess); n != 1 {
		t.Fatalf("%d recording.delete events, want 1", n)
	}

	// A sweeper whose clock is two days ahead tries the other one: MinIO
	// refuses, nothing is marked, the attempt is audited as a failure.
	w.SetClock(func() time.Time { return time.Now().Add(48 * time.Hour) })
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Stat(ctx, long.key); err != nil {
		t.Fatalf("retained object gone: %v", err)
	}
	f.wantObjects(t, long)
	if n := f.audits(t, "recording.delete", long.object.String(), OutcomeFailure); n != 1 {
		t.Fatalf("%d failed recording.delete events, want 1", n)
	}
	if n := f.audits(t, "recording.delete", long.object.String(), OutcomeSuccess); n != 0 {
		t.Fatal("retained object audited as deleted")
	}
	// The refused object is not tried again at once.
	if n, err := w.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("next round claimed %d (%v), want 0", n, err)
	}
}

// wantObjects checks that exactly the given objects are not deleted.
func (f *recFixture) wantObjects(t *testing.T, live ...recObject) {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), "SELECT id FROM recording_objects WHERE deleted_at IS NULL ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if n != len(live) {
		t.Fatalf("%d objects not deleted, want %d", n, len(live))
	}
	for _, o := range live {
		var deleted bool
		if err := f.pool.QueryRow(context.Background(), "SELECT deleted_at IS NOT NULL FROM recording_objects WHERE id = $1",
			o.object).Scan(&deleted); err != nil || deleted {
			t.Fatalf("object %s deleted=%v (%v)", o.object, deleted, err)
		}
	}
}

// TestRecordingRetentionSweepUnlocked: an object the store holds without
// a lock is kept as long as the clinic's policy says from its upload,
// then deleted.
func TestRecordingRetentionSweepUnlocked(t *testing.T) {
	f := newRecFixture(t, RecordingsConfig{})
	ctx := context.Background()
	if _, err := f.rec.SetRecordingRetention(ctx, f.admin, f.clinic.ID, RecordingRetentionSettings{Mode: RetentionGovernance, Days: 5}); err != nil {
		t.Fatal(err)
	}
	v := f.newVisit(t, &f.clin.StaffID)
	client, err := minio.New(f.minio.Endpoint, &minio.Options{Secure: true, Region: miniotest.Region,
		Creds: credentials.NewStaticV4(f.minio.AccessKey, f.minio.SecretKey, ""), Transport: f.http.Transport})
	if err != nil {
		t.Fatal(err)
	}
	var objs []recObject
	for _, age := range []time.Duration{10 * 24 * time.Hour, time.Hour} {
		o := recObject{recording: uuid.New(), object: uuid.New(), visit: v.ID, body: "unlocked"}
		o.key = store.Key{Visit: v.ID, Recording: o.object}
		if _, err := client.PutObject(ctx, "recordings", o.key.String(), strings.NewReader(o.body), int64(len(o.body)),
			minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		f.insertRecording(t, v, o)
		if _, err := f.pool.Exec(ctx, "UPDATE recording_objects SET stored_at = now() - $2 * interval '1 second' WHERE id = $1",
			o.object, age.Seconds()); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	w, err := NewRetentionSweeper(RetentionSweeperConfig{}, f.rec, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantObjects(t, objs[1])
	if _, err := f.st.Stat(ctx, objs[0].key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired unlocked object still stored: %v", err)
	}
	if _, err := f.st.Stat(ctx, objs[1].key); err != nil {
		t.Fatalf("young unlocked object: %v", err)
	}
	var until time.Time
	if err := f.pool.QueryRow(ctx, "SELECT retain_until FROM recording_objects WHERE id = $1", objs[1].object).Scan(&until); err != nil ||
		time.Until(until) < 4*24*time.Hour {
		t.Fatalf("young object retained until %s (%v), want about 5 days after upload", until, err)
	}
}
