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
// (Simulcast needs the peer's own offer.)
func (p *Participant) Publish(kinds ...webrtc.RTPCodecType) error {
	p.negMu.Lock()
	if p.isClosed() {
		p.negMu.Unlock()
		return ErrClosed
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
	p.negMu.Unlock()
	p.negotiate()
	return nil
}

// RestartICE makes the next SFU offer restart ICE (a network change, a
// reconnect), now or as soon as the current exchange completes.
func (p *Participant) RestartICE() {
	p.negMu.Lock()
	p.iceRestart = true
	p.negMu.Unlock()
	p.negotiate()
}
