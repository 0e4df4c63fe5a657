package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
)

func config(srv *miniotest.Server, bucket string) store.Config {
	return store.Config{
		Endpoint: srv.Endpoint, Bucket: bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		CAFile: srv.CAFile, SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName,
		RetentionMode: store.Governance, RetentionDays: 1, MaxRetries: 1,
	}
}

func TestConfigValidation(t *testing.T) {
	good := store.Config{Endpoint: "s3.example.org", Bucket: "b", AccessKey: "a", SecretKey: "very-secret",
		SSE: store.SSES3, RetentionMode: store.Compliance, RetentionDays: 7}
	bad := map[string]func(*store.Config){
		"scheme in endpoint": func(c *store.Config) { c.Endpoint = "https://s3.example.org" },
		"no bucket":          func(c *store.Config) { c.Bucket = "" },
		"no secret":          func(c *store.Config) { c.SecretKey = "" },
		"unknown sse":        func(c *store.Config) { c.SSE = "c" },
		"kms without key":    func(c *store.Config) { c.SSE = store.SSEKMS },
		"s3 with key":        func(c *store.Config) { c.KMSKeyID = "k" },
		"lowercase mode":     func(c *store.Config) { c.RetentionMode = "compliance" },
		"zero days":          func(c *store.Config) { c.RetentionDays = -1 },
		"part too small":     func(c *store.Config) { c.PartSize = 1 << 20 },
		"part too big":       func(c *store.Config) { c.PartSize = 64 << 20 },
		"missing ca file":    func(c *store.Config) { c.CAFile = "/nonexistent/ca.pem" },
	}
	ctx := context.Background()
	for name, mutate := range bad {
		c := good
		mutate(&c)
		if _, err := store.Open(ctx, c, slog.Default()); !errors.Is(err, store.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", good, good, good); strings.Contains(s, "very-secret") {
		t.Fatalf("config prints its secret: %s", s)
	}
}

func TestKey(t *testing.T) {
	k := store.Key{Visit: uuid.New(), Recording: uuid.New()}
	got, err := store.ParseKey(k.String())
	if err != nil || got != k || !strings.HasSuffix(k.String(), ".webm") {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	mkv := store.Key{Visit: uuid.New(), Recording: uuid.New(), Format: store.Matroska}
	got, err = store.ParseKey(mkv.String())
	if err != nil || got != mkv || !strings.HasSuffix(mkv.String(), ".mkv") {
		t.Fatalf("matroska round trip: %q -> %v, %v", mkv, got, err)
	}
	if store.WebM.ContentType() != "video/webm" || store.Matroska.ContentType() != "video/x-matroska" {
		t.Fatalf("content types %q %q", store.WebM.ContentType(), store.Matroska.ContentType())
	}
	base := "recordings/" + uuid.NewString() + "/" + uuid.NewString()
	for _, s := range []string{"", "recordings/x/y.webm", "recordings/" + uuid.NewString() + ".webm",
		"other/" + uuid.NewString() + "/" + uuid.NewString() + ".webm", k.String() + "x",
		base + ".mp4", base + ".MKV", base, base + ".mkv.webm", "recordings/" + uuid.NewString() + ".mkv"} {
		if _, err := store.ParseKey(s); !errors.Is(err, store.ErrKey) {
			t.Errorf("ParseKey(%q): %v", s, err)
		}
	}
}

// TestOpenChecksBucket: a missing bucket and one without object lock are
// refused; CreateBucket makes one that Open accepts.
func TestOpenChecksBucket(t *testing.T) {
	srv := miniotest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := store.Open(ctx, config(srv, "missing"), slog.Default()); !errors.Is(err, store.ErrBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
	admin, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Secure: true, Transport: &http.Transport{TLSClientConfig: srv.TLSConfig()}, Region: miniotest.Region})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.MakeBucket(ctx, "unlocked", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, config(srv, "unlocked"), slog.Default()); !errors.Is(err, store.ErrBucket) {
		t.Fatalf("bucket without object lock: %v", err)
	}
	if err := store.CreateBucket(ctx, config(srv, "locked")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, config(srv, "locked"), slog.Default()); err != nil {
		t.Fatalf("bucket with object lock: %v", err)
	}
}

// TestSSES3AndGovernance: SSE-S3 objects report AES256; GOVERNANCE
// retention also refuses our Delete (we never bypass it); a missing
// object is ErrNotFound.
func TestSSES3AndGovernance(t *testing.T) {
	srv := miniotest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config(srv, "gov")
	cfg.SSE, cfg.KMSKeyID = store.SSES3, ""
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	key := store.Key{Visit: uuid.New(), Recording: uuid.New()}
	if _, err := st.Put(ctx, key, strings.NewReader("not really a webm")); err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(ctx, key)
	if err != nil || info.SSE != "AES256" {
		t.Fatalf("stat: %+v, %v; want SSE AES256", info, err)
	}
	if err := st.Delete(ctx, key); !errors.Is(err, store.ErrRetained) {
		t.Fatalf("delete under GOVERNANCE: %v, want ErrRetained", err)
	}
	missing := store.Key{Visit: uuid.New(), Recording: uuid.New()}
	if err := st.Delete(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := st.Stat(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stat missing: %v", err)
	}
	if _, err := st.PresignGet(ctx, key, 0); !errors.Is(err, store.ErrTTL) {
		t.Fatalf("zero ttl: %v", err)
	}
	if _, err := st.Put(ctx, store.Key{}, strings.NewReader("x")); !errors.Is(err, store.ErrKey) {
		t.Fatalf("nil key: %v", err)
	}
	odd := store.Key{Visit: uuid.New(), Recording: uuid.New(), Format: 9}
	if _, err := st.Put(ctx, odd, strings.NewReader("x")); !errors.Is(err, store.ErrKey) {
		t.Fatalf("unknown format: %v", err)
	}
}

// TestContentTypeFollowsFormat: WebM and Matroska objects are served with
// their own content type, through Put and per-clinic retention alike.
func TestContentTypeFollowsFormat(t *testing.T) {
	srv := miniotest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config(srv, "types")
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.Format{store.WebM, store.Matroska} {
		for name, put := range map[string]func(store.Key) error{
			"put": func(k store.Key) error { _, err := st.Put(ctx, k, strings.NewReader("media")); return err },
			"retaining": func(k store.Key) error {
				_, err := st.Retaining(store.Governance, 2).Put(ctx, k, strings.NewReader("media"))
				return err
			},
		} {
			key := store.Key{Visit: uuid.New(), Recording: uuid.New(), Format: f}
			if err := put(key); err != nil {
				t.Fatal(err)
			}
			info, err := st.Stat(ctx, key)
			if err != nil || info.ContentType != f.ContentType() {
				t.Fatalf("%s %s: content type %q, %v; want %q", name, key, info.ContentType, err, f.ContentType())
			}
		}
	}
}
