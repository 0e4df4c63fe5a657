package staffauth

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/visits"
)

func (e *env) serviceToken(id string) string {
	e.t.Helper()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: id + "-secret", TokenURL: e.idp.Issuer + "/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatalf("client credentials %s: %v", id, err)
	}
	return tok.AccessToken
}

// userTokens signs username in at the provider as the web client, without
// the app, and returns the access and ID tokens.
func (e *env) userTokens(username, password string) (access, id string) {
	e.t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, e.idp.Issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: webClient, ClientSecret: webSecret, RedirectURL: e.appURL + "/auth/callback",
		Endpoint: p.Endpoint(), Scopes: []string{"openid", "profile"}}
	verifier := oauth2.GenerateVerifier()
	b := e.browser()
	b.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	authURL := oc.AuthCodeURL("st", oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier))
	resp, err := devoidctest.Login(ctx, b, authURL, username, password)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	tok, err := oc.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken, tok.Extra("id_token").(string)
}

func TestBearerClientCredentials(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.serviceToken("api-sched")
	actor, err := e.authBearer("Bearer " + tok)
	if err != nil {
		t.Fatalf("service token: %v", err)
	}
	if actor.Kind != visits.ActorAPIClient || actor.ID != "api-sched" || actor.StaffID == (uuid.Nil) ||
		!slices.Equal(actor.Roles, []visits.Role{visits.RoleScheduler}) || !slices.Equal(actor.ClinicIDs, []uuid.UUID{e.north}) {
		t.Fatalf("actor %+v", actor)
	}
	if e.count(`SELECT count(*) FROM staff WHERE subject = 'api-sched' AND id = $1 AND roles = '{scheduler}'`, actor.StaffID) != 1 {
		t.Fatal("no staff row for the service client")
	}
	// Cached: a second token maps to the same row without writing.
	if _, err := e.pool.Exec(context.Background(), `UPDATE staff SET display_name = 'renamed'`); err != nil {
		t.Fatal(err)
	}
	again, err := e.authBearer("bearer " + e.serviceToken("api-sched"))
	if err != nil || again.StaffID != actor.StaffID {
		t.Fatalf("second token: %+v %v", again, err)
	}
	if e.count(`SELECT count(*) FROM staff WHERE display_name = 'renamed'`) != 1 {
		t.Fatal("cache miss: the staff row was written again")
	}
	exp, err := e.auth.SessionExpiry(context.Background(), actor)
	if err != nil || exp.Before(time.Now().Add(10*time.Minute)) {
		t.Fatalf("expiry of a bearer actor: %v %v", exp, err)
	}
}

func TestBearerRejected(t *testing.T) {
	e := newEnv(t, nil)
	good := e.serviceToken("api-sched")
	_, idToken := e.userTokens("alice", "alice-pw")
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for name, h := range map[string]string{
		"wrong audience": "Bearer " + e.serviceToken("api-other"),
		"garbage":        "Bearer not-a-jwt",
		"empty":          "Bearer ",
		"tampered":       "Bearer " + tampered,
		"basic":          "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
		"id token":       "Bearer " + idToken,
		"two tokens":     "Bearer " + good + " " + good,
		"huge":           "Bearer " + strings.Repeat("a", 10000),
	} {
		_, err := e.authBearer(h)
		if err != visits.ErrUnauthorized {
			t.Errorf("%s: %v", name, err)
		}
	}
	e.clock.Advance(16 * time.Minute) // past the 15-minute token lifetime
	_, err := e.authBearer("Bearer " + good)
	wantErr(t, err, visits.ErrUnauthorized)
}

// A user's access token acts as that staff member (same row as their
// interactive sign-in), under the same MFA rule.
func TestBearerUserToken(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RequireMFA = true })
	token := e.mustLogin(e.browser(), "alice", "alice-pw")
	session, err := e.authCookie(token)
	if err != nil {
		t.Fatal(err)
	}
	access, _ := e.userTokens("alice", "alice-pw")
	actor, err := e.authBearer("Bearer " + access)
	if err != nil {
		t.Fatal(err)
	}
	if actor.Kind != visits.ActorStaff || actor.StaffID != session.StaffID || actor.ID != session.StaffID.String() ||
		!slices.Equal(actor.Roles, []visits.Role{visits.RoleClinician}) || !slices.Equal(actor.ClinicIDs, []uuid.UUID{e.demo}) {
		t.Fatalf("user bearer actor %+v, session actor %+v", actor, session)
	}
	bobAccess, _ := e.userTokens("bob", "bob-pw")
	_, err = e.authBearer("Bearer " + bobAccess)
	wantErr(t, err, visits.ErrMFARequired)
}
