package fhirtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// proxy forwards HTTP between clients and the node server. It can be taken
// offline (connections refused) and can drop or hold back the answer of the
// next write after the server applied it.
type proxy struct {
	addr      string // 127.0.0.1:port, kept across stop/start
	cert      *selfSigned
	transport *http.Transport

	mu       sync.Mutex
	upstream string
	srv      *http.Server
	dropNext bool
	dropped  int
	hold     *heldWrite // armed by holdNextWrite, not yet taken
}

// newProxy listens on a free port, over TLS when cert is not nil.
func newProxy(cert *selfSigned) (*proxy, error) {
	p := &proxy{addr: "127.0.0.1:0", cert: cert, transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *proxy) url() string {
	if p.cert != nil {
		return "https://" + p.addr
	}
	return "http://" + p.addr
}

func (p *proxy) setUpstream(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upstream = addr
}

// start listens on the proxy's address (a free port the first time).
func (p *proxy) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", p.addr, err)
	}
	p.addr = ln.Addr().String()
	if p.cert != nil {
		ln = tls.NewListener(ln, p.cert.serverConfig())
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(p.srv)
	return nil
}

// stop closes the listener and every open connection.
func (p *proxy) stop() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	p.transport.CloseIdleConnections()
}

func (p *proxy) dropNextWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropNext = true
}

func (p *proxy) droppedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// takeDrop reports whether the answer to r is to be dropped: the next FHIR
// POST or PUT after dropNextWrite (token requests are not FHIR writes).
func (p *proxy) takeDrop(r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dropNext || !isFHIRWrite(r, "") {
		return false
	}
	p.dropNext = false
	p.dropped++
	return true
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	upstream := p.upstream
	p.mu.Unlock()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", upstream
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, "fhirtest proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // the server has answered: the write is applied
	if err != nil {
		http.Error(w, "fhirtest proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if h := p.takeHold(r); h != nil && !h.wait(r.Context()) {
		return // the client went away while its answer was held
	}
	if p.takeDrop(r) {
		hangUp(w)
		return
	}
	for k, v := range resp.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// hopByHop are the headers of one connection, not forwarded.
var hopByHop = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
