package devoidc

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
)

// Demo identifiers, used by `televisit dev` and tests.
const (
	DemoClinic    = "demo-clinic"
	DemoWebClient = "televisit-web"
)

// DemoConfig is the provider `televisit dev` runs: four staff users in
// clinic "demo-clinic" (scheduler, clinician, clinician2, admin; password
// "demo-" + username; all with MFA), the confidential web client
// "televisit-web" redirecting to redirectURL, and one client_credentials
// client per role ("api-scheduler", "api-clinician", "api-admin") whose
// tokens are addressed to "televisit-web". Client secrets are random; read
// them from the returned Config.
func DemoConfig(issuer string, redirectURL string) Config {
	return Config{
		Issuer: issuer,
		Users: []User{
			demoUser("scheduler", "Sam Scheduler", "scheduler"),
			demoUser("clinician", "Dr. Casey Clinician", "clinician"),
			demoUser("clinician2", "Dr. Jordan Clinician", "clinician"),
			demoUser("admin", "Alex Admin", "admin"),
		},
		Clients: []Client{
			{
				ID:                     DemoWebClient,
				Secret:                 RandomSecret(),
				RedirectURIs:           []string{redirectURL},
				PostLogoutRedirectURIs: nonEmpty(originRoot(redirectURL)),
			},
			demoServiceClient("scheduler"),
			demoServiceClient("clinician"),
			demoServiceClient("admin"),
		},
	}
}

func demoUser(username, name, role string) User {
	return User{
		Subject:  "demo-" + username,
		Username: username,
		Password: "demo-" + username,
		Name:     name,
		Email:    username + "@demo-clinic.invalid",
		Roles:    []string{role},
		Clinics:  []string{DemoClinic},
		MFA:      true,
	}
}

func demoServiceClient(role string) Client {
	return Client{
		ID:          "api-" + role,
		Secret:      RandomSecret(),
		Credentials: true,
		Roles:       []string{role},
		Clinics:     []string{DemoClinic},
		Audience:    []string{DemoWebClient},
	}
}

// originRoot is scheme://host/ of u, or "" when u is not absolute.
func originRoot(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() {
		return ""
	}
	return p.Scheme + "://" + p.Host + "/"
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// RandomSecret returns 32 random bytes, base64url without padding.
func RandomSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
