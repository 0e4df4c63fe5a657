package miniotest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func client(t *testing.T, s *Server) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:     true,
		Transport:  &http.Transport{TLSClientConfig: s.TLSConfig()},
		Region:     Region,
		MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStartStopRestart: the server speaks TLS with the generated
// certificate, keeps its data across Stop/Restart on the same port, and
// refuses connections while stopped.
func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, s)
	if err := c.MakeBucket(ctx, "probe", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatalf("make bucket over TLS: %v", err)
	}
	s.Stop()
	if conn, err := net.DialTimeout("tcp", s.Endpoint, time.Second); err == nil {
		conn.Close()
		t.Fatal("port still accepts connections after Stop")
	}
	s.Restart()
	ok, err := c.BucketExists(ctx, "probe")
	if err != nil || !ok {
		t.Fatalf("bucket after restart: %v, %v", ok, err)
	}
}

// TestKMSConfigured: SSE-KMS with the server's key works (a server without
// a KMS answers "KMS is not configured").
func TestKMSConfigured(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, s)
	if err := c.MakeBucket(ctx, "kms", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	sse := kmsSSE(t)
	if _, err := c.PutObject(ctx, "kms", "o", strings.NewReader("hello"), 5, minio.PutObjectOptions{ServerSideEncryption: sse}); err != nil {
		t.Fatalf("put with SSE-KMS: %v", err)
	}
	info, err := c.StatObject(ctx, "kms", "o", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Metadata.Get("X-Amz-Server-Side-Encryption"); got != "aws:kms" {
		t.Fatalf("SSE header %q, want aws:kms", got)
	}
}

func TestMissingBinaryNamesMakeDeps(t *testing.T) {
	t.Setenv("MINIO_BIN", "/nonexistent/minio")
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Start(ft)
	}()
	if ft.msg == "" || !strings.Contains(ft.msg, "make deps") {
		t.Fatalf("fatal message %q does not name make deps", ft.msg)
	}
}

var errFatal = errors.New("fatal")
