package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// recHarness is a real MinIO (TLS, KMS) behind an env's API.
type recHarness struct {
	st   *store.Store
	rec  *visits.Recordings
	http *http.Client // trusts MinIO's certificate
}

var (
	recHarnessMu sync.Mutex
	recHarnesses = map[*env]*recHarness{}
)

// recordings starts MinIO for e (once) and gives the API recording access.
func (e *env) recordings() *recHarness {
	e.t.Helper()
	recHarnessMu.Lock()
	defer recHarnessMu.Unlock()
	if h := recHarnesses[e]; h != nil {
		return h
	}
	srv := miniotest.Start(e.t)
	ctx := context.Background()
	cfg := store.Config{Endpoint: srv.Endpoint, Bucket: "recordings", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		CAFile: srv.CAFile, SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName,
		RetentionMode: store.Governance, RetentionDays: 1, MaxRetries: 1}
	if err := store.CreateBucket(ctx, cfg); err != nil {
		e.t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := visits.NewRecordings(visits.RecordingsConfig{}, e.svc, st.Names(visits.ErrRecordingRetained, visits.ErrNotFound))
	if err != nil {
		e.t.Fatal(err)
	}
	e.api.SetRecordings(rec)
	h := &recHarness{st: st, rec: rec, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool, MinVersion: tls.VersionTLS12}}}}
	recHarnesses[e] = h
	e.t.Cleanup(func() {
		recHarnessMu.Lock()
		delete(recHarnesses, e)
		recHarnessMu.Unlock()
	})
	return h
}

