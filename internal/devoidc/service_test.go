package devoidc_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
)

func TestClientCredentials(t *testing.T) {
	c := newRP(t)
	ctx := context.Background()
	api := c.srv.Client(t, "api-scheduler")
	cc := clientcredentials.Config{ClientID: api.ID, ClientSecret: api.Secret, TokenURL: c.provider.Endpoint().TokenURL}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	at, err := c.provider.Verifier(&oidc.Config{ClientID: devoidc.DemoWebClient}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify service token for the API audience: %v", err)
	}
	var claims struct {
		Roles   []string `json:"roles"`
		Clinics []string `json:"clinics"`
	}
	if err := at.Claims(&claims); err != nil || at.Subject != api.ID || !slices.Contains(at.Audience, api.ID) ||
		!slices.Equal(claims.Roles, []string{"scheduler"}) || !slices.Equal(claims.Clinics, []string{devoidc.DemoClinic}) {
		t.Fatalf("service token: sub %q aud %v claims %+v %v", at.Subject, at.Audience, claims, err)
	}
	cc.ClientSecret = "wrong"
	if _, err := cc.Token(ctx); err == nil {
		t.Fatal("wrong secret accepted")
	}
	web := c.srv.Client(t, devoidc.DemoWebClient)
	webcc := clientcredentials.Config{ClientID: web.ID, ClientSecret: web.Secret, TokenURL: c.provider.Endpoint().TokenURL}
	if _, err := webcc.Token(ctx); err == nil {
		t.Fatal("web client got a client_credentials token")
	}
}

func TestWrongPasswordShowsFormAgain(t *testing.T) {
	c := newRP(t)
	authURL := c.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := devoidctest.Login(context.Background(), c.http, authURL, "clinician", "not-the-password")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Wrong username or password") ||
		!strings.Contains(string(body), `<label for="password">`) {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "not-the-password") {
		t.Fatal("the login page echoes the password")
	}
	// The same request still signs in with the right password.
	resp2, err := devoidctest.Login(context.Background(), c.http, authURL, "clinician", "demo-clinician")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusFound {
		t.Fatalf("after a wrong password: status %d", resp2.StatusCode)
	}
}

func TestLoginPageRejectsUnknownRequest(t *testing.T) {
	c := newRP(t)
	for _, u := range []string{"/oidc/login", "/oidc/login?id=nope"} {
		resp, err := c.http.Get(c.srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", u, resp.StatusCode)
		}
	}
	resp, err := c.http.PostForm(c.srv.URL+"/oidc/login", url.Values{"id": {"nope"}, "username": {"admin"}, "password": {"demo-admin"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST with unknown id: status %d", resp.StatusCode)
	}
}

func TestDiscoveryAndEndSession(t *testing.T) {
	c := newRP(t)
	var disc struct {
		EndSession string   `json:"end_session_endpoint"`
		JWKS       string   `json:"jwks_uri"`
		PKCE       []string `json:"code_challenge_methods_supported"`
		Grants     []string `json:"grant_types_supported"`
	}
	if err := c.provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.EndSession != c.srv.Issuer+"/end_session" || disc.JWKS != c.srv.Issuer+"/keys" ||
		!slices.Contains(disc.PKCE, "S256") || !slices.Contains(disc.Grants, "client_credentials") {
		t.Fatalf("discovery %+v", disc)
	}
	back := url.Values{"client_id": {devoidc.DemoWebClient}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}}
	resp, err := c.http.Get(disc.EndSession + "?" + back.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.String() != "http://127.0.0.1:1/" {
		t.Fatalf("end_session: %d %v", resp.StatusCode, loc)
	}
	back.Set("post_logout_redirect_uri", "https://evil.example/")
	resp, err = c.http.Get(disc.EndSession + "?" + back.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Fatal("end_session redirected to an unregistered URI")
	}
	resp, err = c.http.Get(disc.EndSession) // no client: the signed-out page
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "signed out") {
		t.Fatalf("end_session without client: %d %s", resp.StatusCode, body)
	}
}
