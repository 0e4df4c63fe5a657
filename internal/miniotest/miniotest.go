package miniotest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// InstallHint is the command that builds the missing binary.
const InstallHint = "make deps (or: bash .ci/deps.d/minio.sh)"

// KMSKeyName is the name of the server's single KMS key, for SSE-KMS.
const KMSKeyName = "televisit-test-key"

// Region is the region the server reports.
const Region = "us-east-1"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
	logTailLines = 200
)

// Server is a running MinIO.
type Server struct {
	// Endpoint is host:port (no scheme); the server speaks HTTPS only.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// CAFile is the PEM file of the self-signed certificate (its own CA).
	CAFile string
	// CertPool trusts the server's certificate.
	CertPool *x509.CertPool

	t       testing.TB
	bin     string
	dir     string
	kmsKey  string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Binary returns the path of the MinIO server binary: $MINIO_BIN, else the
// cache path that .ci/deps.d/minio.sh installs into.
func Binary() string {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "televisit", "bin", "minio")
}

// Start runs MinIO with TLS and a KMS key and waits until it is ready. The
// server stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("miniotest: MinIO server binary not found at %s (set MINIO_BIN or build it): run %s", bin, InstallHint)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), AccessKey: "tv" + randomHex(t, 8), SecretKey: randomHex(t, 20)}
	if err := s.prepare(); err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before MinIO binds it
		port, err := freePort()
		if err != nil {
			t.Fatalf("miniotest: %v", err)
		}
		s.Endpoint = "127.0.0.1:" + strconv.Itoa(port)
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		t.Logf("miniotest: attempt %d: %v\n%s", attempt+1, lastErr, s.Log())
	}
	t.Fatalf("miniotest: MinIO did not start: %v", lastErr)
	return nil
}

// prepare writes the certificate and picks the KMS key.
func (s *Server) prepare() error {
	for _, d := range []string{s.certsDir(), s.dataDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	pemBytes, err := writeCert(s.certsDir())
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	s.CAFile = filepath.Join(s.certsDir(), "public.crt")
	s.CertPool = x509.NewCertPool()
	if !s.CertPool.AppendCertsFromPEM(pemBytes) {
		return errors.New("certificate: cannot add to pool")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	s.kmsKey = KMSKeyName + ":" + base64.StdEncoding.EncodeToString(key)
	return nil
}

func (s *Server) certsDir() string { return filepath.Join(s.dir, "certs") }
func (s *Server) dataDir() string  { return filepath.Join(s.dir, "data") }
func (s *Server) logPath() string  { return filepath.Join(s.dir, "minio.log") }

// TLSConfig trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool, MinVersion: tls.VersionTLS12}
}

// URL is the https URL of the endpoint.
func (s *Server) URL() string { return "https://" + s.Endpoint }

// start launches the process on s.Endpoint and waits for readiness.
func (s *Server) start() error {
	out, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd = exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint,
		"--certs-dir", s.certsDir(), s.dataDir())
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_KMS_SECRET_KEY="+s.kmsKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_REGION="+Region,
	)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start minio: %w", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	cmd := s.cmd
	go func() { s.waitErr = cmd.Wait(); close(exited) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// waitReady polls until the server answers a signed S3 request
// (ListBuckets: /minio/health/ready answers before the object layer is
// initialized), the process exits or the timeout passes.
func (s *Server) waitReady() error {
	tr := &http.Transport{TLSClientConfig: s.TLSConfig()}
	defer tr.CloseIdleConnections()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: true,
		Transport: tr, Region: Region, MaxRetries: 1,
	})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("minio exited during start: %v", s.waitErr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("minio not ready on %s within %s: %v", s.Endpoint, startTimeout, err)
}

// Stop terminates the server (SIGTERM, then SIGKILL after a timeout). The
// data directory is kept, so Restart brings the same objects back.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts the server again on the same port, data directory,
// credentials, certificate and KMS key. It fails the test if it cannot.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for attempt := 0; attempt < 20; attempt++ { // the port may linger briefly
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.t.Fatalf("miniotest: restart on %s: %v\n%s", s.Endpoint, err, s.Log())
}

// Log returns the last lines of the server's log.
func (s *Server) Log() string {
	data, err := os.ReadFile(s.logPath())
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return "--- minio.log ---\n" + strings.Join(lines, "\n")
}

func (s *Server) cleanup() {
	if s.t.Failed() {
		s.t.Logf("miniotest: log:\n%s", s.Log())
	}
	s.Stop()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
