package signaling

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/visits"
)

// msg is any server message, decoded loosely.
type msg struct {
	V        int                 `json:"v"`
	Type     string              `json:"type"`
	Ref      string              `json:"ref"`
	Code     string              `json:"code"`
	Message  string              `json:"message"`
	Reason   string              `json:"reason"`
	Session  string              `json:"session"`
	Protocol int                 `json:"protocol"`
	ClinicID uuid.UUID           `json:"clinic_id"`
	VisitID  uuid.UUID           `json:"visit_id"`
	Entries  []visits.QueueEntry `json:"entries"`
	Status   visits.Status       `json:"status"`
	Position int                 `json:"position"`
	Wait     *int                `json:"estimated_wait_minutes"`
	Clinics  []clinicRef         `json:"clinics"`
	Node     string              `json:"node"`
	raw      string
}

func (m msg) has(visit uuid.UUID) bool {
	for _, e := range m.Entries {
		if e.VisitID == visit {
			return true
		}
	}
	return false
}

// client is a test WebSocket client that reads in the background, so a
// test can wait for a message, or for none, without breaking the
// connection with a read deadline.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan msg
	done chan struct{}
	err  error // why reading stopped; valid after done
}

func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" }

func dial(ts *httptest.Server, h http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(wsURL(ts), h)
}

func staffHeaders(key string) http.Header {
	return http.Header{"Origin": {testOrigin}, staffHeader: {key}}
}

func patientHeaders(token string) http.Header {
	return http.Header{"Origin": {testOrigin}, "Cookie": {patientCookie + "=" + token}}
}

func connect(t *testing.T, ts *httptest.Server, h http.Header) *client {
	t.Helper()
	conn, resp, err := dial(ts, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	c := &client{t: t, conn: conn, msgs: make(chan msg, 4096), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

func (c *client) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		m := msg{raw: string(data)}
		if err := json.Unmarshal(data, &m); err != nil {
			c.err = err
			return
		}
		c.msgs <- m
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// trySendRaw sends s and reports whether the socket took it: a server
// that has already closed the socket makes later sends fail.
func (c *client) trySendRaw(s string) bool {
	return c.conn.WriteMessage(websocket.TextMessage, []byte(s)) == nil
}

func (c *client) hello(extra map[string]any) {
	m := map[string]any{"v": 1, "type": "hello", "id": "h1"}
	for k, v := range extra {
		m[k] = v
	}
	c.send(m)
}

// expect returns the first message that satisfies pred within d.
func (c *client) expect(d time.Duration, what string, pred func(msg) bool) msg {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if pred(m) {
				return m
			}
		case <-c.done:
			for len(c.msgs) > 0 {
				if m := <-c.msgs; pred(m) {
					return m
				}
			}
			c.t.Fatalf("connection ended (%v) before %s", c.err, what)
		case <-timeout:
			c.t.Fatalf("no %s within %v", what, d)
		}
	}
}

func (c *client) expectType(d time.Duration, typ string) msg {
	c.t.Helper()
	return c.expect(d, typ+" message", func(m msg) bool { return m.Type == typ })
}

// expectNone fails if a message satisfying pred arrives within d.
func (c *client) expectNone(d time.Duration, what string, pred func(msg) bool) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if pred(m) {
				c.t.Fatalf("unexpected %s: %s", what, m.raw)
			}
		case <-c.done:
			return
		case <-timeout:
			return
		}
	}
}

// expectClose waits for the connection to end and returns the close code
// (websocket.CloseAbnormalClosure when there was no close frame) and the
// messages that came before it.
func (c *client) expectClose(d time.Duration) (int, []msg) {
	c.t.Helper()
	var seen []msg
	timeout := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			seen = append(seen, m)
		case <-c.done:
			for len(c.msgs) > 0 {
				seen = append(seen, <-c.msgs)
			}
			var ce *websocket.CloseError
			if errors.As(c.err, &ce) {
				return ce.Code, seen
			}
			return websocket.CloseAbnormalClosure, seen
		case <-timeout:
			c.t.Fatalf("connection still open after %v", d)
		}
	}
}

// sessionEnded finds the session_ended message among msgs.
func sessionEnded(msgs []msg) (string, bool) {
	for _, m := range msgs {
		if m.Type == "session_ended" {
			return m.Reason, true
		}
	}
	return "", false
}
