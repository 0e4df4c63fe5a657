package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/turncred"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/signaling"
)

// newSFU builds the SFU from the media settings.
func newSFU(c config.Media, log *slog.Logger) (*sfu.SFU, error) {
	m, err := sfu.New(sfu.Config{UDPPort: c.UDPPort, TCPPort: c.TCPPort, PublicIPs: c.PublicIPs,
		IncludeLoopback: c.IncludeLoopback, MaxParticipants: c.MaxParticipants,
		// Browsers offer first, so their header extension IDs hold for the
		// whole session (see sfu.Config.AwaitPeerOffer).
		AwaitPeerOffer: true}, log)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return m, nil
}

// iceServers hands each joining participant the TURN servers with fresh
// time-limited credentials. The credential's id is random: coturn logs it,
// so it must not name anyone.
func iceServers(t config.TURN, log *slog.Logger) (func(string) []signaling.ICEServer, error) {
	if !t.Enabled() {
		return nil, nil
	}
	tc := turncred.Config{Secret: t.Secret.Value(), TTL: t.TTL, URLs: t.URLs}
	if err := tc.Validate(); err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	return func(string) []signaling.ICEServer {
		var b [12]byte
		_, _ = rand.Read(b[:])
		s, err := tc.Credentials(hex.EncodeToString(b[:]), time.Now())
		if err != nil {
			log.Error("TURN credentials failed", "err", err)
			return nil
		}
		return []signaling.ICEServer{{URLs: s.URLs, Username: s.Username, Credential: s.Credential}}
	}, nil
}
