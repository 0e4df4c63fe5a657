package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
)

// TestServeEndToEnd runs `serve --migrate` in-process against a real
// database and a real OpenID provider, with settings from both a file and
// the environment, then stops it by cancelling its context (what SIGTERM
// does).
func TestServeEndToEnd(t *testing.T) {
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	idp := devoidctest.StartDemo(t, base+"/auth/callback")
	webClient := idp.Client(t, devoidc.DemoWebClient)
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "phi")
	cfgFile := filepath.Join(dir, "televisit.yaml")
	yaml := "server:\n  addr: 127.0.0.1:" + port + "\n  public_url: " + base + "\nlog:\n  level: info\n"
	for name, content := range map[string]string{keyFile: spec + "\n", cfgFile: yaml} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"TELEVISIT_DATABASE_URL=" + pgtest.NewDBURL(t),
		"TELEVISIT_KEYS_PHI_FILE=" + keyFile,
		"TELEVISIT_AUTH_ISSUER=" + idp.Issuer,
		"TELEVISIT_AUTH_CLIENT_ID=" + webClient.ID,
		"TELEVISIT_AUTH_CLIENT_SECRET=" + webClient.Secret,
		"TELEVISIT_MEDIA_UDP_PORT=0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgFile, "--migrate"}, stdio{out: logs, err: logs, environ: env})
	}()
	waitServing(t, base, done, logs)

	checkAPIClient(t, base, idp.Issuer+"/oauth/token", idp.Client(t, "api-scheduler").Secret)
	token := clientToken(t, idp.Issuer+"/oauth/token", "api-clinician", idp.Client(t, "api-clinician").Secret)
	ws := checkWebSocket(t, base, token) // left open: shutdown must end it

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop within 60s")
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseGoingAway {
				t.Errorf("WebSocket at shutdown: %v; want close 1001 (going away)", err)
			}
			break
		}
	}
	ws.Close()
	checkLogs(t, logs.String(), spec, webClient.Secret)
}

// checkWebSocket opens /ws through the whole middleware stack as an API
// client, and is refused from a foreign origin. It returns the open socket.
func checkWebSocket(t *testing.T, base, token string) *websocket.Conn {
	t.Helper()
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	h := http.Header{"Authorization": {"Bearer " + token}, "Origin": {"http://evil.example"}}
	if c, resp, err := websocket.DefaultDialer.Dial(wsURL, h); err == nil {
		c.Close()
		t.Error("WebSocket opened from a foreign origin")
	} else if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket from a foreign origin: %v; want 403", err)
	}
	h.Set("Origin", base)
	c, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("WebSocket as api-clinician: %v (status %d)", err, status)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"ping","id":"t1"}`)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), `"type"`) {
		t.Fatalf("answer to a ping: %q %v", msg, err)
	}
	return c
}

func waitServing(t *testing.T, base string, done <-chan int, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, logs)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after a minute:\n%s", logs)
		}
	}
}

// checkLogs wants one JSON object per line and no secret anywhere.
func checkLogs(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	for _, s := range secrets {
		_, key, _ := strings.Cut(s, ":")
		if strings.Contains(logs, s) || (key != "" && strings.Contains(logs, key)) {
			t.Errorf("a secret reached the log:\n%s", logs)
		}
	}
	if !strings.Contains(logs, `"msg":"televisit serving"`) || !strings.Contains(logs, `"msg":"shutting down"`) {
		t.Errorf("start or shutdown not logged:\n%s", logs)
	}
}
