package recording

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// TestRecorderRecordsConsentingParticipants records the patient and the
// clinician for about 4 s: each gets a WebM in MinIO that decodes with the
// expected streams and duration, whose SHA-256 the database and the
// manifest hold.
func TestRecorderRecordsConsentingParticipants(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	f.clinicRetention(t, visits.RetentionGovernance, 3) // the clinic's policy, not the store's 1 day
	rec := f.consented(t)
	for _, p := range rec.Consented() {
		if err := f.m.Record(ctx, f.visit, rec.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	played := play(media(t), 4*time.Second, nil, f.taps(t, f.m, rec.ID, "patient"),
		f.taps(t, f.m, rec.ID, visits.ParticipantOf(f.clin)))
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID)
	f.m.Wait()

	objs, err := f.svc.RecordingObjects(ctx, visits.SystemActor("test"), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("%d objects, want 2 WebM + manifest: %+v", len(objs), objs)
	}
	sums := map[string]string{}
	for _, o := range objs {
		if o.State != "stored" {
			t.Fatalf("object %s is %s", o.Key, o.State)
		}
		if o.ParticipantID == "" {
			continue
		}
		body, path := f.object(t, o.Key)
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != hex.EncodeToString(o.SHA256) || int64(len(body)) != o.Size {
			t.Fatalf("object %s: checksum or size differs from the database", o.Key)
		}
		sums[o.ParticipantID] = hex.EncodeToString(sum[:])
		checkMedia(t, path, played)
		k, _ := store.ParseKey(o.Key)
		info, err := f.st.Stat(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if until := time.Until(info.RetainUntil); until < 71*time.Hour || until > 73*time.Hour || info.SSE != "aws:kms" {
			t.Fatalf("object retained until %v (want the clinic's 3 days), SSE %q", info.RetainUntil, info.SSE)
		}
	}
	var man Manifest
	body, err := f.st.GetManifest(ctx, store.Key{Visit: f.visit, Recording: rec.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Participants) != 2 || man.StopReason != visits.StopStopped || man.StartedAt == nil {
		t.Fatalf("manifest: %s", body)
	}
	for _, p := range man.Participants {
		if p.Object == nil || p.Object.SHA256 != sums[p.ParticipantID] || len(p.Object.Tracks) != 2 ||
			p.Object.Container != "webm" || p.Object.ContentType != "video/webm" ||
			p.Consent.Answer != "yes" || p.Consent.AnsweredAt == nil {
			t.Fatalf("manifest participant %s: %+v", p.ParticipantID, p)
		}
	}
}

// checkMedia: the given streams (default Opus + VP8), duration within 10%
// of what was played, and no decode errors.
func checkMedia(t *testing.T, path string, played time.Duration, streams ...string) {
	t.Helper()
	if len(streams) == 0 {
		streams = []string{"opus", "vp8"}
	}
	p := mediatest.FFProbe(t, path)
	if !slices.Equal(p.Streams, streams) {
		t.Fatalf("streams %v", p.Streams)
	}
	if d := p.Duration - played; d < -played/10 || d > played/10 {
		t.Fatalf("duration %v, played %v: not within 10%%", p.Duration, played)
	}
	if msg := mediatest.Decode(t, path); msg != "" {
		t.Fatalf("decode errors: %s", msg)
	}
}

// TestRecorderCrashRecovery: a recorder that dies mid-recording leaves its
// spool; a new manager uploads its playable prefix and marks it stored.
func TestRecorderCrashRecovery(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	played := play(media(t), 3*time.Second, nil, f.taps(t, f.m, rec.ID, "patient"))
	time.Sleep(300 * time.Millisecond) // the spool is sealed every 100 ms
	f.m.abandon()                      // the crash: no final chunk, no upload

	m2 := f.newManager(t)
	n, err := m2.Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, err %v", n, err)
	}
	objs, err := f.svc.RecordingObjects(ctx, visits.SystemActor("test"), rec.ID)
	if err != nil || len(objs) != 1 || objs[0].State != "stored" {
		t.Fatalf("objects %v %+v", err, objs)
	}
	body, path := f.object(t, objs[0].Key)
	if sum := sha256.Sum256(body); string(sum[:]) != string(objs[0].SHA256) {
		t.Fatal("recovered object's checksum differs from the database")
	}
	p := mediatest.FFProbe(t, path)
	if !slices.Contains(p.Streams, "vp8") || p.Duration < played/2 || p.Duration > played+played/10 {
		t.Fatalf("recovered prefix: streams %v duration %v (played %v)", p.Streams, p.Duration, played)
	}
	if live, err := f.svc.LiveRecording(ctx, f.clin, f.visit); err != nil || live != nil {
		t.Fatalf("recording still live after recovery: %v %+v", err, live)
	}
}

// TestRecorderSurvivesStoreOutage: MinIO stops in the middle of a
// recording and comes back; the object has every byte of the spool.
func TestRecorderSurvivesStoreOutage(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	taps := f.taps(t, f.m, rec.ID, "patient")
	played := make(chan time.Duration, 1)
	go func() { played <- play(media(t), 5*time.Second, nil, taps) }()
	time.Sleep(2 * time.Second)
	f.srv.Stop() // the upload's part is still buffering: it fails when it sends
	d := <-played
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID) // the final part cannot reach MinIO: retried from the spool
	time.Sleep(2 * time.Second)
	f.srv.Restart()
	f.m.Wait()
	if !strings.Contains(f.logs.String(), "retrying from the spool") {
		t.Fatal("the upload never met the outage")
	}
	objs, err := f.svc.RecordingObjects(ctx, visits.SystemActor("test"), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var media int
	for _, o := range objs {
		if o.State != "stored" {
			t.Fatalf("object %s is %s after the outage", o.Key, o.State)
		}
		if o.ParticipantID == "" {
			continue
		}
		media++
		body, path := f.object(t, o.Key)
		sum, n, err := spoolDigest(f.m.spoolPath(o.ID), f.ring)
		if err != nil || n != int64(len(body)) || string(sum) != string(o.SHA256) {
			t.Fatalf("object and spool differ: %d vs %d bytes (%v)", len(body), n, err)
		}
		checkMedia(t, path, d)
	}
	if media != 1 {
		t.Fatalf("%d media objects", media)
	}
}
