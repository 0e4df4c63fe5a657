package signaling

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestUpgradeRefusedBeforeUpgrading(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Ida Rhodes")
	ended := w.newPatient(t, st, cs, "Jean Sammet")
	if err := st.svc.EndPatientSession(context.Background(), ended.actor); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no origin", http.Header{staffHeader: {"clin"}}, http.StatusForbidden},
		{"foreign origin", http.Header{"Origin": {"https://evil.example"}, staffHeader: {"clin"}}, http.StatusForbidden},
		{"origin with path", http.Header{"Origin": {testOrigin + "/x"}, staffHeader: {"clin"}}, http.StatusForbidden},
		{"no credentials", http.Header{"Origin": {testOrigin}}, http.StatusUnauthorized},
		{"unknown staff", staffHeaders("nobody"), http.StatusUnauthorized},
		{"bad patient cookie", patientHeaders("not-a-token"), http.StatusUnauthorized},
		{"ended patient session", patientHeaders(ended.token), http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := dial(st.ts, tc.header)
			if err == nil {
				conn.Close()
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("response = %v, want %d", resp, tc.want)
			}
		})
	}
	// Origins compare case-insensitively; the good ones still get in.
	c := connect(t, st.ts, http.Header{"Origin": {strings.ToUpper(testOrigin)}, "Cookie": {patientCookie + "=" + p.token}})
	c.hello(nil)
	c.expectType(2*time.Second, "patient_status")
}

func TestMalformedMessagesThenAbuseCloses(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	c := connect(t, st.ts, staffHeaders("clin"))

	expectError := func(code, ref string) {
		t.Helper()
		e := c.expectType(2*time.Second, "error")
		if e.Code != code || e.Ref != ref || e.Message == "" {
			t.Fatalf("error = %s, want code %s ref %q", e.raw, code, ref)
		}
	}
	c.sendRaw(`{not json`)
	expectError(codeBadMessage, "")
	c.sendRaw(`{"v":1,"type":"launch_rockets","id":"x1"}`)
	expectError(codeUnknownType, "x1")
	c.sendRaw(`{"v":2,"type":"ping","id":"x2"}`)
	expectError(codeBadMessage, "x2")
	c.sendRaw(`{"v":1,"type":"subscribe_waiting_room","id":"x3","clinic_id":"` + cs.clinic.ID.String() + `"}`)
	expectError(codeBadMessage, "x3") // hello first
	c.sendRaw(`{"v":1,"type":"ping","id":"p1"}`)
	if m := c.expectType(2*time.Second, "pong"); m.Ref != "p1" {
		t.Fatalf("pong = %s", m.raw)
	}
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	expectError(codeBadMessage, "")
	c.hello(nil)
	c.expectType(2*time.Second, "waiting_room")
	c.sendRaw(`{"v":1,"type":"subscribe_waiting_room","id":"x4","clinic_id":"not-a-uuid"}`)
	expectError(codeBadMessage, "x4")

	for i := 0; i < 4; i++ { // 6 bad so far; the 10th closes
		c.sendRaw(`[]`)
	}
	code, seen := c.expectClose(2 * time.Second)
	if code != CloseProtocolAbuse {
		t.Fatalf("close code = %d", code)
	}
	if r, ok := sessionEnded(seen); !ok || r != "protocol_abuse" {
		t.Fatalf("session_ended = %q %v", r, ok)
	}
}

func TestOversizeMessageCloses(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.MaxMessageBytes = 1024
	st := w.start(cfg, nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	c := connect(t, st.ts, staffHeaders("clin"))
	c.sendRaw(`{"v":1,"type":"ping","id":"` + strings.Repeat("a", 2000) + `"}`)
	if code, _ := c.expectClose(2 * time.Second); code != CloseTooLarge {
		t.Fatalf("close code = %d", code)
	}
	eventually(t, 2*time.Second, "the session to end", func() bool { return st.srv.sessionCount() == 0 })
}

func TestRateLimitCloses(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.MsgRate, cfg.MsgBurst = 1, 3
	st := w.start(cfg, nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	c := connect(t, st.ts, staffHeaders("clin"))
	// The server closes the socket part way: later sends may then fail.
	for i := 0; i < 10 && c.trySendRaw(`{"v":1,"type":"ping"}`); i++ {
	}
	code, seen := c.expectClose(2 * time.Second)
	if code != CloseRateLimited {
		t.Fatalf("close code = %d", code)
	}
	var pongs, limited int
	for _, m := range seen {
		switch {
		case m.Type == "pong":
			pongs++
		case m.Type == "error" && m.Code == codeRateLimited:
			limited++
		}
	}
	if pongs != 3 || limited != 1 {
		t.Fatalf("pongs %d, rate_limited errors %d; want 3 and 1", pongs, limited)
	}
	if r, _ := sessionEnded(seen); r != "rate_limited" {
		t.Fatalf("session_ended reason %q", r)
	}
}

func TestEndedSessionsCloseWithinReauthInterval(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.ReauthInterval = 200 * time.Millisecond
	st := w.start(cfg, nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Karen Sparck Jones")

	pc := connect(t, st.ts, patientHeaders(p.token))
	pc.hello(nil)
	pc.expectType(2*time.Second, "patient_status")
	sc := connect(t, st.ts, staffHeaders("clin"))
	sc.hello(nil)
	sc.expectType(2*time.Second, "waiting_room")

	if err := st.svc.EndPatientSession(context.Background(), p.actor); err != nil {
		t.Fatal(err)
	}
	st.auth.endStaff("clin")
	start := time.Now()
	for _, c := range []*client{pc, sc} {
		code, seen := c.expectClose(10 * time.Second)
		if code != CloseSessionEnded {
			t.Fatalf("close code = %d", code)
		}
		if r, _ := sessionEnded(seen); r != "session_ended" {
			t.Fatalf("session_ended reason %q", r)
		}
	}
	// The bound is loose on purpose: under -race on a loaded 2-core machine
	// one re-check can take a while. What matters is that the close comes
	// from the periodic re-check, not from something much later.
	if d := time.Since(start); d > cfg.ReauthInterval+3*time.Second {
		t.Errorf("closed after %v; ReauthInterval is %v", d, cfg.ReauthInterval)
	}
	st.auth.mu.Lock()
	defer st.auth.mu.Unlock()
	if st.auth.rechecks == 0 {
		t.Error("re-checks were not marked with Rechecking")
	}
}

func TestShutdownClosesEverySession(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Lois Haibt")
	clients := []*client{connect(t, st.ts, staffHeaders("clin")), connect(t, st.ts, patientHeaders(p.token))}
	for _, c := range clients {
		c.hello(nil)
		c.expectType(2*time.Second, "welcome")
	}
	eventually(t, time.Second, "two sessions", func() bool { return st.srv.sessionCount() == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.srv.sessionCount(); n != 0 {
		t.Fatalf("%d sessions after Shutdown", n)
	}
	for _, c := range clients {
		code, seen := c.expectClose(2 * time.Second)
		if code != CloseGoingAway {
			t.Fatalf("close code = %d", code)
		}
		if r, _ := sessionEnded(seen); r != "going_away" {
			t.Fatalf("session_ended reason %q", r)
		}
	}
	_, resp, err := dial(st.ts, staffHeaders("clin"))
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Shutdown: err %v, response %v", err, resp)
	}
}
