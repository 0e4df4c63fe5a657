package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits/notify"
)

const webhookSecret = "0123456789abcdef-webhook-secret"

// gateway is an SMS gateway stand-in that checks every request's signature
// and records the payloads by idempotency key.
type gateway struct {
	t      testing.TB
	status func(n int) int // reply status for the n-th request (from 1); nil: 200
	delay  time.Duration

	mu       sync.Mutex
	requests int
	byKey    map[string][]payload
}

type payload struct {
	ID   int64  `json:"id"`
	To   string `json:"to"`
	Body string `json:"body"`
}

func startGateway(t testing.TB, g *gateway) (*httptest.Server, *notify.WebhookSender) {
	t.Helper()
	g.t, g.byKey = t, map[string][]payload{}
	srv := httptest.NewTLSServer(g)
	t.Cleanup(srv.Close)
	s, err := notify.NewWebhookSender(notify.WebhookConfig{URL: srv.URL + "/sms?key=gateway-key", Secret: webhookSecret,
		Timeout: 5 * time.Second, Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		g.t.Errorf("read request: %v", err)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		g.t.Errorf("request %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if !notify.VerifySignature([]byte(webhookSecret), body, r.Header.Get(notify.SignatureHeader)) {
		g.t.Errorf("bad signature %q", r.Header.Get(notify.SignatureHeader))
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		g.t.Errorf("payload: %v", err)
	}
	key := r.Header.Get(notify.IdempotencyHeader)
	if key != strconv.FormatInt(p.ID, 10) {
		g.t.Errorf("Idempotency-Key %q for id %d", key, p.ID)
	}
	time.Sleep(g.delay)
	g.mu.Lock()
	g.requests++
	n := g.requests
	status := http.StatusOK
	if g.status != nil {
		status = g.status(n)
	}
	if status < 300 {
		g.byKey[key] = append(g.byKey[key], p)
	}
	g.mu.Unlock()
	w.WriteHeader(status)
	// Gateways echo numbers in their errors; none of it may reach us.
	_, _ = io.WriteString(w, `{"error":"cannot deliver to `+p.To+`"}`)
}

func (g *gateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

func (g *gateway) delivered() map[string][]payload {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]payload, len(g.byKey))
	for k, v := range g.byKey {
		out[k] = append([]payload(nil), v...)
	}
	return out
}

func TestWebhookDeliversSignedJSON(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	g := &gateway{}
	_, sender := startGateway(t, g)
	id := enqueue(t, pool, keys, smsMsg(newVisit(t, pool)))[0]
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: sender}, log)

	if sent, err := w.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", sent, err)
	}
	got := g.delivered()[strconv.FormatInt(id, 10)]
	if len(got) != 1 || got[0] != (payload{ID: id, To: patientPhone, Body: linkBody}) {
		t.Fatalf("gateway got %+v", g.delivered())
	}
	if r := readRow(t, pool, id); r.Status != "sent" || r.Attempts != 1 {
		t.Fatalf("row = %+v", r)
	}
}

func TestWebhookStatuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status    int
		ok, perm  bool
		wantError string
	}{
		{200, true, false, ""},
		{202, true, false, ""},
		{204, true, false, ""},
		{302, false, true, "webhook: status 302"},
		{400, false, true, "webhook: status 400"},
		{401, false, true, "webhook: status 401"},
		{404, false, true, "webhook: status 404"},
		{408, false, false, "webhook: status 408"},
		{429, false, false, "webhook: status 429"},
		{500, false, false, "webhook: status 500"},
		{503, false, false, "webhook: status 503"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			g := &gateway{status: func(int) int { return tc.status }}
			_, sender := startGateway(t, g)
			err := sender.Send(ctx, notify.Message{ID: 42, VisitID: newVisitID(), Channel: notify.ChannelSMS,
				Recipient: patientPhone, Body: linkBody})
			if tc.ok != (err == nil) || notify.IsPermanent(err) != tc.perm {
				t.Fatalf("err = %v; want ok %v permanent %v", err, tc.ok, tc.perm)
			}
			if err != nil && err.Error() != tc.wantError {
				t.Fatalf("err = %q; want %q", err, tc.wantError)
			}
		})
	}
}

func TestWebhookTransportErrorHidesURL(t *testing.T) {
	s, err := notify.NewWebhookSender(notify.WebhookConfig{URL: "http://" + closedAddr(t) + "/sms?key=gateway-key",
		Secret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), notify.Message{ID: 1, VisitID: newVisitID(), Recipient: patientPhone, Body: linkBody})
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), "gateway-key") {
		t.Fatalf("err = %v; want a temporary error without the URL", err)
	}
	assertNoPHI(t, "error", err.Error())
}

func TestWebhookConfigValidation(t *testing.T) {
	good := notify.WebhookConfig{URL: "https://sms.example.org/send", Secret: webhookSecret}
	if _, err := notify.NewWebhookSender(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mutate := range map[string]func(*notify.WebhookConfig){
		"http to a remote host": func(c *notify.WebhookConfig) { c.URL = "http://sms.example.org/send" },
		"relative URL":          func(c *notify.WebhookConfig) { c.URL = "/send" },
		"short secret":          func(c *notify.WebhookConfig) { c.Secret = "short" },
		"negative timeout":      func(c *notify.WebhookConfig) { c.Timeout = -1 },
	} {
		c := good
		mutate(&c)
		if _, err := notify.NewWebhookSender(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
