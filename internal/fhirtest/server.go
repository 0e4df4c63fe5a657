package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// InstallHint is the command that installs the server's npm packages.
const InstallHint = "make deps (or: bash .ci/deps.d/medplum.sh)"

// FHIRPath is the path of the FHIR base under the server's root.
const FHIRPath = "/fhir/R4"

const (
	startTimeout = 60 * time.Second // loading the FHIR definitions takes a few seconds on a busy machine
	stopTimeout  = 5 * time.Second
)

// Server is a running test FHIR server behind the Go proxy.
type Server struct {
	// BaseURL is the FHIR base, for example http://127.0.0.1:PORT/fhir/R4.
	BaseURL string
	// TokenURL is the SMART token endpoint (only answered WithSMART).
	TokenURL string

	t     testing.TB
	node  *nodeProc
	proxy *proxy
	tls   *selfSigned // nil without WithTLS
}

// Option configures Start.
type Option func(*options)

type options struct {
	clientID, jwksURL string
	tokenTTL          time.Duration
	tls               bool
}

// WithTLS serves the FHIR base and the token endpoint over HTTPS with a
// self-signed certificate for 127.0.0.1; HTTPClient trusts it.
func WithTLS() Option {
	return func(o *options) { o.tls = true }
}

// WithSMART makes the server require bearer tokens from its SMART Backend
// Services token endpoint, issued to clientID after verifying the client's
// assertion against the keys published at jwksURL. Tokens expire after ttl
// (whole seconds; 0 means 300 s).
func WithSMART(clientID, jwksURL string, ttl time.Duration) Option {
	return func(o *options) { o.clientID, o.jwksURL, o.tokenTTL = clientID, jwksURL, ttl }
}

// Start runs the FHIR server and its proxy on loopback; both stop when the
// test ends. It fails the test when node or the npm packages are missing.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := medplumDir()
	if err := checkInstalled(dir); err != nil {
		t.Fatalf("fhirtest: %v", err)
	}
	var cert *selfSigned
	if o.tls {
		var err error
		if cert, err = newSelfSigned(); err != nil {
			t.Fatalf("fhirtest: %v", err)
		}
	}
	p, err := newProxy(cert)
	if err != nil {
		t.Fatalf("fhirtest: proxy: %v", err)
	}
	s := &Server{t: t, proxy: p, tls: cert, BaseURL: p.url() + FHIRPath, TokenURL: p.url() + "/auth/token"}
	t.Cleanup(s.cleanup)
	s.node, err = startNode(dir, t.TempDir(), s.env(o))
	if err != nil {
		t.Fatalf("fhirtest: %v", err)
	}
	p.setUpstream(s.node.addr)
	return s
}

func (s *Server) env(o options) []string {
	if o.clientID == "" {
		return nil
	}
	ttl := int(o.tokenTTL / time.Second)
	if ttl <= 0 {
		ttl = 300
	}
	return []string{
		"FHIRTEST_CLIENT_ID=" + o.clientID,
		"FHIRTEST_JWKS_URL=" + o.jwksURL,
		"FHIRTEST_TOKEN_URL=" + s.TokenURL,
		fmt.Sprintf("FHIRTEST_TOKEN_TTL=%d", ttl),
	}
}

// checkInstalled reports a missing npm install in dir with the command that
// fixes it.
func checkInstalled(dir string) error {
	for _, pkg := range []string{"@medplum/core", "@medplum/fhir-router", "jose"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return fmt.Errorf("npm package %s is not installed in %s; run: %s", pkg, dir, InstallHint)
		}
	}
	return nil
}

// medplumDir is the folder of server.mjs, found from this source file so
// that tests of any package can start the server.
func medplumDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "medplum")
}

// Stop takes the EHR offline: new connections are refused and open ones are
// closed. The data is kept for Start.
func (s *Server) Stop() { s.proxy.stop() }

// Start brings the EHR back online on the same address after Stop.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.proxy.start(); err != nil {
		s.t.Fatalf("fhirtest: restart proxy: %v", err)
	}
}

// DropNextWriteResponse makes the proxy forward the next POST or PUT to the
// server, let the server apply it, and then close the client's connection
// without the answer, as a network failure after the write would.
func (s *Server) DropNextWriteResponse() { s.proxy.dropNextWrite() }

// HoldNextWrite makes the proxy forward the next POST or PUT to a resource
// of type typ ("" for any type) to the server and, once the server has
// answered (the write is applied), hold the answer back until release is
// called or the client goes away, as a process killed in the middle of a
// write would see it. held is closed when the answer is being held.
// release may be called more than once; the end of the test calls it.
func (s *Server) HoldNextWrite(typ string) (held <-chan struct{}, release func()) {
	h := s.proxy.holdNextWrite(typ)
	s.t.Cleanup(h.release)
	return h.held, h.release
}

// Dropped reports how many answers the proxy dropped.
func (s *Server) Dropped() int { return s.proxy.droppedCount() }

// TokensIssued is how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.t.Helper()
	resp, err := http.Get("http://" + s.node.addr + "/_fhirtest/stats")
	if err != nil {
		s.t.Fatalf("fhirtest: stats: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		TokensIssued int `json:"tokensIssued"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatalf("fhirtest: stats: %v", err)
	}
	return st.TokensIssued
}

// Log is the server's output so far.
func (s *Server) Log() string { return s.node.log.String() }

func (s *Server) cleanup() {
	s.proxy.stop()
	if s.node == nil {
		return
	}
	if s.t.Failed() {
		s.t.Logf("fhirtest: server output:\n%s", s.node.log.String())
	}
	s.node.stop(stopTimeout)
}

// RevokeTokens invalidates every access token issued so far, as an EHR
// revoking tokens before they expire would.
func (s *Server) RevokeTokens() {
	s.t.Helper()
	resp, err := http.Post("http://"+s.node.addr+"/_fhirtest/revoke-tokens", "text/plain", nil)
	if err != nil {
		s.t.Fatalf("fhirtest: revoke tokens: %v", err)
	}
	resp.Body.Close()
}