// storedRecording puts body in MinIO and inserts the rows the recorder
// writes for a stopped recording of visit with one stored object.
func (e *env) storedRecording(visit uuid.UUID, body string) (recording, object uuid.UUID) {
	e.t.Helper()
	h := e.recordings()
	ctx := context.Background()
	recording, object = uuid.New(), uuid.New()
	key := store.Key{Visit: visit, Recording: object}
	if _, err := h.st.PutRetained(ctx, key, strings.NewReader(body), store.Governance, time.Now().Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	now := time.Now()
	pool := e.svc.Pool()
	if _, err := pool.Exec(ctx, `INSERT INTO recordings (id, visit_id, requested_by, requested_at, started_at, stopped_at,
		state, stop_reason) VALUES ($1, $2, $3, $4, $4, $4, 'stopped', 'stopped')`,
		recording, visit, e.staff["api-clinician"].StaffID, now); err != nil {
		e.t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO recording_objects (id, recording_id, participant_id, object_key, state,
		size, sha256, upload_started_at, stored_at) VALUES ($1, $2, 'patient', $3, 'stored', $4, $5, $6, $6)`,
		object, recording, key.String(), len(body), sum[:], now); err != nil {
		e.t.Fatal(err)
	}
	return recording, object
}

// releaseRequest records a pending request as the scheduler, approved by
// the admin when approve is set.
func (e *env) releaseRequest(recording uuid.UUID, approve bool) uuid.UUID {
	e.t.Helper()
	ctx := context.Background()
	rec := e.recordings().rec
	rr, err := rec.RequestRelease(ctx, e.staff["api-scheduler"], recording, visits.ReleaseRequestInput{Requester: "patient"})
	if err != nil {
		e.t.Fatal(err)
	}
	if approve {
		if _, err := rec.DecideRelease(ctx, e.staff["api-admin"], recording, rr.ID, true); err != nil {
			e.t.Fatal(err)
		}
	}
	return rr.ID
}

func (h *recHarness) fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := h.http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) auditCount(action, resource, outcome string) int {
	e.t.Helper()
	var n int
	if err := e.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE action = $1 AND resource_id = $2 AND outcome = $3`, action, resource, outcome).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestRecordingsPlaybackHTTP: the visit's clinician lists the visit's
// recordings and gets a playback link that downloads the object, with
// recording.view audited; a scheduler is refused (403, audited).
func TestRecordingsPlaybackHTTP(t *testing.T) {
	e := newEnv(t)
	h := e.recordings()
	v, _ := e.visit(visits.StatusInProgress)
	recording, object := e.storedRecording(v.ID, "the recorded visit")
	clin := bearer(e.tokens["api-clinician"])

	var list visits.RecordingList
	decodeBody(t, e.do("GET", "/api/v1/recordings?visit_id="+v.ID.String(), nil, clin), &list)
	if len(list.Items) != 1 || list.Items[0].ID != recording || list.Items[0].Objects[0].ID != object {
		t.Fatalf("list: %+v", list)
	}
	path := "/api/v1/recordings/" + recording.String() + "/objects/" + object.String() + "/playback"
	resp := e.do("POST", path, nil, clin)
	if resp.StatusCode != 200 {
		t.Fatalf("playback: %d", resp.StatusCode)
	}
	var link visits.RecordingLink
	decodeBody(t, resp, &link)
	if e.auditCount("recording.view", object.String(), "success") != 1 {
		t.Fatal("no recording.view event with the link")
	}
	if d := time.Until(link.ExpiresAt); d > visits.MaxRecordingLinkTTL || d < 4*time.Minute {
		t.Fatalf("link expires in %s", d)
	}
	if status, body := h.fetch(t, link.URL); status != 200 || body != "the recorded visit" {
		t.Fatalf("GET link: %d %q", status, body)
	}
	if resp := e.do("POST", path, nil, bearer(e.tokens["api-scheduler"])); resp.StatusCode != 403 {
		t.Fatalf("scheduler: %d, want 403", resp.StatusCode)
	}
	if e.auditCount("recording.view", object.String(), "denied") != 1 {
		t.Fatal("the scheduler's refusal is not audited")
	}
	if resp := e.do("GET", "/api/v1/recordings?visit_id=nope", nil, clin); resp.StatusCode != 400 {
		t.Fatalf("bad visit_id: %d", resp.StatusCode)
	}
}

// TestRecordingsReleaseHTTP: request, approval by an admin (not by a
// clinician), a working link; a denied request gives 409 and no link.
func TestRecordingsReleaseHTTP(t *testing.T) {
	e := newEnv(t)
	h := e.recordings()
	v, _ := e.visit(visits.StatusInProgress)
	recording, _ := e.storedRecording(v.ID, "a copy")
	base := "/api/v1/recordings/" + recording.String() + "/release-requests"
	admin := bearer(e.tokens["api-admin"])

	resp := e.do("POST", base, map[string]any{"requester": "patient", "note": "asked at the desk"}, bearer(e.tokens["api-scheduler"]))
	if resp.StatusCode != 201 {
		t.Fatalf("request: %d", resp.StatusCode)
	}
	var rr visits.ReleaseRequest
	decodeBody(t, resp, &rr)
	if resp := e.do("POST", base, map[string]any{"requester": "patient", "extra": 1}, admin); resp.StatusCode != 400 {
		t.Fatalf("unknown field: %d", resp.StatusCode)
	}
	if resp := e.do("POST", base+"/"+rr.ID.String()+"/approve", nil, bearer(e.tokens["api-clinician"])); resp.StatusCode != 403 {
		t.Fatalf("clinician approves: %d", resp.StatusCode)
	}
	if resp := e.do("POST", base+"/"+rr.ID.String()+"/approve", nil, admin); resp.StatusCode != 200 {
		t.Fatalf("admin approves: %d", resp.StatusCode)
	}
	var link visits.RecordingLink
	decodeBody(t, e.do("GET", base+"/"+rr.ID.String()+"/link", nil, admin), &link)
	if status, body := h.fetch(t, link.URL); status != 200 || body != "a copy" {
		t.Fatalf("GET release link: %d %q", status, body)
	}
	if e.auditCount("recording.release.link", rr.ID.String(), "success") != 1 {
		t.Fatal("link not audited")
	}

	var denied visits.ReleaseRequest
	decodeBody(t, e.do("POST", base, map[string]any{"requester": "patient"}, admin), &denied)
	if resp := e.do("POST", base+"/"+denied.ID.String()+"/deny", nil, admin); resp.StatusCode != 200 {
		t.Fatalf("deny: %d", resp.StatusCode)
	}
	if resp := e.do("GET", base+"/"+denied.ID.String()+"/link", nil, admin); resp.StatusCode != 409 {
		t.Fatalf("link of a denied request: %d, want 409", resp.StatusCode)
	}
}

// TestRecordingRetentionHTTP: an admin sets and reads a clinic's
// retention; bad values are 400; without recording access the routes
// answer 503.
func TestRecordingRetentionHTTP(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.tokens["api-admin"])
	path := "/api/v1/clinics/" + e.north.ID.String() + "/recording-retention"
	if resp := e.do("GET", path, nil, admin); resp.StatusCode != 503 {
		t.Fatalf("without recording access: %d, want 503", resp.StatusCode)
	}
	rec, err := visits.NewRecordings(visits.RecordingsConfig{}, e.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.api.SetRecordings(rec)
	if resp := e.do("PUT", path, map[string]any{"mode": "FOREVER", "days": 3}, admin); resp.StatusCode != 400 {
		t.Fatalf("bad mode: %d", resp.StatusCode)
	}
	if resp := e.do("PUT", path, map[string]any{"mode": "COMPLIANCE", "days": 90}, admin); resp.StatusCode != 200 {
		t.Fatalf("set: %d", resp.StatusCode)
	}
	var p visits.RecordingRetentionPolicy
	decodeBody(t, e.do("GET", path, nil, admin), &p)
	if p.Mode != "COMPLIANCE" || p.Days != 90 || p.Source != "clinic" {
		t.Fatalf("policy %+v", p)
	}
}
