package visits

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
)

// recFixture is the visits fixture with a real MinIO (TLS, KMS) and
// recording access over it.
type recFixture struct {
	*fixture
	minio *miniotest.Server
	st    *store.Store
	rec   *Recordings
	http  *http.Client // trusts MinIO's certificate
}

func newRecFixture(t *testing.T, cfg RecordingsConfig) *recFixture {
	t.Helper()
	f := &recFixture{fixture: newFixture(t), minio: miniotest.Start(t)}
	ctx := context.Background()
	scfg := store.Config{Endpoint: f.minio.Endpoint, Bucket: "recordings", AccessKey: f.minio.AccessKey,
		SecretKey: f.minio.SecretKey, CAFile: f.minio.CAFile, SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName,
		RetentionMode: store.Governance, RetentionDays: 1, MaxRetries: 1}
	if err := store.CreateBucket(ctx, scfg); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.st, err = store.Open(ctx, scfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if f.rec, err = NewRecordings(cfg, f.svc, f.st.Names(ErrRecordingRetained, ErrNotFound)); err != nil {
		t.Fatal(err)
	}
	f.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: f.minio.CertPool, MinVersion: tls.VersionTLS12}}}
	return f
}

// recObject is a stored recording object, as the recorder leaves it.
type recObject struct {
	recording, object, visit uuid.UUID
	key                      store.Key
	body                     string
}

// storedRecording puts body into MinIO locked in mode until until, and
// inserts the rows the recorder writes: a stopped recording of visit
// requested by its clinician, and the object, stored.
func (f *recFixture) storedRecording(t *testing.T, visit Visit, body, mode string, until time.Time) recObject {
	t.Helper()
	ctx := context.Background()
	o := recObject{recording: uuid.New(), object: uuid.New(), visit: visit.ID, body: body}
	o.key = store.Key{Visit: visit.ID, Recording: o.object}
	if _, err := f.st.PutRetained(ctx, o.key, strings.NewReader(body), mode, until); err != nil {
		t.Fatal(err)
	}
	f.insertRecording(t, visit, o)
	return o
}

func (f *recFixture) insertRecording(t *testing.T, visit Visit, o recObject) {
	t.Helper()
	ctx := context.Background()
	requester := f.clin.StaffID
	if visit.ClinicianID != nil {
		requester = *visit.ClinicianID
	}
	now := time.Now()
	sum := sha256.Sum256([]byte(o.body))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO recordings (id, visit_id, requested_by, requested_at, started_at, stopped_at, state, stop_reason)
			VALUES ($1, $2, $3, $4, $4, $4, 'stopped', 'stopped')`, []any{o.recording, o.visit, requester, now}},
		{`INSERT INTO recording_objects (id, recording_id, participant_id, object_key, state, size, sha256,
			upload_started_at, stored_at) VALUES ($1, $2, 'patient', $3, 'stored', $4, $5, $6, $6)`,
			[]any{o.object, o.recording, o.key.String(), len(o.body), sum[:], now}},
	} {
		if _, err := f.pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
}

// fetch GETs a presigned URL and returns the status and body.
func (f *recFixture) fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := f.http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// audits counts audit events of action on resource with outcome.
func (f *recFixture) audits(t *testing.T, action, resource string, outcome Outcome) int {
	t.Helper()
	var n int
	err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE action = $1 AND resource_id = $2 AND outcome = $3`, action, resource, string(outcome)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
