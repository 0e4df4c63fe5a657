// Package turntest runs a real coturn TURN server on 127.0.0.1 for tests:
// TURN REST API credentials (use-auth-secret with a generated secret), relay
// ports on loopback (allow-loopback-peers), no TLS, no CLI. Each Start gets
// its own process, port, secret and log file; the server stops at the end of
// the test, and its log is printed when the test failed.
//
// coturn is a system package: `make deps` (.ci/install-deps) installs it,
// and a missing turnserver binary fails the test.
package turntest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/turncred"
)

// Realm is the realm of every test server.
const Realm = "televisit.test"

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	relayPorts   = 40 // size of the relay port range
	logTailLines = 200
)

// InstallHint is the command that installs the missing binary.
const InstallHint = "make deps (or: apt-get install -y coturn)"

// Server is a running coturn.
type Server struct {
	// Secret is the static-auth-secret shared with turncred.
	Secret string
	// Port is the listening port, UDP and TCP, on 127.0.0.1.
	Port int
	// RelayMin and RelayMax bound the relay ports.
	RelayMin, RelayMax int

	t       testing.TB
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Start runs turnserver and waits until it answers STUN on its port. The
// server stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("turntest: turnserver (coturn) not found on PATH: %v; install it: %s", err, InstallHint)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before coturn binds it
		s := &Server{t: t, Secret: randomSecret(t), dir: t.TempDir()}
		if lastErr = s.start(bin); lastErr == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		t.Logf("turntest: attempt %d: %v\n%s", attempt+1, lastErr, s.Log())
	}
	t.Fatalf("turntest: coturn did not start: %v", lastErr)
	return nil
}

func (s *Server) start(bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	s.RelayMin = 40000 + int(randomUint16(s.t))%20000
	s.RelayMax = s.RelayMin + relayPorts - 1
	s.logPath = filepath.Join(s.dir, "turnserver.log")
	conf := filepath.Join(s.dir, "turnserver.conf")
	if err := os.WriteFile(conf, []byte(s.config()), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	s.cmd = exec.Command(bin, "-c", conf)
	s.cmd.Dir = s.dir
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := os.Create(filepath.Join(s.dir, "stdout.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start turnserver: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(); err != nil {
		s.stop()
		return err
	}
	return nil
}

// config is the turnserver.conf of the server. Everything lives in the
// test's temp dir: log, pid file and the (unused) SQLite user database.
func (s *Server) config() string {
	lines := []string{
		"listening-ip=127.0.0.1",
		"relay-ip=127.0.0.1",
		"listening-port=" + strconv.Itoa(s.Port),
		"min-port=" + strconv.Itoa(s.RelayMin),
		"max-port=" + strconv.Itoa(s.RelayMax),
		"use-auth-secret",
		"static-auth-secret=" + s.Secret,
		"realm=" + Realm,
		"allow-loopback-peers",
		"fingerprint",
		"no-tls",
		"no-dtls",
		"no-cli",
		"no-software-attribute",
		"no-multicast-peers",
		"log-file=" + s.logPath,
		"simple-log",
		"pidfile=" + filepath.Join(s.dir, "turnserver.pid"),
		"userdb=" + filepath.Join(s.dir, "turndb"),
	}
	return strings.Join(lines, "\n") + "\n"
}

// waitReady probes the port with a STUN Binding request until coturn
// answers, the process exits or the timeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("turnserver exited during start: %v", s.waitErr)
		default:
		}
		if err := stunPing(s.Addr(), 200*time.Millisecond); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("turnserver did not answer STUN on %s within %s", s.Addr(), startTimeout)
}

// Addr is the host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the TURN URL over UDP, for RTCIceServer.urls.
func (s *Server) URL() string { return "turn:" + s.Addr() + "?transport=udp" }

// TCPURL is the TURN URL over TCP.
func (s *Server) TCPURL() string { return "turn:" + s.Addr() + "?transport=tcp" }

// Config is a turncred.Config for this server (UDP URL, default TTL).
func (s *Server) Config() turncred.Config {
	return turncred.Config{Secret: s.Secret, URLs: []string{s.URL()}}
}

// Credentials issues a time-limited credential for id, valid from now.
func (s *Server) Credentials(id string) turncred.ICEServer {
	s.t.Helper()
	c, err := s.Config().Credentials(id, time.Now())
	if err != nil {
		s.t.Fatalf("turntest: credentials: %v", err)
	}
	return c
}

// Log returns the server's log so far (the last lines).
func (s *Server) Log() string {
	var b strings.Builder
	for _, p := range []string{filepath.Join(s.dir, "stdout.log"), s.logPath} {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > logTailLines {
			lines = lines[len(lines)-logTailLines:]
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(p), strings.Join(lines, "\n"))
	}
	return b.String()
}

func (s *Server) cleanup() {
	if s.t.Failed() {
		s.t.Logf("turntest: coturn log:\n%s", s.Log())
	}
	s.stop()
}

// stop terminates the server, killing it after stopTimeout.
func (s *Server) stop() {
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
}

func randomSecret(t testing.TB) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func randomUint16(t testing.TB) uint16 {
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return uint16(b[0])<<8 | uint16(b[1])
}
