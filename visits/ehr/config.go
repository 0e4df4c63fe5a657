package ehr

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the FHIR R4 base, e.g. https://ehr.example.org/fhir/R4.
	// It must be https, except on a loopback host (tests, a local sidecar).
	BaseURL string
	// Timeout bounds one request, answer included. Default 30 s.
	Timeout time.Duration
	// MaxResponseBytes bounds the body read of one answer. Default 4 MiB.
	MaxResponseBytes int64
}

const (
	defaultTimeout          = 30 * time.Second
	defaultMaxResponseBytes = 4 << 20
)

func (c *Config) withDefaults() Config {
	out := *c
	if out.Timeout == 0 {
		out.Timeout = defaultTimeout
	}
	if out.MaxResponseBytes == 0 {
		out.MaxResponseBytes = defaultMaxResponseBytes
	}
	out.BaseURL = strings.TrimRight(out.BaseURL, "/")
	return out
}

func (c *Config) validate() error {
	if err := validateEndpoint("BaseURL", c.BaseURL); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return &InputError{Field: "Timeout", Reason: "negative"}
	}
	if c.MaxResponseBytes < 0 {
		return &InputError{Field: "MaxResponseBytes", Reason: "negative"}
	}
	return nil
}

// validateEndpoint requires an absolute https URL without credentials,
// query or fragment; plain http only on a loopback host.
func validateEndpoint(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &InputError{Field: field, Reason: "not an absolute URL"}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return &InputError{Field: field, Reason: "must not carry credentials, a query or a fragment"}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return &InputError{Field: field, Reason: "must be https (http only on loopback)"}
	}
	return &InputError{Field: field, Reason: "scheme must be https"}
}

// noRedirectClient does not follow redirects: a redirect would turn a POST
// into a GET and could carry the token elsewhere; a 3xx is an error instead.
func noRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
