package mediaclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Config is one participant's client.
type Config struct {
	// Bases are the nodes' base URLs (http(s)://host:port), tried in turn
	// like a load balancer would pick them: the first is used first.
	Bases []string
	// Origin is the Origin header of the upgrade (the server's allowlist).
	Origin string
	// Jar holds the session cookie (tv_staff, tv_patient or tv_guest); it
	// is sent to every base (cookies are host-scoped, not port-scoped).
	Jar http.CookieJar
	// Header is added to every upgrade request (a Cookie or Authorization
	// header instead of a Jar, for instance).
	Header http.Header
	// VisitID is the visit staff name in `join`; patients and guests have
	// exactly one and leave it empty.
	VisitID string
	// Sender is the id stamped into this client's media, so that the
	// others can tell whose packets arrived.
	Sender uint32
	// Audio and Video select the synthetic tracks sent (Opus 50 packets/s,
	// VP8 30 frames/s).
	Audio, Video bool
	// VideoBitrate is the synthetic video's bit rate; default 200 kbit/s.
	VideoBitrate int
	// IncludeLoopback offers loopback ICE candidates (a loopback-only host).
	IncludeLoopback bool
	// MinBackoff and MaxBackoff bound the wait before a reconnect after a
	// drop or a failed connect; defaults 200 ms and 2 s.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one WebSocket handshake; default 5 s.
	DialTimeout time.Duration
	// JoinRetry is the wait before joining again after the server refused
	// a join (not admitted yet, say); default 500 ms.
	JoinRetry time.Duration
	// KeyframeInterval is the synthetic video's keyframe period (a PLI or
	// FIR also gets one); default 1 s.
	KeyframeInterval time.Duration
	// Log receives debug lines about reconnects; nil discards them.
	Log *slog.Logger

	// Hooks for measuring tools, called from the client's goroutines
	// (they must be safe for concurrent use and must not block).

	// OnEvent gets every event as it is recorded.
	OnEvent func(Event)
	// OnPacket gets every stamped packet received.
	OnPacket func(Packet)
	// OnSent gets the number of packets written, after each audio packet
	// or video frame, while the PeerConnection is connected.
	OnSent func(kind Kind, packets int)
}

// Packet is one stamped packet received from another participant.
type Packet struct {
	Sender        uint32
	Kind          Kind
	Seq           uint32 // the sender's count of its packets of this kind
	Sent, Arrived time.Time
}

func (c Config) withDefaults() Config {
	if c.VideoBitrate == 0 {
		c.VideoBitrate = 200_000
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 2 * time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.JoinRetry == 0 {
		c.JoinRetry = 500 * time.Millisecond
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	if len(c.Bases) == 0 {
		return errors.New("mediaclient: at least one base URL is required")
	}
	for _, b := range c.Bases {
		if _, err := wsURL(b, ""); err != nil {
			return err
		}
	}
	if c.Origin == "" {
		return errors.New("mediaclient: Origin is required")
	}
	if c.VideoBitrate < 0 || c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff || c.DialTimeout < 0 || c.JoinRetry < 0 || c.KeyframeInterval < 0 {
		return errors.New("mediaclient: negative bit rate or durations, or MaxBackoff below MinBackoff")
	}
	return nil
}

// wsURL is base's /ws address, with ?node= when node is not empty.
func wsURL(base, node string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("mediaclient: base URL: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("mediaclient: base URL must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("mediaclient: base URL has no host")
	}
	u.Path, u.RawQuery, u.Fragment = "/ws", "", ""
	if node != "" {
		u.RawQuery = url.Values{"node": {node}}.Encode()
	}
	return u.String(), nil
}

// nextBackoff doubles d within [min, max].
func nextBackoff(d, lo, hi time.Duration) time.Duration {
	if d < lo {
		return lo
	}
	return min(2*d, hi)
}
