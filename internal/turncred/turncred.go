// Package turncred issues time-limited TURN credentials following the TURN
// REST API (draft-uberti-behave-turn-rest-00), which coturn implements with
// `use-auth-secret` and `static-auth-secret`: the username is
// "<unix expiry>:<id>" and the password is base64(HMAC-SHA1(secret, username)).
// The TURN server recomputes the password from the shared secret, so nothing
// is stored and a credential stops working at its expiry.
//
// The id travels to the TURN server and ends up in its logs: it must be an
// opaque identifier (a session or participant id), never a name, a date of
// birth or any other PHI.
package turncred

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultTTL is how long a credential stays valid when Config.TTL is
	// zero: longer than a visit with its waiting room, short enough that a
	// leaked credential is soon useless. Clients fetch fresh credentials
	// when they reconnect.
	DefaultTTL = 6 * time.Hour
	// MaxTTL bounds Config.TTL.
	MaxTTL = 24 * time.Hour
	// MinSecretLen is the shortest static-auth-secret accepted, in bytes.
	MinSecretLen = 16
	// maxIDLen keeps the username well inside STUN's 513-byte limit.
	maxIDLen = 128
)

// Config configures the generator. Secret and URLs are required.
type Config struct {
	// Secret is coturn's static-auth-secret, shared with the TURN servers.
	Secret string
	// TTL is the validity of each credential; default DefaultTTL, at least
	// one minute, at most MaxTTL.
	TTL time.Duration
	// URLs are the TURN server URLs handed to clients, such as
	// "turn:turn.example.org:3478?transport=udp" or
	// "turns:turn.example.org:5349?transport=tcp".
	URLs []string
}

// ICEServer is one entry of RTCConfiguration.iceServers; its JSON form is
// what a browser's RTCPeerConnection takes.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
	// ExpiresAt is when the TURN server starts refusing the credential
	// (whole seconds, UTC). It is not part of RTCIceServer.
	ExpiresAt time.Time `json:"-"`
}

// Errors returned by Credentials; wrapped with details.
var (
	ErrConfig = errors.New("turncred: invalid config")
	ErrID     = errors.New("turncred: invalid id")
)

func (c *Config) validate() error {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if len(c.Secret) < MinSecretLen {
		return fmt.Errorf("%w: Secret must be at least %d bytes", ErrConfig, MinSecretLen)
	}
	if c.TTL < time.Minute || c.TTL > MaxTTL {
		return fmt.Errorf("%w: TTL must be between 1m and %s", ErrConfig, MaxTTL)
	}
	if len(c.URLs) == 0 {
		return fmt.Errorf("%w: at least one TURN URL is required", ErrConfig)
	}
	for _, u := range c.URLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return fmt.Errorf("%w: URL %q is not a turn: or turns: URL", ErrConfig, u)
		}
	}
	return nil
}

// Validate reports whether the config is usable, after applying defaults;
// call it at startup so that a bad config fails early.
func (c Config) Validate() error { return c.validate() }

// Credentials returns a credential for id that is valid from now until now
// plus the TTL. id must be 1-128 printable ASCII characters without ':'
// (coturn splits the username at the first ':').
func (c Config) Credentials(id string, now time.Time) (ICEServer, error) {
	if err := c.validate(); err != nil {
		return ICEServer{}, err
	}
	if err := checkID(id); err != nil {
		return ICEServer{}, err
	}
	expiry := now.Add(c.TTL).Unix()
	username := strconv.FormatInt(expiry, 10) + ":" + id
	return ICEServer{
		URLs:       append([]string(nil), c.URLs...),
		Username:   username,
		Credential: Password(c.Secret, username),
		ExpiresAt:  time.Unix(expiry, 0).UTC(),
	}, nil
}

// Password is base64(HMAC-SHA1(secret, username)), the password coturn
// expects for username under use-auth-secret.
func Password(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: length must be 1-%d", ErrID, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b <= ' ' || b > '~' || b == ':' {
			return fmt.Errorf("%w: byte %d is not printable ASCII or is ':'", ErrID, i)
		}
	}
	return nil
}
