package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/staffauth"
)

const webClient = "televisit-web"

// env is the API over real PostgreSQL, authenticating staff with bearer
// tokens from a real OpenID provider.
type env struct {
	t      *testing.T
	svc    *visits.Service
	srv    *httptest.Server
	north  visits.Clinic
	south  visits.Clinic
	tokens map[string]string       // client id -> access token
	staff  map[string]visits.Actor // client id -> actor as the service sees it
	clin2  uuid.UUID               // a second clinician of north, for hand-off
	api    *API
}

var serviceClients = []devoidc.Client{
	{ID: "api-scheduler", Roles: []string{"scheduler"}, Clinics: []string{"north"}},
	{ID: "api-clinician", Roles: []string{"clinician"}, Clinics: []string{"north"}},
	{ID: "api-clinician-b", Roles: []string{"clinician"}, Clinics: []string{"north"}},
	{ID: "api-clinician-south", Roles: []string{"clinician"}, Clinics: []string{"south"}},
	{ID: "api-admin", Roles: []string{"admin"}},
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	spec, _ := sealbox.GenerateSpec("k1")
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, tokens: map[string]string{}, staff: map[string]visits.Actor{}}
	if e.svc, err = visits.NewService(visits.Config{PublicURL: "https://visits.test"}, pool, keys, log); err != nil {
		t.Fatal(err)
	}
	e.north, _ = e.svc.EnsureClinic(ctx, "north", "North Clinic", "UTC")
	e.south, _ = e.svc.EnsureClinic(ctx, "south", "South Clinic", "UTC")
	idp := devoidctest.Start(t, func(issuer string) devoidc.Config {
		cfg := devoidc.Config{Issuer: issuer, Clients: []devoidc.Client{{ID: webClient, Secret: "web-secret",
			RedirectURIs: []string{"http://127.0.0.1/auth/callback"}}}}
		for _, c := range serviceClients {
			c.Secret, c.Credentials, c.Audience = c.ID+"-secret", true, []string{webClient}
			cfg.Clients = append(cfg.Clients, c)
		}
		return cfg
	})
	auth, err := staffauth.New(ctx, staffauth.Config{Issuer: idp.Issuer, ClientID: webClient, ClientSecret: "web-secret",
		RedirectURL: "http://127.0.0.1/auth/callback"}, pool, log)
	if err != nil {
		t.Fatal(err)
	}
	api, err := New(Config{CheckInPerMinute: 100000, CheckInBurst: 100000}, e.svc, auth, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	e.srv = httptest.NewServer(mux)
	e.api = api
	t.Cleanup(e.srv.Close)
	for _, c := range serviceClients {
		e.tokens[c.ID] = e.token(idp.Issuer, c.ID)
		e.staff[c.ID] = e.actorOf(c.ID)
	}
	e.clin2, err = e.svc.EnsureStaff(ctx, idp.Issuer, "clin2", "Dr Two", []string{"clinician"}, []uuid.UUID{e.north.ID})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) token(issuer, client string) string {
	cc := clientcredentials.Config{ClientID: client, ClientSecret: client + "-secret", TokenURL: issuer + "/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatalf("token for %s: %v", client, err)
	}
	return tok.AccessToken
}

// actorOf asks the API who a client is, so the tests can set up state
// through the service as that staff member.
func (e *env) actorOf(client string) visits.Actor {
	var me Me
	resp := e.do("GET", "/api/v1/me", nil, bearer(e.tokens[client]))
	if resp.StatusCode != 200 {
		e.t.Fatalf("me for %s: %d", client, resp.StatusCode)
	}
	decodeBody(e.t, resp, &me)
	return visits.Actor{Kind: visits.ActorAPIClient, ID: client, StaffID: *me.StaffID, Roles: me.Roles, ClinicIDs: me.ClinicIDs}
}

// cred adds a credential to a request.
type cred func(*http.Request)

func bearer(tok string) cred {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func guestCookie(tok string) cred {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: GuestCookie, Value: tok}) }
}

func patientCookie(tok string) cred {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: PatientCookie, Value: tok}) }
}

func (e *env) do(method, path string, body any, creds ...cred) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, c := range creds {
		c(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode response: %v", err)
	}
}

// visit creates a visit in north (in the pool) with a verified patient and
// brings it to state.
func (e *env) visit(state visits.Status) (visits.Visit, patient) {
	e.t.Helper()
	ctx := context.Background()
	v, err := e.svc.CreateVisit(ctx, e.staff["api-scheduler"], visits.NewVisit{ClinicID: e.north.ID,
		StartsAt: time.Now().Add(5 * time.Minute), DurationMinutes: 30, Reason: "Chest pain follow-up",
		Patient: visits.Patient{Name: "Ada Lovelace", DateOfBirth: "1985-12-10", Email: "ada@example.com"}})
	if err != nil {
		e.t.Fatal(err)
	}
	p := e.patientSession(v.ID)
	if state == visits.StatusScheduled {
		return v, p
	}
	actor, _ := e.svc.AuthenticatePatient(ctx, p.session, "", "")
	if _, err := e.svc.CheckIn(ctx, actor, visits.CheckIn{LocationState: "NY", RecordingConsent: "no",
		DeviceTest: visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "skipped", Network: "good"}}); err != nil {
		e.t.Fatal(err)
	}
	if state == visits.StatusInProgress {
		if _, err := e.svc.Admit(ctx, e.staff["api-clinician"], v.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	v, _ = e.svc.GetVisit(ctx, e.staff["api-clinician"], v.ID)
	return v, p
}

// patient is a patient's link token and session token for one visit.
type patient struct{ link, session string }

func (e *env) patientSession(visit uuid.UUID) patient {
	e.t.Helper()
	ctx := context.Background()
	l, err := e.svc.IssueLink(ctx, e.staff["api-scheduler"], visit, visits.IssueLinkRequest{})
	if err != nil {
		e.t.Fatal(err)
	}
	_, tok, _ := strings.Cut(l.URL, "#")
	ps, err := e.svc.VerifyPatient(ctx, visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous"}, tok, "1985-12-10")
	if err != nil {
		e.t.Fatal(err)
	}
	return patient{link: tok, session: ps.Token}
}

// guest is a guest's id, link token and session token for one visit.
type guest struct {
	id            uuid.UUID
	link, session string
}

// guest invites a guest to a visit (as the clinician who runs the pool
// visits of these tests) and opens their link: the guest is waiting.
func (e *env) guest(visit uuid.UUID) guest {
	e.t.Helper()
	ctx := context.Background()
	l, err := e.svc.InviteGuest(ctx, e.staff["api-clinician"], visit, visits.GuestInvite{DisplayName: "Lena Interpreter", Role: "interpreter"})
	if err != nil {
		e.t.Fatal(err)
	}
	_, tok, _ := strings.Cut(l.URL, "#")
	gs, err := e.svc.StartGuestSession(ctx, visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous"}, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	return guest{id: l.GuestID, link: tok, session: gs.Token}
}
