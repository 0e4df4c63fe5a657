package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// localHandler answers "local" for every request it gets.
var localHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "local")
})

// remoteWS is another node's /ws: it upgrades, sends the path and query it
// saw and the hop header, then echoes one message.
func remoteWS(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(remoteWSHandler())
	t.Cleanup(srv.Close)
	return srv
}

func remoteWSHandler() http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://clinic.test" }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		hello := "remote " + r.URL.Path + "?" + r.URL.RawQuery + " hop=" + r.Header.Get(hopHeader)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
			return
		}
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		_ = conn.WriteMessage(typ, msg)
	})
}

// A node serving TLS with a certificate for the public host is reached
// with ProxyTLS naming that host; without it the handshake fails (503).
func TestProxyToTLSNode(t *testing.T) {
	f := newFixture(t)
	remote := httptest.NewTLSServer(remoteWSHandler()) // certificate for example.com
	defer remote.Close()
	roots := x509.NewCertPool()
	roots.AddCert(remote.Certificate())
	a, err := New(context.Background(), f.pool, Config{NodeID: "node-a", AdvertiseURL: "https://node-a.test:8443",
		Lease: time.Second, ProxyTLS: &tls.Config{ServerName: "example.com", RootCAs: roots}}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	plain := f.nodeURL(t, "node-c", "https://node-c.test:8443") // Go's defaults: unknown CA
	f.nodeURL(t, "node-b", remote.URL)
	for _, tc := range []struct {
		node *Node
		ok   bool
	}{{a, true}, {plain, false}} {
		front := httptest.NewServer(tc.node.Proxy(localHandler))
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(front.URL, "http")+"/ws?node=node-b",
			http.Header{"Origin": {"https://clinic.test"}})
		if tc.ok != (err == nil) {
			t.Errorf("%s: dial err %v, want ok=%v", tc.node.ID(), err, tc.ok)
		}
		if conn != nil {
			if _, hello, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(hello), "remote /ws?node=node-b") {
				t.Errorf("%s: remote said %q, %v", tc.node.ID(), hello, err)
			}
			conn.Close()
		}
		front.Close()
	}
}

func TestProxyForwardsWebSocketToLiveNode(t *testing.T) {
	f := newFixture(t)
	remote := remoteWS(t)
	a := f.node(t, "node-a")
	f.nodeURL(t, "node-b", remote.URL)
	front := httptest.NewServer(a.Proxy(localHandler))
	defer front.Close()

	url := "ws" + strings.TrimPrefix(front.URL, "http") + "/ws?node=node-b&token=abc%2Fdef"
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://clinic.test"}})
	if err != nil {
		t.Fatalf("dial through proxy: %v (status %v)", err, resp)
	}
	defer conn.Close()
	_, hello, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := "remote /ws?node=node-b&token=abc%2Fdef hop=node-a"; string(hello) != want {
		t.Fatalf("remote saw %q, want %q", hello, want)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if _, echo, err := conn.ReadMessage(); err != nil || string(echo) != `{"v":1,"type":"hello"}` {
		t.Fatalf("echo = %q, %v", echo, err)
	}
}

func TestProxyServesLocally(t *testing.T) {
	f := newFixture(t)
	remote := remoteWS(t)
	a := f.node(t, "node-a")
	f.nodeURL(t, "node-b", remote.URL)
	f.expireLease(t, "node-b")
	front := httptest.NewServer(a.Proxy(localHandler))
	defer front.Close()
	for _, q := range []string{"", "?node=", "?node=node-a", "?node=node-zz", "?node=node-b"} {
		status, body := get(t, front.URL+"/ws"+q, nil)
		if status != http.StatusOK || body != "local" {
			t.Errorf("%q: %d %q, want the local handler", q, status, body)
		}
	}
	// A request that already went through a node is never proxied again.
	f.nodeURL(t, "node-c", remote.URL)
	status, body := get(t, front.URL+"/ws?node=node-c", http.Header{hopHeader: {"node-x"}})
	if status != http.StatusOK || body != "local" {
		t.Errorf("hop request: %d %q, want local", status, body)
	}
}

func TestProxyUnreachableNodeIs503(t *testing.T) {
	f := newFixture(t)
	a := f.node(t, "node-a")
	gone := httptest.NewServer(localHandler)
	gone.Close() // nothing listens there any more
	f.nodeURL(t, "node-b", gone.URL)
	front := httptest.NewServer(a.Proxy(localHandler))
	defer front.Close()
	resp, err := http.Get(front.URL + "/ws?node=node-b&token=secret")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.TrimSpace(string(body)) != "node unavailable" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %q (%s)", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(front.URL, "http")+"/ws?node=node-b", nil); err != websocket.ErrBadHandshake {
		t.Fatalf("websocket dial: %v, want a bad handshake (503)", err)
	}
}

func TestProxyMalformedNodeIs400(t *testing.T) {
	f := newFixture(t)
	a := f.node(t, "node-a")
	front := httptest.NewServer(a.Proxy(localHandler))
	defer front.Close()
	for _, q := range []string{"node=a%20b", "node=%3Cscript%3E", "node=" + strings.Repeat("x", 101), "node=a/b", "node=%C3%A9"} {
		status, body := get(t, front.URL+"/ws?"+q, nil)
		if status != http.StatusBadRequest || body != "malformed node parameter\n" {
			t.Errorf("%q: %d %q, want 400", q, status, body)
		}
	}
	if status, _ := get(t, front.URL+"/ws?node="+strings.Repeat("x", 100), nil); status != http.StatusOK {
		t.Errorf("100-char node id: %d, want local 200", status)
	}
}

func get(t *testing.T, url string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
