package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"
)

// EHR is the writeback to EHRs over FHIR R4. The endpoints and their
// secrets live here; which clinic writes to which endpoint, with which
// profile, is set by an admin in the database (PUT
// /api/v1/clinics/{clinicID}/ehr). No endpoints: no writeback.
type EHR struct {
	// Endpoints are the EHRs this server can write to, by name. Set them
	// in the configuration file (a list cannot be set from the
	// environment; their secrets can come from files).
	Endpoints []EHREndpoint `yaml:"endpoints"`
	// Lease is how long a worker owns a claimed job; a crashed worker's
	// job is taken over after it. Default 2m.
	Lease time.Duration `yaml:"lease"`
	// PollInterval is the pause between looks for due jobs. Default 2s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// RetryBase and RetryMax bound the exponential backoff (with jitter)
	// after a retryable failure. Defaults 5s and 15m.
	RetryBase time.Duration `yaml:"retry_base"`
	RetryMax  time.Duration `yaml:"retry_max"`
	// JWKSPath serves our public key for SMART Backend Services when one
	// endpoint uses it. Default /.well-known/jwks.json; every SMART
	// endpoint's key is also at /.well-known/jwks/<name>.json.
	JWKSPath string `yaml:"jwks_path"`
}

// EHREndpoint is one FHIR R4 server and how we authenticate to it.
type EHREndpoint struct {
	// Name is what clinic profiles refer to: [a-z0-9_-], 1-40 characters.
	Name string `yaml:"name"`
	// BaseURL is the FHIR R4 base, https (http only on loopback).
	BaseURL string `yaml:"base_url"`
	// Auth is smart (SMART Backend Services), bearer (a static token) or
	// none (only for a loopback base_url: development and tests).
	Auth string `yaml:"auth"`
	// SMART: our client id at the EHR, its token endpoint, our private key
	// (RSA >= 2048 for RS384 or EC P-384 for ES384, PEM) from a file, the
	// key id (default its thumbprint) and the scopes requested.
	ClientID string `yaml:"client_id"`
	TokenURL string `yaml:"token_url"`
	KeyFile  string `yaml:"key_file"`
	KeyID    string `yaml:"key_id"`
	Scope    string `yaml:"scope"`
	// Bearer: the static access token, or a file holding it.
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Timeout bounds one request. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether any EHR endpoint is configured.
func (e EHR) Enabled() bool { return len(e.Endpoints) > 0 }

var endpointName = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// readEHRSecretFiles fills each endpoint's token from its token_file.
func readEHRSecretFiles(cfg *Config) error {
	var errs []error
	for i := range cfg.EHR.Endpoints {
		ep := &cfg.EHR.Endpoints[i]
		if ep.TokenFile == "" {
			continue
		}
		key := fmt.Sprintf("ehr.endpoints[%d]", i)
		if ep.Token != "" {
			errs = append(errs, fmt.Errorf("%s: token and token_file are both set; use one", key))
			continue
		}
		b, err := os.ReadFile(ep.TokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.token_file: %w", key, err))
			continue
		}
		ep.Token = Secret(trimNewline(string(b)))
	}
	return errors.Join(errs...)
}

func (c *Config) checkEHR() []error {
	var errs []error
	e := c.EHR
	if e.Lease < 0 || e.PollInterval < 0 || e.RetryBase < 0 || e.RetryMax < 0 {
		errs = append(errs, errors.New("config: ehr.lease, ehr.poll_interval, ehr.retry_base and ehr.retry_max must not be negative"))
	}
	if e.Lease != 0 && e.Lease < time.Second {
		errs = append(errs, errors.New("config: ehr.lease must be at least 1s"))
	}
	if e.RetryBase > 0 && e.RetryMax > 0 && e.RetryMax < e.RetryBase {
		errs = append(errs, errors.New("config: ehr.retry_max must not be less than ehr.retry_base"))
	}
	if e.JWKSPath != "" && (e.JWKSPath[0] != '/' || len(e.JWKSPath) < 2) {
		errs = append(errs, errors.New("config: ehr.jwks_path must be a path starting with /"))
	}
	seen := map[string]bool{}
	for i, ep := range e.Endpoints {
		key := fmt.Sprintf("config: ehr.endpoints[%d]", i)
		if !endpointName.MatchString(ep.Name) {
			errs = append(errs, fmt.Errorf("%s.name must be 1-40 of a-z, 0-9, _ and -", key))
		} else if seen[ep.Name] {
			errs = append(errs, fmt.Errorf("%s.name %q is used twice", key, ep.Name))
		}
		seen[ep.Name] = true
		errs = append(errs, ep.check(key)...)
	}
	return errs
}

func (ep EHREndpoint) check(key string) []error {
	var errs []error
	u, err := url.Parse(ep.BaseURL)
	loopback := err == nil && IsLoopbackHost(u.Hostname())
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && loopback)) {
		errs = append(errs, fmt.Errorf("%s.base_url must be an absolute https URL (http only on loopback)", key))
	}
	if ep.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%s.timeout must not be negative", key))
	}
	smart := ep.ClientID != "" || ep.TokenURL != "" || ep.KeyFile != "" || ep.KeyID != "" || ep.Scope != ""
	switch ep.Auth {
	case "smart":
		if ep.ClientID == "" || ep.TokenURL == "" || ep.KeyFile == "" || ep.Scope == "" {
			errs = append(errs, fmt.Errorf("%s: auth smart needs client_id, token_url, key_file and scope", key))
		}
		if ep.Token != "" {
			errs = append(errs, fmt.Errorf("%s: auth smart takes no token", key))
		}
	case "bearer":
		if ep.Token == "" || smart {
			errs = append(errs, fmt.Errorf("%s: auth bearer needs token (or token_file) and no SMART settings", key))
		}
	case "none":
		if !loopback || ep.Token != "" || smart {
			errs = append(errs, fmt.Errorf("%s: auth none is only for a loopback base_url, without credentials", key))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.auth must be smart, bearer or none", key))
	}
	return errs
}
