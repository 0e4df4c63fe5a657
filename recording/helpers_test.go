package recording_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
)

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLog{t}, nil))
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func storeConfig(srv *miniotest.Server, bucket string) store.Config {
	return store.Config{
		Endpoint: srv.Endpoint, Region: miniotest.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CAFile: srv.CAFile,
		SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName,
		RetentionMode: store.Compliance, RetentionDays: 1,
		PartSize: store.MinPartSize, MaxRetries: 1,
	}
}

// openStore creates the bucket (with object lock) and opens it.
func openStore(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testRing(t testing.TB) *sealbox.Keyring {
	t.Helper()
	spec, err := sealbox.GenerateSpec("rec1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func newKey() store.Key { return store.Key{Visit: uuid.New(), Recording: uuid.New()} }

// recorder is the webm -> spool half of a recording.
type recorder struct {
	path string
	sp   *spool.Writer
	w    *webm.Writer
}

func newRecorder(t testing.TB, ring *sealbox.Keyring, cfg webm.Config) *recorder {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.spool")
	sp, err := spool.Create(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	w, err := webm.New(sp, cfg, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{path: path, sp: sp, w: w}
}

func (r *recorder) close(t testing.TB) {
	t.Helper()
	if err := r.w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.sp.Close(); err != nil {
		t.Fatal(err)
	}
}

// plaintext decrypts the whole spool.
func plaintext(t testing.TB, ring *sealbox.Keyring, path string) []byte {
	t.Helper()
	r, err := spool.Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// download reads the object back through the store.
func download(t testing.TB, st *store.Store, key store.Key) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	return b
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func httpGet(t testing.TB, tlsCfg *tls.Config, url string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
