package config

import "time"

// Config is the whole configuration of `televisit serve`.
type Config struct {
	Server   Server   `yaml:"server"`
	Database Database `yaml:"database"`
	Keys     Keys     `yaml:"keys"`
	Auth     Auth     `yaml:"auth"`
	Visits   Visits   `yaml:"visits"`
	Notify   Notify   `yaml:"notify"`
	Log      Log      `yaml:"log"`
}

// Server is the HTTP listener.
type Server struct {
	// Addr is host:port to listen on. Default ":8443" with TLS,
	// "127.0.0.1:8080" without.
	Addr string `yaml:"addr"`
	// PublicURL is the origin patients and staff use, e.g.
	// https://visits.example.org. Required.
	PublicURL   string `yaml:"public_url"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// AllowedOrigins may open WebSockets; default: the origin of PublicURL.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// TrustedProxies (IPs or CIDRs) may set X-Forwarded-For.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Database is PostgreSQL.
type Database struct {
	URL     Secret `yaml:"url"` // may hold a password
	URLFile string `yaml:"url_file"`
	// Migrate applies migrations at start (also: serve --migrate).
	Migrate bool `yaml:"migrate"`
}

// Keys are the encryption keys.
type Keys struct {
	// PHI is the sealbox key ring "id:base64key[,id:base64key...]"; the
	// first key seals. Required.
	PHI     Secret `yaml:"phi"`
	PHIFile string `yaml:"phi_file"`
}

// Auth is staff sign-in through an OpenID Connect provider.
type Auth struct {
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     Secret `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	RedirectURL      string `yaml:"redirect_url"` // default PublicURL + /auth/callback
	// PostLogoutRedirectURL is sent to the provider's end_session endpoint
	// after logout; it must be registered there. Optional.
	PostLogoutRedirectURL string        `yaml:"post_logout_redirect_url"`
	RolesClaim            string        `yaml:"roles_claim"`
	ClinicsClaim          string        `yaml:"clinics_claim"`
	RequireMFA            bool          `yaml:"require_mfa"` // default true
	IdleTimeout           time.Duration `yaml:"idle_timeout"`
	AbsoluteTimeout       time.Duration `yaml:"absolute_timeout"`
	APIAudience           string        `yaml:"api_audience"`
}

// Visits tunes patient links and sessions; zero values take the visits
// package's defaults.
type Visits struct {
	LinkGrace         time.Duration `yaml:"link_grace"`
	PatientSessionTTL time.Duration `yaml:"patient_session_ttl"`
	MaxCheckAttempts  int           `yaml:"max_check_attempts"`
}

// Notify is how links reach patients. A channel without a sender fails its
// messages.
type Notify struct {
	SMTP    SMTP    `yaml:"smtp"`
	Webhook Webhook `yaml:"webhook"`
}

// SMTP sends e-mail.
type SMTP struct {
	Addr         string `yaml:"addr"`
	From         string `yaml:"from"`
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	StartTLS     bool   `yaml:"starttls"` // default true
}

// Webhook sends SMS through a gateway.
type Webhook struct {
	URL        string `yaml:"url"`
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// Log is the process log.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error; default info
}

// Defaults returns the configuration before the file and the environment
// are applied.
func Defaults() Config {
	return Config{
		Auth:   Auth{RequireMFA: true},
		Notify: Notify{SMTP: SMTP{StartTLS: true}},
		Log:    Log{Level: "info"},
	}
}

// Enabled reports whether e-mail is configured.
func (s SMTP) Enabled() bool { return s.Addr != "" }

// Enabled reports whether the SMS webhook is configured.
func (w Webhook) Enabled() bool { return w.URL != "" }

// TLS reports whether the server terminates TLS itself.
func (s Server) TLS() bool { return s.TLSCertFile != "" || s.TLSKeyFile != "" }
