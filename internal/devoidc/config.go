package devoidc

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// User is a person who can sign in on the login page.
type User struct {
	Subject  string // the "sub" claim; defaults to Username
	Username string
	Password string
	Name     string
	Email    string
	Roles    []string
	Clinics  []string // clinic slugs
	// MFA makes "amr" ["pwd","otp","mfa"]; without it "amr" is ["pwd"].
	MFA bool
}

// Client is a relying party. A web client (Credentials false) uses the
// authorization code flow with PKCE S256 and a client secret; a service
// client (Credentials true) uses the client_credentials grant only.
type Client struct {
	ID                     string
	Secret                 string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Credentials            bool     // client_credentials service client (API use)
	Roles                  []string // put in its access tokens (service clients)
	Clinics                []string // clinic slugs put in its access tokens (service clients)
	// Audience lists extra "aud" values for the access tokens of a service
	// client, besides its own id: the API the tokens are meant for.
	Audience []string
}

// Config configures the provider.
type Config struct {
	// Issuer, e.g. http://127.0.0.1:8080/oidc. It may carry a path; the
	// handler then serves under that path.
	Issuer  string
	Users   []User
	Clients []Client
	// RolesClaim names the claim holding roles. Default "roles".
	RolesClaim string
	// ClinicsClaim names the claim holding clinic slugs. Default "clinics".
	ClinicsClaim string
	// AccessTokenTTL is the lifetime of access tokens. Default 15m.
	AccessTokenTTL time.Duration
}

func (c *Config) validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return errors.New("devoidc: Issuer must be an absolute http(s) URL without query or fragment")
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.RolesClaim == "" {
		c.RolesClaim = "roles"
	}
	if c.ClinicsClaim == "" {
		c.ClinicsClaim = "clinics"
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = 15 * time.Minute
	}
	if c.AccessTokenTTL < time.Second || c.AccessTokenTTL > 24*time.Hour {
		return errors.New("devoidc: AccessTokenTTL must be between 1s and 24h")
	}
	if c.RolesClaim == c.ClinicsClaim {
		return errors.New("devoidc: RolesClaim and ClinicsClaim must differ")
	}
	seen := map[string]string{} // subject or client id -> what
	if err := c.validateUsers(seen); err != nil {
		return err
	}
	return c.validateClients(seen)
}

func (c *Config) validateUsers(seen map[string]string) error {
	names := map[string]bool{}
	for i := range c.Users {
		u := &c.Users[i]
		if u.Username == "" || u.Password == "" {
			return fmt.Errorf("devoidc: user %d: Username and Password are required", i)
		}
		if u.Subject == "" {
			u.Subject = u.Username
		}
		if names[u.Username] || seen[u.Subject] != "" {
			return fmt.Errorf("devoidc: user %q: duplicate username or subject", u.Username)
		}
		names[u.Username] = true
		seen[u.Subject] = "user"
	}
	return nil
}

func (c *Config) validateClients(seen map[string]string) error {
	for i := range c.Clients {
		cl := &c.Clients[i]
		if cl.ID == "" || cl.Secret == "" {
			return fmt.Errorf("devoidc: client %d: ID and Secret are required", i)
		}
		if seen[cl.ID] != "" {
			return fmt.Errorf("devoidc: client %q: id used twice (or as a user subject)", cl.ID)
		}
		seen[cl.ID] = "client"
		if !cl.Credentials && len(cl.RedirectURIs) == 0 {
			return fmt.Errorf("devoidc: client %q: a web client needs RedirectURIs", cl.ID)
		}
		for _, r := range append(append([]string{}, cl.RedirectURIs...), cl.PostLogoutRedirectURIs...) {
			if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" {
				return fmt.Errorf("devoidc: client %q: redirect URIs must be absolute URLs", cl.ID)
			}
		}
	}
	return nil
}
