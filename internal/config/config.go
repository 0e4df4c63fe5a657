package config

import "time"

// Config is the whole configuration of `televisit serve`.
type Config struct {
	Server    Server    `yaml:"server"`
	Database  Database  `yaml:"database"`
	Keys      Keys      `yaml:"keys"`
	Auth      Auth      `yaml:"auth"`
	Visits    Visits    `yaml:"visits"`
	Notify    Notify    `yaml:"notify"`
	Media     Media     `yaml:"media"`
	TURN      TURN      `yaml:"turn"`
	EHR       EHR       `yaml:"ehr"`
	Recording Recording `yaml:"recording"`
	Cluster   Cluster   `yaml:"cluster"`
	Log       Log       `yaml:"log"`
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
	// MetricsAddr is host:port of a separate listener serving Prometheus
	// metrics at /metrics. Empty (the default) serves no metrics; they are
	// never served on the public listener.
	MetricsAddr string `yaml:"metrics_addr"`
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

// Media is the SFU's network: ICE for every participant over one UDP port.
type Media struct {
	// UDPPort carries all participants' media (ICE UDP mux). Default 50000;
	// 0 picks a free port (development and tests only: a firewall cannot
	// be opened for it).
	UDPPort int `yaml:"udp_port"`
	// TCPPort, when set, also accepts ICE over TCP (for networks that block
	// UDP and have no TURN).
	TCPPort int `yaml:"tcp_port"`
	// PublicIPs are the addresses clients reach this node on when it sits
	// behind a 1:1 NAT (cloud instances).
	PublicIPs []string `yaml:"public_ips"`
	// IncludeLoopback offers loopback candidates (single-machine setups).
	IncludeLoopback bool `yaml:"include_loopback"`
	// MaxParticipants is the largest room. Default 8.
	MaxParticipants int `yaml:"max_participants"`
	// ResumeGrace keeps a dropped participant's place for a reconnect.
	// Default 30s.
	ResumeGrace time.Duration `yaml:"resume_grace"`
}

// TURN is the relay handed to clients behind restrictive networks, with
// time-limited credentials from a secret shared with the TURN server
// (coturn use-auth-secret).
type TURN struct {
	URLs       []string      `yaml:"urls"` // e.g. turn:turn.example.org:3478?transport=udp
	Secret     Secret        `yaml:"secret"`
	SecretFile string        `yaml:"secret_file"`
	TTL        time.Duration `yaml:"ttl"` // credential lifetime; default 6h
}

// Enabled reports whether TURN servers are configured.
func (t TURN) Enabled() bool { return len(t.URLs) > 0 }

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
		Media:  Media{UDPPort: 50000},
		Log:    Log{Level: "info"},
	}
}

// Enabled reports whether e-mail is configured.
func (s SMTP) Enabled() bool { return s.Addr != "" }

// Enabled reports whether the SMS webhook is configured.
func (w Webhook) Enabled() bool { return w.URL != "" }

// TLS reports whether the server terminates TLS itself.
func (s Server) TLS() bool { return s.TLSCertFile != "" || s.TLSKeyFile != "" }
