package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"
)

// syncBuffer collects output written from many goroutines.
type syncBuffer = syncbuf.Buffer

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/visits/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /static/app.css", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "body{}") })
	mux.HandleFunc("GET /own-csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("patient Jane Roe, born 1970-01-01")
	})
	mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		panic("late")
	})
	mux.HandleFunc("GET /addr", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer c.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello")
		rw.Flush()
	})
	return mux
}

func newTestServer(t *testing.T, cfg Config) (*httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(Wrap(cfg, testMux(), log))
	t.Cleanup(ts.Close)
	return ts, logs
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestSecurityHeaders(t *testing.T) {
	ts, _ := newTestServer(t, Config{})
	for _, path := range []string{"/api/v1/visits/123", "/nowhere", "/static/app.css", "/panic"} {
		resp, _ := get(t, ts.URL+path)
		h := resp.Header
		if h.Get("Content-Security-Policy") != ContentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without TLS", path)
		}
		wantNoStore := !strings.HasPrefix(path, "/static/")
		if (h.Get("Cache-Control") == "no-store") != wantNoStore {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
	resp, _ := get(t, ts.URL+"/own-csp")
	if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'none'" {
		t.Errorf("a handler's own CSP was overwritten: %q", got)
	}
}

func TestHSTSWithTLS(t *testing.T) {
	h := securityHeaders(http.NotFoundHandler(), true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.HasPrefix(rec.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("no HSTS: %v", rec.Header())
	}
}

func TestRequestLogHasRouteNotURL(t *testing.T) {
	ts, logs := newTestServer(t, Config{})
	get(t, ts.URL+"/api/v1/visits/4f1c2b?name=Jane+Roe&dob=1970-01-01")
	get(t, ts.URL+"/secret-path-token")
	out := logs.String()
	for _, want := range []string{`"route":"GET /api/v1/visits/{id}"`, `"status":200`, `"method":"GET"`, `"route":"unmatched"`, `"status":404`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{"4f1c2b", "Jane", "1970", "secret-path-token", "127.0.0.1"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q:\n%s", leak, out)
		}
	}
}

func TestPanicBecomesGenericProblem(t *testing.T) {
	ts, logs := newTestServer(t, Config{})
	resp, body := get(t, ts.URL+"/panic?dob=1970-01-01")
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" || body != problemInternal {
		t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	out := logs.String()
	if !strings.Contains(out, "panic serving request") || !strings.Contains(out, `"route":"GET /panic"`) || !strings.Contains(out, "goroutine") {
		t.Errorf("panic not logged with route and stack:\n%s", out)
	}
	if strings.Contains(out, "Jane") || strings.Contains(out, "1970") {
		t.Errorf("panic log leaks the panic value or query:\n%s", out)
	}
	// Once the body has started, the connection is dropped instead: the
	// client sees a truncated response or an error, and the server lives on.
	if resp, err := http.Get(ts.URL + "/panic-late"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if resp, _ := get(t, ts.URL+"/api/v1/visits/1"); resp.StatusCode != 200 {
		t.Fatalf("server unhealthy after a late panic: %d", resp.StatusCode)
	}
}

func TestHijackThroughMiddleware(t *testing.T) {
	ts, logs := newTestServer(t, Config{})
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	if !strings.Contains(line, "101") {
		t.Fatalf("status line %q", line)
	}
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), "hello") {
		t.Fatalf("after upgrade: %q", rest)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"status":101`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `"status":101`) {
		t.Errorf("upgrade not logged as 101:\n%s", logs.String())
	}
}

func TestClientAddrFromTrustedProxy(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	ts, _ := newTestServer(t, Config{TrustedProxies: trusted})
	req, _ := http.NewRequest("GET", ts.URL+"/addr", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7, 10.1.2.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "198.51.100.7:0" {
		t.Fatalf("client address %q; want the rightmost untrusted hop", b)
	}

	untrusted, _ := newTestServer(t, Config{})
	req, _ = http.NewRequest("GET", untrusted.URL+"/addr", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.HasPrefix(string(b), "203.0.113.9") {
		t.Fatal("X-Forwarded-For believed without trusted proxies")
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	srv, err := New(Config{Addr: "127.0.0.1:0"}, testMux(), log)
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadHeaderTimeout != 10*time.Second || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Fatalf("timeouts not set: %+v", srv.Server)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := srv.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	resp, body := get(t, "http://"+ln.Addr().String()+"/api/v1/visits/1")
	if resp.StatusCode != 200 || body != `{"ok":true}` {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{{}, {Addr: "nope"}, {Addr: ":1", TLSCertFile: "c"}, {Addr: ":1", IdleTimeout: -1}} {
		if _, err := New(cfg, testMux(), slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// TestSlowBodyIsCut: a client that stops sending its body mid-way is
// disconnected after BodyTimeout instead of holding the connection.
func TestSlowBodyIsCut(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "slow", http.StatusRequestTimeout)
		}
	})
	cfg := Config{Addr: "127.0.0.1:0", BodyTimeout: 200 * time.Millisecond}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(Wrap(cfg, mux, slog.New(slog.DiscardHandler)))
	defer ts.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.ReadAll(c) // returns when the server gives up on the body
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("slow body held the connection for %s", d)
	}
}
