package staffauth

import (
	"errors"
	"net/url"
	"slices"
	"time"
)

// Config configures staff sign-in.
type Config struct {
	Issuer       string // the provider's issuer URL, discovered at New
	ClientID     string
	ClientSecret string
	RedirectURL  string // e.g. https://host/auth/callback, registered at the provider
	// PostLogoutRedirectURL, when set, is sent with client_id to the
	// provider's end_session endpoint after logout; it must be registered
	// there. Optional.
	PostLogoutRedirectURL string

	Scopes       []string // default openid profile email; openid is always asked
	RolesClaim   string   // default "roles"
	ClinicsClaim string   // default "clinics"

	// RequireMFA rejects an ID token (or a user's access token) whose "amr"
	// has none of MFAMethods.
	RequireMFA bool
	MFAMethods []string // default mfa otp hwk swk sms fpt face

	IdleTimeout     time.Duration // default 15m
	AbsoluteTimeout time.Duration // default 12h
	APIAudience     string        // expected "aud" of bearer tokens; default ClientID

	CookieSecure bool   // false only in development over http://127.0.0.1
	CookieName   string // default "tv_staff"

	// LoginPerMinute and LoginBurst limit /auth/login and /auth/callback
	// per client IP. Defaults 10 and 20.
	LoginPerMinute int
	LoginBurst     int
}

var defaultMFAMethods = []string{"mfa", "otp", "hwk", "swk", "sms", "fpt", "face"}

func (c *Config) validate() error {
	if c.Issuer == "" || c.ClientID == "" || c.ClientSecret == "" {
		return errors.New("staffauth: Issuer, ClientID and ClientSecret are required")
	}
	if !absoluteHTTP(c.RedirectURL) {
		return errors.New("staffauth: RedirectURL must be an absolute http(s) URL")
	}
	if c.PostLogoutRedirectURL != "" && !absoluteHTTP(c.PostLogoutRedirectURL) {
		return errors.New("staffauth: PostLogoutRedirectURL must be an absolute http(s) URL")
	}
	c.setDefaults()
	if c.IdleTimeout < time.Minute || c.AbsoluteTimeout < c.IdleTimeout || c.AbsoluteTimeout > 7*24*time.Hour {
		return errors.New("staffauth: need 1m <= IdleTimeout <= AbsoluteTimeout <= 7 days")
	}
	if c.LoginPerMinute < 1 || c.LoginBurst < 1 {
		return errors.New("staffauth: LoginPerMinute and LoginBurst must be positive")
	}
	if !validCookieName(c.CookieName) {
		return errors.New("staffauth: CookieName must be a plain token")
	}
	return nil
}

func (c *Config) setDefaults() {
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	c.RolesClaim = orDefault(c.RolesClaim, "roles")
	c.ClinicsClaim = orDefault(c.ClinicsClaim, "clinics")
	if len(c.MFAMethods) == 0 {
		c.MFAMethods = slices.Clone(defaultMFAMethods)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	c.APIAudience = orDefault(c.APIAudience, c.ClientID)
	c.CookieName = orDefault(c.CookieName, "tv_staff")
	if c.LoginPerMinute == 0 {
		c.LoginPerMinute = 10
	}
	if c.LoginBurst == 0 {
		c.LoginBurst = 20
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r == '_' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}
