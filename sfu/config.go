package sfu

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config configures an SFU. The zero value of every field means "use the
// default" unless documented otherwise; withDefaults fills them in and
// validate rejects what cannot work.
type Config struct {
	// UDPPort is the single UDP port all participants' ICE traffic shares
	// (ICE UDP mux). 0 picks an ephemeral port (tests); production sets it.
	UDPPort int
	// TCPPort, when not 0, also accepts ICE over TCP on this port (passive).
	TCPPort int
	// PublicIPs are the public addresses of a 1:1 NAT in front of the
	// server; host candidates then carry them instead of local addresses.
	PublicIPs []string
	// IncludeLoopback gathers loopback candidates (single-host tests).
	IncludeLoopback bool
	// IPv6 gathers IPv6 candidates as well as IPv4.
	IPv6 bool
	// MaxParticipants is the largest room size (default 8).
	MaxParticipants int
	// PLIMinInterval is the least time between two keyframe requests sent to
	// a publisher for one layer (default 500ms).
	PLIMinInterval time.Duration
	// PacketCacheSize is how many packets each video layer keeps to answer
	// NACKs (default 512, rounded up to a power of two; audio keeps 1/4).
	PacketCacheSize int
	// DisableBandwidthEstimation turns off the send-side (TWCC/GCC)
	// estimator; layer selection then uses REMB and hints only.
	DisableBandwidthEstimation bool
	// InitialBitrate seeds the send-side estimator, bits/s (default 1 Mbit/s).
	InitialBitrate int
	// AwaitPeerOffer makes the SFU wait, before its first offer to a
	// participant, until the peer offers or asks for one (Publish,
	// Renegotiate, RestartICE). Whoever offers first fixes the header
	// extension IDs for the session, and browsers refuse their own later
	// offer when it mixes the SFU's IDs with their defaults (a BUNDLE
	// collision), so servers for browsers set it. Peers that never offer
	// must then ask with Publish or Renegotiate.
	AwaitPeerOffer bool
	// SignalQueueLimit is how many outgoing signals may wait for a slow
	// consumer before the participant is closed (default 256).
	SignalQueueLimit int
}

const (
	defaultMaxParticipants = 8
	defaultPLIMinInterval  = 500 * time.Millisecond
	defaultPacketCacheSize = 512
	defaultInitialBitrate  = 1_000_000
	defaultSignalQueue     = 256
)

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxParticipants == 0 {
		c.MaxParticipants = defaultMaxParticipants
	}
	if c.PLIMinInterval == 0 {
		c.PLIMinInterval = defaultPLIMinInterval
	}
	if c.PacketCacheSize == 0 {
		c.PacketCacheSize = defaultPacketCacheSize
	}
	if c.InitialBitrate == 0 {
		c.InitialBitrate = defaultInitialBitrate
	}
	if c.SignalQueueLimit == 0 {
		c.SignalQueueLimit = defaultSignalQueue
	}
	c.PublicIPs = append([]string(nil), c.PublicIPs...)
	return c
}

// ErrInvalidConfig wraps every configuration error.
var ErrInvalidConfig = errors.New("sfu: invalid config")

func (c Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.UDPPort < 0 || c.UDPPort > 65535:
		return bad("UDPPort %d out of range", c.UDPPort)
	case c.TCPPort < 0 || c.TCPPort > 65535:
		return bad("TCPPort %d out of range", c.TCPPort)
	case c.MaxParticipants < 2 || c.MaxParticipants > 64:
		return bad("MaxParticipants %d not in 2..64", c.MaxParticipants)
	case c.PLIMinInterval < 0 || c.PLIMinInterval > 10*time.Second:
		return bad("PLIMinInterval %s not in 0..10s", c.PLIMinInterval)
	case c.PacketCacheSize < 16 || c.PacketCacheSize > 32768:
		return bad("PacketCacheSize %d not in 16..32768", c.PacketCacheSize)
	case c.InitialBitrate < 10_000:
		return bad("InitialBitrate %d below 10000", c.InitialBitrate)
	case c.SignalQueueLimit < 8:
		return bad("SignalQueueLimit %d below 8", c.SignalQueueLimit)
	}
	for _, ip := range c.PublicIPs {
		if net.ParseIP(ip) == nil {
			return bad("PublicIPs: %q is not an IP address", ip)
		}
	}
	return nil
}
