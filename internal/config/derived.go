package config

import (
	"net/url"
	"strings"
)

// fillDerived fills the defaults that depend on other settings.
func (c *Config) fillDerived() {
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	c.Recording = c.Recording.WithDefaults()
	c.Cluster = c.Cluster.WithDefaults()
	if c.Server.Addr == "" {
		c.Server.Addr = "127.0.0.1:8080"
		if c.Server.TLS() {
			c.Server.Addr = ":8443"
		}
	}
	if c.Auth.RedirectURL == "" && c.Server.PublicURL != "" {
		c.Auth.RedirectURL = c.Server.PublicURL + "/auth/callback"
	}
	if len(c.Server.AllowedOrigins) == 0 {
		if o := origin(c.Server.PublicURL); o != "" {
			c.Server.AllowedOrigins = []string{o}
		}
	}
}

// origin is scheme://host[:port] of an absolute URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
