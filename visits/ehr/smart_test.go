package ehr

import (
	"crypto/elliptic"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/fhirtest"
)

const (
	testClientID = "televisit-test-client"
	testScope    = "system/Encounter.write system/DocumentReference.write system/Provenance.write"
)

// smartSetup serves the JWKS of jwksKey, starts the FHIR server requiring
// SMART tokens that live ttl, and returns a client that signs with signKey
// under the same kid.
func smartSetup(t *testing.T, jwksKey, signKey []byte, ttl time.Duration) (*Client, *SMARTBackend, *fhirtest.Server) {
	t.Helper()
	log, _ := testLogger()
	published, err := NewSMARTBackend(SMARTConfig{ClientID: testClientID, TokenURL: "http://127.0.0.1/unused", KeyPEM: jwksKey, KeyID: "k1", Scope: testScope}, nil, log)
	if err != nil {
		t.Fatalf("NewSMARTBackend (JWKS key): %v", err)
	}
	jwks := httptest.NewServer(published.JWKSHandler())
	t.Cleanup(jwks.Close)
	srv := fhirtest.Start(t, fhirtest.WithSMART(testClientID, jwks.URL, ttl), fhirtest.WithTLS())
	auth, err := NewSMARTBackend(SMARTConfig{ClientID: testClientID, TokenURL: srv.TokenURL, KeyPEM: signKey, KeyID: "k1", Scope: testScope}, srv.HTTPClient(), log)
	if err != nil {
		t.Fatalf("NewSMARTBackend: %v", err)
	}
	c, err := NewClient(Config{BaseURL: srv.BaseURL}, auth, srv.HTTPClient(), log)
	if err != nil {
		t.Fatal(err)
	}
	return c, auth, srv
}

func TestSMARTBackendTokenCachedAndRefreshed(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(*testing.T) []byte
	}{
		{"RS384", func(t *testing.T) []byte { return rsaKeyPEM(t, 2048) }},
		{"ES384", func(t *testing.T) []byte { return ecKeyPEM(t, elliptic.P384()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key(t)
			c, auth, srv := smartSetup(t, key, key, 2*time.Second)
			if string(auth.key.alg) != tc.name {
				t.Fatalf("algorithm %s, want %s", auth.key.alg, tc.name)
			}
			ctx := testContext(t)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 { // concurrent first calls share one token request
				wg.Go(func() {
					_, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "v")
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("search with SMART token: %v", err)
				}
			}
			if n := srv.TokensIssued(); n != 1 {
				t.Fatalf("tokens issued for 8 calls = %d, want 1 (cached)", n)
			}
			time.Sleep(1100 * time.Millisecond) // 2 s token, replaced after half its life
			if _, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "v"); err != nil {
				t.Fatalf("search after expiry: %v", err)
			}
			if n := srv.TokensIssued(); n != 2 {
				t.Fatalf("tokens issued after expiry = %d, want 2 (refreshed)", n)
			}
		})
	}
}

func TestSMARTBackendWrongKeyRejected(t *testing.T) {
	c, _, srv := smartSetup(t, ecKeyPEM(t, elliptic.P384()), ecKeyPEM(t, elliptic.P384()), time.Minute)
	ctx := testContext(t)
	_, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "v")
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *AuthError", err, err)
	}
	if ae.Status != http.StatusUnauthorized || ae.Code != "invalid_client" || Retryable(err) {
		t.Fatalf("AuthError %+v retryable %v; want permanent 401 invalid_client", ae, Retryable(err))
	}
	if srv.TokensIssued() != 0 {
		t.Fatal("a token was issued for a wrong key")
	}
}

func mustBearer(t *testing.T, tok string) *BearerToken {
	t.Helper()
	b, err := NewBearerToken(BearerConfig{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBearerTokenSentAsConfigured(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", fhirJSON)
		_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset"}`))
	}))
	defer ts.Close()
	log, _ := testLogger()
	c, err := NewClient(Config{BaseURL: ts.URL}, mustBearer(t, "s3cr3t"), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SearchByIdentifier(testContext(t), "Encounter", visitSystem, "v"); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer s3cr3t" {
		t.Fatalf("Authorization = %q", got)
	}
	for _, bad := range []string{"", "a b", "tok\r\nX-Evil: 1"} {
		if _, err := NewBearerToken(BearerConfig{Token: bad}); err == nil || strings.Contains(err.Error(), "Evil") {
			t.Errorf("NewBearerToken(%q) = %v, want an error naming no value", bad, err)
		}
	}
}

func TestSMARTServerRequiresTokenAndRevokedTokenIsRefetched(t *testing.T) {
	key := ecKeyPEM(t, elliptic.P384())
	c, _, srv := smartSetup(t, key, key, time.Hour)
	ctx := testContext(t)
	log, _ := testLogger()
	for _, auth := range []Authorizer{nil, mustBearer(t, "not-a-token")} {
		plain, err := NewClient(Config{BaseURL: srv.BaseURL}, auth, srv.HTTPClient(), log)
		if err != nil {
			t.Fatal(err)
		}
		_, err = plain.SearchByIdentifier(ctx, "Encounter", visitSystem, "v")
		var oe *OutcomeError
		if !errors.As(err, &oe) || oe.Status != http.StatusUnauthorized || Retryable(err) {
			t.Fatalf("without a valid token: err = %v, want a permanent 401 *OutcomeError", err)
		}
	}

	if _, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "v"); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	if _, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "v"); err != nil {
		t.Fatalf("after the EHR revoked our token: %v (want one retry with a new token)", err)
	}
	if n := srv.TokensIssued(); n != 2 {
		t.Fatalf("tokens issued = %d, want 2", n)
	}
}
