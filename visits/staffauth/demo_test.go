package staffauth

import (
	"context"
	"slices"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/visits"
)

// The wiring of `televisit dev`: the demo provider, MFA required.
func TestDemoProvider(t *testing.T) {
	e := newEnvWith(t, func(issuer, appURL string) devoidc.Config {
		return devoidc.DemoConfig(issuer, appURL+"/auth/callback")
	}, func(c *Config) { c.RequireMFA = true })
	actor, err := e.authCookie(e.mustLogin(e.browser(), "clinician2", "demo-clinician2"))
	if err != nil || !actor.Has(visits.RoleClinician) || !slices.Equal(actor.ClinicIDs, e.demoIDs()) {
		t.Fatalf("demo clinician: %+v %v", actor, err)
	}
	api := e.idp.Client(t, "api-admin")
	cc := clientcredentials.Config{ClientID: api.ID, ClientSecret: api.Secret, TokenURL: e.idp.Issuer + "/oauth/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	actor, err = e.authBearer("Bearer " + tok.AccessToken)
	if err != nil || actor.Kind != visits.ActorAPIClient || actor.ID != "api-admin" || !actor.Has(visits.RoleAdmin) {
		t.Fatalf("demo service client: %+v %v", actor, err)
	}
}
