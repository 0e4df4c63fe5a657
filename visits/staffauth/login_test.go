package staffauth

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/visits"
)

func TestLoginFlow(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	resp, body := e.login(b, "alice", "alice-pw", "/visits/today?x=1")
	if resp.StatusCode != http.StatusOK || body != "app page" || resp.Request.URL.RequestURI() != "/visits/today?x=1" {
		t.Fatalf("landed on %s: %d %q", resp.Request.URL, resp.StatusCode, body)
	}
	// The callback's 303 set the session cookie.
	cb := resp.Request.Response
	if cb == nil || cb.StatusCode != http.StatusSeeOther || cb.Request.URL.Path != "/auth/callback" {
		t.Fatalf("expected a 303 from the callback, got %+v", cb)
	}
	set := strings.Join(cb.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"tv_staff=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !contains(set, want) {
			t.Errorf("session cookie lacks %q: %s", want, set)
		}
	}
	if contains(set, "Secure") {
		t.Error("Secure set although CookieSecure is false")
	}
	token := e.sessionCookie(b)
	actor, err := e.authCookie(token)
	if err != nil {
		t.Fatalf("authenticate with the session cookie: %v", err)
	}
	if actor.Kind != visits.ActorStaff || !slices.Equal(actor.Roles, []visits.Role{visits.RoleClinician}) ||
		!slices.Equal(actor.ClinicIDs, e.demoIDs()) || actor.ID != actor.StaffID.String() || actor.ClientAddr != "192.0.2.1" {
		t.Fatalf("actor %+v", actor)
	}
	h := sha256.Sum256([]byte(token))
	if e.count(`SELECT count(*) FROM staff_sessions WHERE token_hash = $1 AND staff_id = $2`, h[:], actor.StaffID) != 1 {
		t.Fatal("session row not keyed by the SHA-256 of the cookie")
	}
	if e.count(`SELECT count(*) FROM staff WHERE subject = 'alice-sub' AND display_name = 'Alice Example'
		AND email = 'alice@clinic.test' AND roles = '{clinician}' AND issuer = $1`, e.idp.Issuer) != 1 {
		t.Fatal("staff row not upserted from the claims")
	}
	if e.count(`SELECT count(*) FROM oidc_logins`) != 0 {
		t.Fatal("login state left behind")
	}
	if a := e.lastAudit(); a.action != "staff.sign_in" || a.outcome != "success" || a.actorID != actor.ID {
		t.Fatalf("audit %+v", a)
	}
}

func (e *env) demoIDs() []uuid.UUID { return []uuid.UUID{e.demo} }

// A second sign-in refreshes clinic memberships from the claim.
func TestLoginRefreshesClinics(t *testing.T) {
	e := newEnv(t, nil)
	e.mustLogin(e.browser(), "alice", "alice-pw")
	var staffID uuid.UUID
	if err := e.pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE subject = 'alice-sub'`).Scan(&staffID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO staff_clinics VALUES ($1, $2)`, staffID, e.north); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(e.browser(), "alice", "alice-pw")
	if n := e.count(`SELECT count(*) FROM staff_clinics WHERE staff_id = $1`, staffID); n != 1 ||
		e.count(`SELECT count(*) FROM staff_clinics WHERE staff_id = $1 AND clinic_id = $2`, staffID, e.demo) != 1 {
		t.Fatalf("memberships not refreshed: %d", n)
	}
}

func TestReturnToOnlyRelative(t *testing.T) {
	e := newEnv(t, nil)
	for _, rt := range []string{"https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)"} {
		resp, _ := e.login(e.browser(), "alice", "alice-pw", rt)
		if resp.Request.URL.Host != strings.TrimPrefix(e.appURL, "http://") || resp.Request.URL.Path != "/" {
			t.Errorf("return_to %q landed on %s", rt, resp.Request.URL)
		}
	}
}

func TestRequireMFA(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RequireMFA = true })
	resp, body := e.login(e.browser(), "bob", "bob-pw", "/")
	if resp.StatusCode != http.StatusForbidden || !contains(body, "multi-factor") {
		t.Fatalf("bob without MFA: %d %q", resp.StatusCode, body)
	}
	if e.count(`SELECT count(*) FROM staff_sessions`) != 0 || e.count(`SELECT count(*) FROM staff`) != 0 {
		t.Fatal("a session or staff row was created for a refused sign-in")
	}
	a := e.lastAudit()
	if a.action != "staff.sign_in" || a.outcome != "denied" || a.detail["reason"] != "mfa_required" || a.detail["subject"] != "bob-sub" {
		t.Fatalf("audit %+v", a)
	}
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	if _, err := e.authCookie(token); err != nil {
		t.Fatalf("alice with MFA: %v", err)
	}
}

func TestForgedState(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	// Get a login cookie, then come back with a state the app never issued.
	resp, err := b.Get(e.appURL + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, q := range []string{"state=forged-state-value&code=abc", "code=abc", "state=&code=abc"} {
		resp, err := b.Get(e.appURL + "/auth/callback?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || contains(string(body), "forged") || contains(string(body), "abc") {
			t.Errorf("%s: %d %q", q, resp.StatusCode, body)
		}
	}
	if a := e.lastAudit(); a.outcome != "denied" || a.detail["reason"] != "bad_state" {
		t.Fatalf("audit %+v", a)
	}
}

// callbackURL signs in at the provider and returns the callback URL the
// provider sends the browser to, without following it.
func (e *env) callbackURL(b *http.Client, username, password string) string {
	e.t.Helper()
	stop := *b
	stop.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := devoidctest.Login(context.Background(), &stop, e.appURL+"/auth/login", username, password)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Path != "/auth/callback" {
		e.t.Fatalf("no redirect to the callback: %d %v", resp.StatusCode, loc)
	}
	return loc.String()
}

func TestReplayedCallbackFails(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	cb := e.callbackURL(b, "alice", "alice-pw")
	resp, err := b.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || e.sessionCookie(b) == "" {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	resp, err = b.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || e.count(`SELECT count(*) FROM staff_sessions`) != 1 {
		t.Fatalf("replayed callback: %d", resp.StatusCode)
	}
}

// A callback URL only works in the browser that started the sign-in.
func TestCallbackBoundToBrowser(t *testing.T) {
	e := newEnv(t, nil)
	cb := e.callbackURL(e.browser(), "alice", "alice-pw")
	other := e.browser()
	if resp, err := other.Get(e.appURL + "/auth/login"); err == nil { // give it a login cookie of its own
		resp.Body.Close()
	}
	resp, err := other.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || e.count(`SELECT count(*) FROM staff_sessions`) != 0 {
		t.Fatalf("callback in another browser: %d", resp.StatusCode)
	}
}

func TestProviderErrorOnCallback(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser()
	cb, _ := url.Parse(e.callbackURL(b, "alice", "alice-pw"))
	q := cb.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	q.Set("error_description", "<script>secret</script>")
	cb.RawQuery = q.Encode()
	resp, err := b.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || contains(string(body), "script") || contains(string(body), "access_denied") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if a := e.lastAudit(); a.outcome != "failure" || a.detail["reason"] != "provider_error" {
		t.Fatalf("audit %+v", a)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginPerMinute, c.LoginBurst = 1, 2 })
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var codes []int
	for range 3 {
		resp, err := noFollow.Get(e.appURL + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if !slices.Equal(codes, []int{http.StatusSeeOther, http.StatusSeeOther, http.StatusTooManyRequests}) {
		t.Fatalf("statuses %v", codes)
	}
}
