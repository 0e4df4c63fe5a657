package staffauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits"
)

const (
	webClient = "televisit-web"
	webSecret = "web-secret"
)

// env is staffauth on a real PostgreSQL database, signing in against a
// real devoidc provider over HTTP, mounted in a test application server.
type env struct {
	t       *testing.T
	pool    *pgxpool.Pool
	idp     *devoidctest.Server
	auth    *Auth
	app     *httptest.Server
	appURL  string
	clock   *clock
	demo    uuid.UUID // clinic "demo-clinic"
	north   uuid.UUID // clinic "north"
	cfgUsed Config
}

// clock is the injectable time source; safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func idpConfig(issuer, appURL string) devoidc.Config {
	return devoidc.Config{Issuer: issuer,
		Users: []devoidc.User{
			{Subject: "alice-sub", Username: "alice", Password: "alice-pw", Name: "Alice Example",
				Email: "alice@clinic.test", Roles: []string{"clinician", "nurse"}, Clinics: []string{"demo-clinic", "nowhere"}, MFA: true},
			{Subject: "bob-sub", Username: "bob", Password: "bob-pw", Name: "Bob Example",
				Roles: []string{"scheduler"}, Clinics: []string{"north"}},
		},
		Clients: []devoidc.Client{
			{ID: webClient, Secret: webSecret, RedirectURIs: []string{appURL + "/auth/callback"},
				PostLogoutRedirectURIs: []string{appURL + "/"}},
			{ID: "api-sched", Secret: "api-sched-secret", Credentials: true, Roles: []string{"scheduler", "superuser"},
				Clinics: []string{"north"}, Audience: []string{webClient}},
			{ID: "api-other", Secret: "api-other-secret", Credentials: true, Roles: []string{"admin"}},
		},
	}
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	return newEnvWith(t, idpConfig, mutate)
}

// newEnvWith runs the provider that idp configures for the issuer and the
// application's URL.
func newEnvWith(t *testing.T, idp func(issuer, appURL string) devoidc.Config, mutate func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, pool: pgtest.NewDB(t), clock: &clock{t: time.Now()}}
	e.demo, e.north = e.clinic("demo-clinic"), e.clinic("north")
	e.app = httptest.NewUnstartedServer(nil)
	e.appURL = "http://" + e.app.Listener.Addr().String()
	e.idp = devoidctest.Start(t, func(issuer string) devoidc.Config { return idp(issuer, e.appURL) })
	cfg := Config{Issuer: e.idp.Issuer, ClientID: webClient, ClientSecret: e.idp.Client(t, webClient).Secret,
		RedirectURL: e.appURL + "/auth/callback", PostLogoutRedirectURL: e.appURL + "/"}
	if mutate != nil {
		mutate(&cfg)
	}
	var err error
	e.auth, err = New(ctx, cfg, e.pool, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("staffauth.New: %v", err)
	}
	e.auth.now = e.clock.Now
	e.cfgUsed = e.auth.cfg
	mux := http.NewServeMux()
	e.auth.Register(mux)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app page") })
	e.app.Config.Handler = mux
	e.app.Start()
	t.Cleanup(e.app.Close)
	return e
}

func (e *env) clinic(slug string) uuid.UUID {
	var id uuid.UUID
	err := e.pool.QueryRow(context.Background(), `INSERT INTO clinics (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// browser is a cookie-keeping HTTP client, like a browser profile.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// login signs username in from the app's /auth/login and returns the
// final response (the page return_to names) with its body read.
func (e *env) login(b *http.Client, username, password, returnTo string) (*http.Response, string) {
	e.t.Helper()
	start := e.appURL + "/auth/login?return_to=" + url.QueryEscape(returnTo)
	resp, err := devoidctest.Login(context.Background(), b, start, username, password)
	if err != nil {
		e.t.Fatalf("login %s: %v", username, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// mustLogin signs username in and returns the session cookie value.
func (e *env) mustLogin(b *http.Client, username, password string) string {
	e.t.Helper()
	resp, body := e.login(b, username, password, "/")
	if resp.StatusCode != http.StatusOK || body != "app page" {
		e.t.Fatalf("login %s: status %d body %q", username, resp.StatusCode, body)
	}
	return e.sessionCookie(b)
}

func (e *env) sessionCookie(b *http.Client) string {
	u, _ := url.Parse(e.appURL)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == e.cfgUsed.CookieName {
			return c.Value
		}
	}
	return ""
}

// authCookie authenticates a request carrying the session cookie.
func (e *env) authCookie(token string) (visits.Actor, error) {
	r := httptest.NewRequest(http.MethodGet, e.appURL+"/api", nil)
	r.AddCookie(&http.Cookie{Name: e.cfgUsed.CookieName, Value: token})
	return e.auth.Authenticate(r)
}

// authBearer authenticates a request carrying an Authorization header.
func (e *env) authBearer(header string) (visits.Actor, error) {
	r := httptest.NewRequest(http.MethodGet, e.appURL+"/api", nil)
	r.Header.Set("Authorization", header)
	return e.auth.Authenticate(r)
}

type auditRow struct {
	action, outcome, actorType, actorID string
	detail                              map[string]any
}

func (e *env) audit() []auditRow {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT action, outcome, actor_type, actor_id, detail FROM audit_events ORDER BY seq`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.action, &a.outcome, &a.actorType, &a.actorID, &a.detail); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func (e *env) lastAudit() auditRow {
	e.t.Helper()
	a := e.audit()
	if len(a) == 0 {
		e.t.Fatal("no audit events")
	}
	return a[len(a)-1]
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
