package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// Publish prepares to receive the remote peer's tracks without an offer
// from it: one receive-only transceiver per kind, then an SFU offer. The
// remote peer, having added its tracks, answers with them attached to those
// m-lines. With Publish and RestartICE the SFU is the only offerer, so
// offers never cross: the way for peers that cannot roll back an offer.
// (Simulcast needs the peer's own offer.) With no kinds the peer only
// receives: it is sent an offer as soon as there is something to receive.
func (p *Participant) Publish(kinds ...webrtc.RTPCodecType) error {
	p.negMu.Lock()
	if p.isClosed() {
		p.negMu.Unlock()
		return ErrClosed
	}
	if len(kinds) == 0 {
		// Receive only: offer now only if there is something to offer;
		// otherwise the next subscription will.
		p.peerSpoke = true
		pending := p.negPending
		p.negPending = false
		p.negMu.Unlock()
		if pending {
			p.negotiate()
		}
		return nil
	}
	for _, k := range kinds {
		if k != webrtc.RTPCodecTypeAudio && k != webrtc.RTPCodecTypeVideo {
			p.negMu.Unlock()
			return fmt.Errorf("sfu: publish: unknown kind %d", k)
		}
		init := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
		if _, err := p.pc.AddTransceiverFromKind(k, init); err != nil {
			p.negMu.Unlock()
			return fmt.Errorf("sfu: publish: %w", err)
		}
	}
	p.peerSpoke = true
	p.negMu.Unlock()
	p.negotiate()
	return nil
}

// RestartICE makes the next SFU offer restart ICE (a network change, a
// reconnect), now or as soon as the current exchange completes.
func (p *Participant) RestartICE() {
	p.negMu.Lock()
	p.iceRestart, p.peerSpoke = true, true
	p.negMu.Unlock()
	p.negotiate()
}
