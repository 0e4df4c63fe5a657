package staffauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/televisit/televisit/visits"
)

func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, nil) // IdleTimeout 15m
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	for range 3 { // activity every 10 minutes keeps the session open
		e.clock.Advance(10 * time.Minute)
		if _, err := e.authCookie(token); err != nil {
			t.Fatalf("active session refused: %v", err)
		}
	}
	e.clock.Advance(15 * time.Minute)
	_, err := e.authCookie(token)
	wantErr(t, err, visits.ErrSessionEnded)
	if e.count(`SELECT count(*) FROM staff_sessions WHERE ended_at IS NOT NULL AND end_reason = 'idle_timeout'`) != 1 {
		t.Fatal("session not marked ended")
	}
	if a := e.lastAudit(); a.action != "staff.session_timeout" || a.detail["reason"] != "idle_timeout" || a.actorType != "staff" {
		t.Fatalf("audit %+v", a)
	}
	_, err = e.authCookie(token) // stays ended, audited once
	wantErr(t, err, visits.ErrSessionEnded)
	if e.count(`SELECT count(*) FROM audit_events WHERE action = 'staff.session_timeout'`) != 1 {
		t.Fatal("timeout audited twice")
	}
}

func TestAbsoluteTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AbsoluteTimeout = time.Hour })
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	for range 5 {
		e.clock.Advance(10 * time.Minute)
		if _, err := e.authCookie(token); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(10 * time.Minute) // 60 minutes after sign-in
	_, err := e.authCookie(token)
	wantErr(t, err, visits.ErrSessionEnded)
	if e.count(`SELECT count(*) FROM staff_sessions WHERE end_reason = 'absolute_timeout'`) != 1 {
		t.Fatal("session not ended for the absolute timeout")
	}
}

// Touches are spaced out: requests within 30 s write nothing.
func TestLastSeenThrottled(t *testing.T) {
	e := newEnv(t, nil)
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	lastSeen := func() time.Time {
		var ts time.Time
		if err := e.pool.QueryRow(context.Background(), `SELECT last_seen_at FROM staff_sessions`).Scan(&ts); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	before := lastSeen()
	e.clock.Advance(10 * time.Second)
	e.authCookie(token)
	if !lastSeen().Equal(before) {
		t.Fatal("last_seen_at written within 30 s")
	}
	e.clock.Advance(time.Minute)
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(WithoutActivity(context.Background()))
	r.AddCookie(&http.Cookie{Name: "tv_staff", Value: token})
	if _, err := e.auth.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	if !lastSeen().Equal(before) {
		t.Fatal("a passive check counted as activity")
	}
	e.authCookie(token)
	if !lastSeen().After(before) {
		t.Fatal("last_seen_at not updated after 30 s")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	token := e.mustLogin(b, "alice", "alice-pw")
	noFollow := *b
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Post(e.appURL+"/auth/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/oidc/end_session" ||
		loc.Query().Get("client_id") != webClient || loc.Query().Get("post_logout_redirect_uri") != e.appURL+"/" {
		t.Fatalf("logout: %d %v", resp.StatusCode, loc)
	}
	if e.sessionCookie(b) != "" {
		t.Fatal("cookie not cleared")
	}
	_, err = e.authCookie(token)
	wantErr(t, err, visits.ErrSessionEnded)
	if a := e.lastAudit(); a.action != "staff.sign_out" || a.detail["reason"] != "logout" {
		t.Fatalf("audit %+v", a)
	}
	// The provider sends the browser back to the app.
	resp, err = b.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.String() != e.appURL+"/" {
		t.Fatalf("after end_session: %s", resp.Request.URL)
	}
	// Logging out without a session still clears and redirects.
	resp, err = noFollow.Post(e.appURL+"/auth/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second logout: %d", resp.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	actor, err := e.authCookie(token)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := e.auth.SessionExpiry(context.Background(), actor)
	if err != nil || !exp.Equal(e.clock.Now().Add(15*time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("expiry %v (now %v), %v", exp, e.clock.Now(), err)
	}
	e.clock.Advance(16 * time.Minute)
	_, err = e.auth.SessionExpiry(context.Background(), actor)
	wantErr(t, err, visits.ErrSessionEnded)
	_, err = e.auth.SessionExpiry(context.Background(), visits.Actor{Kind: visits.ActorPatient})
	wantErr(t, err, visits.ErrUnauthorized)
}

func TestNoCredential(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if c != "" {
			r.AddCookie(&http.Cookie{Name: "tv_staff", Value: c})
		}
		_, err := e.auth.Authenticate(r)
		wantErr(t, err, visits.ErrUnauthorized)
	}
}
