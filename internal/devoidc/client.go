package devoidc

import (
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opClient adapts a Client to op.Client.
type opClient struct {
	c        *Client
	loginURL string // path of the login page, e.g. /oidc/login
}

var _ op.Client = (*opClient)(nil)

func (o *opClient) GetID() string                       { return o.c.ID }
func (o *opClient) RedirectURIs() []string              { return o.c.RedirectURIs }
func (o *opClient) PostLogoutRedirectURIs() []string    { return o.c.PostLogoutRedirectURIs }
func (o *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (o *opClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (o *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (o *opClient) IDTokenLifetime() time.Duration      { return time.Hour }
func (o *opClient) DevMode() bool                       { return false }
func (o *opClient) IsScopeAllowed(string) bool          { return false }
func (o *opClient) ClockSkew() time.Duration            { return 0 }

// IDTokenUserinfoClaimsAssertion puts name and email in the ID token even
// when an access token is issued alongside it.
func (o *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (o *opClient) ResponseTypes() []oidc.ResponseType {
	if o.c.Credentials {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (o *opClient) GrantTypes() []oidc.GrantType {
	if o.c.Credentials {
		return []oidc.GrantType{oidc.GrantTypeClientCredentials}
	}
	return []oidc.GrantType{oidc.GrantTypeCode}
}

func (o *opClient) LoginURL(authRequestID string) string {
	return o.loginURL + "?id=" + url.QueryEscape(authRequestID)
}

func (o *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (o *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
