package devoidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
)

const redirectURL = "http://127.0.0.1:1/auth/callback" // never dialled: the client stops there

// rp is a relying party: the test side of a sign-in.
type rp struct {
	srv      *devoidctest.Server
	provider *oidc.Provider
	oauth    oauth2.Config
	http     *http.Client
}

func newRP(t *testing.T) *rp {
	t.Helper()
	srv := devoidctest.StartDemo(t, redirectURL)
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, srv.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	web := srv.Client(t, devoidc.DemoWebClient)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: stopAt("http://127.0.0.1:1/")}
	return &rp{srv: srv, provider: p, http: hc, oauth: oauth2.Config{
		ClientID: web.ID, ClientSecret: web.Secret, RedirectURL: redirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}}
}

// stopAt makes a client stop following redirects at the client's redirect URI.
func stopAt(prefix string) func(*http.Request, []*http.Request) error {
	return func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), prefix) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// login signs username in and returns the redirect back to the client.
func (c *rp) login(t *testing.T, username, password, state, nonce, verifier string) *url.URL {
	t.Helper()
	authURL := c.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	resp, err := devoidctest.Login(context.Background(), c.http, authURL, username, password)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirectURL) {
		t.Fatalf("login: status %d, location %v", resp.StatusCode, loc)
	}
	return loc
}

func TestAuthCodeFlowWithPKCE(t *testing.T) {
	c := newRP(t)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	back := c.login(t, "clinician", "demo-clinician", "state-1", "nonce-1", verifier)
	if back.Query().Get("state") != "state-1" || back.Query().Get("code") == "" {
		t.Fatalf("callback query %v", back.Query())
	}
	tok, err := c.oauth.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: c.oauth.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	var claims struct {
		AMR     []string `json:"amr"`
		Name    string   `json:"name"`
		Email   string   `json:"email"`
		Roles   []string `json:"roles"`
		Clinics []string `json:"clinics"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "nonce-1" || idt.Subject != "demo-clinician" || claims.Name == "" || claims.Email == "" ||
		!slices.Contains(claims.AMR, "mfa") || !slices.Equal(claims.Roles, []string{"clinician"}) ||
		!slices.Equal(claims.Clinics, []string{devoidc.DemoClinic}) {
		t.Fatalf("id token claims: nonce %q sub %q %+v", idt.Nonce, idt.Subject, claims)
	}
	checkAccessToken(t, c, tok.AccessToken)
}

func checkAccessToken(t *testing.T, c *rp, raw string) {
	t.Helper()
	ctx := context.Background()
	at, err := c.provider.Verifier(&oidc.Config{ClientID: c.oauth.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("access token is not a JWT verifiable against the JWKS: %v", err)
	}
	var claims struct {
		Roles    []string `json:"roles"`
		ClientID string   `json:"client_id"`
	}
	if err := at.Claims(&claims); err != nil || !slices.Equal(claims.Roles, []string{"clinician"}) ||
		claims.ClientID != c.oauth.ClientID {
		t.Fatalf("access token claims %+v, %v", claims, err)
	}
	ui, err := c.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: raw}))
	if err != nil || ui.Subject != "demo-clinician" || ui.Email == "" {
		t.Fatalf("userinfo %+v, %v", ui, err)
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	c := newRP(t)
	verifier := oauth2.GenerateVerifier()
	code := c.login(t, "admin", "demo-admin", "s", "n", verifier).Query().Get("code")
	if _, err := c.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err := c.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if !isOAuthError(err, "invalid_grant") {
		t.Fatalf("replayed code: %v", err)
	}
}

func TestWrongVerifierBurnsCode(t *testing.T) {
	c := newRP(t)
	verifier := oauth2.GenerateVerifier()
	code := c.login(t, "admin", "demo-admin", "s", "n", verifier).Query().Get("code")
	_, err := c.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if !isOAuthError(err, "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
	if _, err := c.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code still works after a failed exchange")
	}
}

func TestWrongClientSecret(t *testing.T) {
	c := newRP(t)
	verifier := oauth2.GenerateVerifier()
	code := c.login(t, "admin", "demo-admin", "s", "n", verifier).Query().Get("code")
	c.oauth.ClientSecret = "wrong"
	if _, err := c.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("exchange with a wrong client secret succeeded")
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func TestPKCERequired(t *testing.T) {
	c := newRP(t)
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"none":  nil,
		"plain": {oauth2.SetAuthURLParam("code_challenge", "abcdefghijabcdefghijabcdefghijabcdefghij123"), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		resp, err := c.http.Get(c.oauth.AuthCodeURL("s", opts...))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" {
			t.Errorf("%s: status %d location %v, want an invalid_request redirect", name, resp.StatusCode, loc)
		}
	}
}

// The provider's callback (login page -> code) issues one code only.
func TestAuthorizeCallbackSingleUse(t *testing.T) {
	c := newRP(t)
	authURL := c.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := devoidctest.Login(context.Background(), c.http, authURL, "admin", "demo-admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	opCallback := resp.Request.URL.String()
	if !strings.Contains(opCallback, "/oidc/authorize/callback") {
		t.Fatalf("last hop %s", opCallback)
	}
	again, err := c.http.Get(opCallback)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if loc, _ := again.Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatal("a second code was issued")
	}
}
