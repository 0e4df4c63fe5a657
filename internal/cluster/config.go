package cluster

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config configures a Node. The zero value of every field but AdvertiseURL
// means its default.
type Config struct {
	NodeID       string        // default: os.Hostname() + "-" + 6 random hex chars
	AdvertiseURL string        // required: http(s)://host:port other nodes proxy /ws to
	Lease        time.Duration // default 5s; 1s..60s; heartbeat every Lease/3
	DrainTimeout time.Duration // default 10m; 0..24h (used by the caller; kept here)
	// ProxyTLS is the client TLS configuration for proxying to nodes whose
	// advertise_url is https (their certificate is usually for the public
	// host, so set ServerName). Nil: Go's defaults.
	ProxyTLS *tls.Config
}

const (
	defaultLease        = 5 * time.Second
	minLease            = time.Second
	maxLease            = 60 * time.Second
	defaultDrainTimeout = 10 * time.Minute
	maxDrainTimeout     = 24 * time.Hour
	maxNodeIDLen        = 100
	suffixLen           = 6 // hex chars of the random suffix of a default node id
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("cluster: invalid config")

// ValidNodeID reports whether s is a well-formed node id: 1 to 100
// characters from [A-Za-z0-9._-].
func ValidNodeID(s string) bool {
	if len(s) == 0 || len(s) > maxNodeIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nodeIDByte(s[i]) {
			return false
		}
	}
	return true
}

func nodeIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// withDefaults returns cfg with defaults filled in and validated.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.NodeID == "" {
		id, err := DefaultNodeID()
		if err != nil {
			return cfg, err
		}
		cfg.NodeID = id
	}
	if cfg.Lease == 0 {
		cfg.Lease = defaultLease
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = defaultDrainTimeout
	}
	return cfg, cfg.validate()
}

// Validate fills no defaults: it checks cfg as New would after filling them.
func (cfg Config) Validate() error {
	_, err := cfg.withDefaults()
	return err
}

func (cfg Config) validate() error {
	if !ValidNodeID(cfg.NodeID) {
		return fmt.Errorf("%w: node_id must be 1-100 characters of [A-Za-z0-9._-]", ErrInvalidConfig)
	}
	if err := validateAdvertiseURL(cfg.AdvertiseURL); err != nil {
		return err
	}
	if cfg.Lease < minLease || cfg.Lease > maxLease {
		return fmt.Errorf("%w: lease %s is outside 1s..60s", ErrInvalidConfig, cfg.Lease)
	}
	if cfg.DrainTimeout < 0 || cfg.DrainTimeout > maxDrainTimeout {
		return fmt.Errorf("%w: drain_timeout %s is outside 0..24h", ErrInvalidConfig, cfg.DrainTimeout)
	}
	return nil
}

// validateAdvertiseURL accepts http(s)://host[:port][/base] without user
// info, query or fragment.
func validateAdvertiseURL(s string) error {
	if s == "" {
		return fmt.Errorf("%w: advertise_url is required", ErrInvalidConfig)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: advertise_url does not parse", ErrInvalidConfig)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: advertise_url must be http:// or https://", ErrInvalidConfig)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: advertise_url has no host", ErrInvalidConfig)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("%w: advertise_url must not carry user info, query or fragment", ErrInvalidConfig)
	}
	return nil
}

// DefaultNodeID returns the host name (characters outside [A-Za-z0-9._-]
// replaced by '-') plus "-" and 6 random hex characters.
func DefaultNodeID() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "televisit"
	}
	host = sanitizeHost(host)
	b := make([]byte, suffixLen/2)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cluster: default node id: random suffix: %w", err)
	}
	return host + "-" + hex.EncodeToString(b), nil
}

func sanitizeHost(host string) string {
	var sb strings.Builder
	for i := 0; i < len(host) && sb.Len() < maxNodeIDLen-suffixLen-1; i++ {
		if nodeIDByte(host[i]) {
			sb.WriteByte(host[i])
		} else {
			sb.WriteByte('-')
		}
	}
	return sb.String()
}
