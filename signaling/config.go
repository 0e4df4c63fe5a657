package signaling

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config configures the WebSocket server. Zero values take the defaults
// noted on each field.
type Config struct {
	// AllowedOrigins are the exact origins (scheme://host[:port]) of the
	// pages that may open the socket. Required; no wildcards.
	AllowedOrigins []string
	// MaxMessageBytes is the largest message a client may send. Default
	// 64 KiB; a larger one closes the socket with 1009.
	MaxMessageBytes int64
	// PingInterval is how often the server pings. Default 15s.
	PingInterval time.Duration
	// PongWait is how long the server waits for any frame or pong before it
	// gives the peer up for dead. Default 45s; must exceed PingInterval.
	PongWait time.Duration
	// WriteTimeout bounds each frame written. Default 10s.
	WriteTimeout time.Duration
	// SendQueue is the number of frames queued for a client. Default 64; a
	// client whose queue is full is closed with CloseTooSlow.
	SendQueue int
	// MsgRate and MsgBurst limit the messages a client may send per second.
	// Defaults 20 and 40.
	MsgRate  float64
	MsgBurst int
	// ReauthInterval is how often the session is re-checked (and the
	// current waiting room or patient status re-sent). Default 30s.
	ReauthInterval time.Duration
	// CallTimeout bounds each call to the visits service or the
	// authenticator. Default 5s.
	CallTimeout time.Duration
	// SnapshotInterval is the least time between two snapshots or status
	// updates sent to one session; events in between are coalesced.
	// Default 100ms; at most 1s.
	SnapshotInterval time.Duration
	// ResumeGrace is how long a participant whose socket dropped keeps
	// their place in the room (PeerConnection included) for a reconnect.
	// Default 30s.
	ResumeGrace time.Duration
	// ICEServers, when set, gives each joining participant the STUN/TURN
	// servers (with time-limited TURN credentials) to use.
	ICEServers func(participant string) []ICEServer
	// MaxBadMessages malformed or unknown messages close the socket with
	// CloseProtocolAbuse. Default 10.
	MaxBadMessages int
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 64 << 10
	}
	def(&c.PingInterval, 15*time.Second)
	def(&c.PongWait, 45*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.ReauthInterval, 30*time.Second)
	def(&c.CallTimeout, 5*time.Second)
	def(&c.SnapshotInterval, 100*time.Millisecond)
	def(&c.ResumeGrace, 30*time.Second)
	if c.SendQueue == 0 {
		c.SendQueue = 64
	}
	if c.MsgRate == 0 {
		c.MsgRate = 20
	}
	if c.MsgBurst == 0 {
		c.MsgBurst = 40
	}
	if c.MaxBadMessages == 0 {
		c.MaxBadMessages = 10
	}
}

// validate applies the defaults, checks every field and returns the allowed
// origins in canonical form.
func (c *Config) validate() (map[string]bool, error) {
	c.setDefaults()
	origins, err := parseOrigins(c.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	switch {
	case c.MaxMessageBytes < 128 || c.MaxMessageBytes > 16<<20:
		return nil, errors.New("signaling: MaxMessageBytes must be between 128 bytes and 16 MiB")
	case c.PingInterval < 0 || c.PongWait <= c.PingInterval:
		return nil, errors.New("signaling: PingInterval must be positive and less than PongWait")
	case c.WriteTimeout < 0 || c.CallTimeout < 0 || c.ReauthInterval < 0:
		return nil, errors.New("signaling: WriteTimeout, CallTimeout and ReauthInterval must be positive")
	case c.SnapshotInterval < 0 || c.SnapshotInterval > time.Second:
		return nil, errors.New("signaling: SnapshotInterval must be between 0 and 1s")
	case c.SendQueue < 1 || c.MsgBurst < 1 || c.MaxBadMessages < 1:
		return nil, errors.New("signaling: SendQueue, MsgBurst and MaxBadMessages must be at least 1")
	case !(c.MsgRate > 0):
		return nil, errors.New("signaling: MsgRate must be positive")
	}
	return origins, nil
}

func parseOrigins(list []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, errors.New("signaling: AllowedOrigins is required")
	}
	out := make(map[string]bool, len(list))
	for i, o := range list {
		canon, err := canonicalOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("signaling: AllowedOrigins[%d]: %w", i, err)
		}
		out[canon] = true
	}
	return out, nil
}

// canonicalOrigin checks that o is scheme://host[:port] with nothing else
// and lower-cases it (origins compare case-insensitively).
func canonicalOrigin(o string) (string, error) {
	if strings.Contains(o, "*") {
		return "", errors.New("wildcards are not allowed")
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", errors.New("must be scheme://host[:port] and nothing else")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
