package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Scope is what a command needs from the configuration.
type Scope int

const (
	// ForServe needs everything `televisit serve` runs.
	ForServe Scope = iota
	// ForDatabase needs only the database (migrate, audit verify).
	ForDatabase
)

// Validate checks the settings scope needs. Every missing required setting
// is named in one error, with its environment variable; other problems
// follow, joined.
func (c *Config) Validate(scope Scope) error {
	var errs []error
	if missing := c.missing(scope); len(missing) > 0 {
		errs = append(errs, fmt.Errorf("config: missing required settings: %s", strings.Join(missing, ", ")))
	}
	errs = append(errs, c.checkLog()...)
	if scope == ForServe {
		errs = append(errs, c.checkServer()...)
		errs = append(errs, c.checkAuth()...)
		errs = append(errs, c.checkVisits()...)
		errs = append(errs, c.checkNotify()...)
		errs = append(errs, c.checkMedia()...)
		errs = append(errs, c.checkEHR()...)
		errs = append(errs, c.checkRecording()...)
		errs = append(errs, c.checkCluster()...)
	}
	return errors.Join(errs...)
}

// missing lists the required settings that are empty, as
// "key (ENV or ENV_FILE)".
func (c *Config) missing(scope Scope) []string {
	type req struct {
		key   string
		empty bool
		file  bool // a *_file variant exists
	}
	reqs := []req{{"database.url", c.Database.URL == "", true}}
	if scope == ForServe {
		reqs = append(reqs,
			req{"server.public_url", c.Server.PublicURL == "", false},
			req{"keys.phi", c.Keys.PHI == "", true},
			req{"auth.issuer", c.Auth.Issuer == "", false},
			req{"auth.client_id", c.Auth.ClientID == "", false},
			req{"auth.client_secret", c.Auth.ClientSecret == "", true},
		)
	}
	var out []string
	for _, r := range reqs {
		if !r.empty {
			continue
		}
		how := EnvName(r.key)
		if r.file {
			how += " or " + EnvName(r.key) + "_FILE"
		}
		out = append(out, fmt.Sprintf("%s (%s)", r.key, how))
	}
	return out
}

func (c *Config) checkLog() []error {
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
		return nil
	}
	return []error{errors.New("config: log.level must be debug, info, warn or error")}
}

func (c *Config) checkServer() []error {
	var errs []error
	s := c.Server
	if s.PublicURL != "" {
		if err := checkPublicURL(s.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		errs = append(errs, errors.New("config: server.addr must be host:port"))
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		errs = append(errs, errors.New("config: server.tls_cert_file and server.tls_key_file go together"))
	}
	if !s.TLS() && s.PublicURL != "" {
		errs = append(errs, checkCleartext(s)...)
	}
	for _, o := range s.AllowedOrigins {
		if origin(o) != o {
			errs = append(errs, fmt.Errorf("config: server.allowed_origins: %q is not an origin (scheme://host[:port])", o))
		}
	}
	for _, p := range s.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("config: server.trusted_proxies: %q is not an IP address or CIDR", p))
		}
	}
	if s.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(s.MetricsAddr); err != nil {
			errs = append(errs, errors.New("config: server.metrics_addr must be host:port"))
		} else if s.MetricsAddr == s.Addr {
			errs = append(errs, errors.New("config: server.metrics_addr must differ from server.addr"))
		}
	}
	return errs
}

// checkPublicURL wants an absolute http(s) origin with no path, query or
// fragment: the routes are served at the root.
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("config: server.public_url must be an http(s) origin such as https://visits.example.org (no path)")
	}
	return nil
}

// checkCleartext allows serving without TLS only on loopback, for a public
// URL on loopback: PHI never crosses a network in clear text.
func checkCleartext(s Server) []error {
	u, _ := url.Parse(s.PublicURL)
	if u == nil || u.Scheme != "http" || !IsLoopbackHost(u.Hostname()) {
		return []error{errors.New("config: TLS is off (server.tls_cert_file, server.tls_key_file) but server.public_url is not http://127.0.0.1 or http://localhost; refusing to serve PHI in clear text")}
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err == nil && !IsLoopbackHost(host) {
		return []error{errors.New("config: TLS is off, so server.addr must be a loopback address such as 127.0.0.1:8080")}
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ParsePrefix reads an IP address or CIDR as a prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func (c *Config) checkAuth() []error {
	var errs []error
	a := c.Auth
	for key, raw := range map[string]string{"auth.issuer": a.Issuer, "auth.redirect_url": a.RedirectURL,
		"auth.post_logout_redirect_url": a.PostLogoutRedirectURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("config: %s must be an absolute http(s) URL", key))
		}
	}
	if a.IdleTimeout < 0 || a.AbsoluteTimeout < 0 {
		errs = append(errs, errors.New("config: auth.idle_timeout and auth.absolute_timeout must not be negative"))
	}
	if a.IdleTimeout > 0 && a.AbsoluteTimeout > 0 && a.IdleTimeout > a.AbsoluteTimeout {
		errs = append(errs, errors.New("config: auth.idle_timeout must not exceed auth.absolute_timeout"))
	}
	return errs
}

func (c *Config) checkVisits() []error {
	v := c.Visits
	if v.LinkGrace < 0 || v.PatientSessionTTL < 0 || v.MaxCheckAttempts < 0 {
		return []error{errors.New("config: visits.link_grace, visits.patient_session_ttl and visits.max_check_attempts must not be negative")}
	}
	return nil
}

func (c *Config) checkNotify() []error {
	var errs []error
	s := c.Notify.SMTP
	if s.Enabled() || s.From != "" || s.Username != "" || s.Password != "" {
		if s.Addr == "" || s.From == "" {
			errs = append(errs, errors.New("config: notify.smtp needs both addr and from"))
		}
	}
	w := c.Notify.Webhook
	if (w.URL == "") != (w.Secret == "") {
		errs = append(errs, errors.New("config: notify.webhook needs both url and secret"))
	}
	return errs
}

func (c *Config) checkMedia() []error {
	var errs []error
	m := c.Media
	if m.UDPPort < 0 || m.UDPPort > 65535 || m.TCPPort < 0 || m.TCPPort > 65535 {
		errs = append(errs, errors.New("config: media.udp_port and media.tcp_port must be 0-65535"))
	}
	for _, ip := range m.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, fmt.Errorf("config: media.public_ips: %q is not an IP address", ip))
		}
	}
	if m.MaxParticipants < 0 || m.ResumeGrace < 0 || c.TURN.TTL < 0 {
		errs = append(errs, errors.New("config: media.max_participants, media.resume_grace and turn.ttl cannot be negative"))
	}
	t := c.TURN
	if t.Enabled() != (t.Secret != "") {
		errs = append(errs, errors.New("config: turn needs both urls and secret"))
	}
	for _, u := range t.URLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") && !strings.HasPrefix(u, "stun:") {
			errs = append(errs, fmt.Errorf("config: turn.urls: %q must start with turn:, turns: or stun:", u))
		}
	}
	return errs
}
