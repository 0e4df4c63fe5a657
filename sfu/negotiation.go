package sfu

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

var (
	// ErrNoOfferPending is returned by HandleAnswer without an SFU offer.
	ErrNoOfferPending = errors.New("sfu: no offer pending")
	// ErrGlare is returned by HandleOffer when the remote offer crossed one
	// of the SFU's own: the remote peer rolls back and answers it.
	ErrGlare = errors.New("sfu: offers crossed")
	// ErrBadSDP wraps errors caused by an unusable session description.
	ErrBadSDP = errors.New("sfu: bad session description")
)

// HandleOffer applies the remote peer's offer (it publishes or changes
// tracks). The answer is delivered as a SignalAnswer through OnSignal, in
// order with the SFU's own offers, so the peer can resolve glare:
//
// The SFU is the impolite peer (Pion cannot roll back a local offer): if
// its own offer is pending when the remote offer arrives, the remote offer
// is refused with ErrGlare. The remote peer, polite, rolls its offer back,
// answers the SFU's, and offers again. Peers that cannot roll back use
// Publish and RestartICE instead and never offer.
func (p *Participant) HandleOffer(ctx context.Context, offer string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sfu: handle offer: %w", err)
	}
	reoffer, err := p.answer(offer)
	if err != nil {
		return err
	}
	if reoffer {
		p.negotiate()
	}
	return nil
}

func (p *Participant) answer(offer string) (reoffer bool, err error) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() {
		return false, ErrClosed
	}
	if p.awaitingAnswer || p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		return false, ErrGlare
	}
	p.peerSpoke = true
	// An offer that restarts ICE restarts the agent, and starts gathering
	// the new generation, inside SetRemoteDescription: hold from here.
	p.holdCandidates()
	ans, err := p.acceptOffer(offer)
	if err != nil {
		p.releaseCandidates()
		return false, err
	}
	p.pushSDP(Signal{Kind: SignalAnswer, SDP: ans})
	reoffer, p.negPending = p.negPending, false
	return reoffer, nil
}

// acceptOffer applies the remote offer and sets the local answer.
func (p *Participant) acceptOffer(offer string) (string, error) {
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return "", fmt.Errorf("sfu: handle offer: %w: %w", ErrBadSDP, err)
	}
	p.flushCandidatesLocked()
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("sfu: handle offer: create answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("sfu: handle offer: set answer: %w", err)
	}
	return ans.SDP, nil
}

// HandleAnswer applies the remote peer's answer to the SFU's last offer.
func (p *Participant) HandleAnswer(ctx context.Context, answer string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sfu: handle answer: %w", err)
	}
	reoffer, err := p.applyAnswer(answer)
	if err != nil {
		return err
	}
	if reoffer {
		p.negotiate()
	}
	return nil
}

func (p *Participant) applyAnswer(answer string) (reoffer bool, err error) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() {
		return false, ErrClosed
	}
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return false, ErrNoOfferPending
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return false, fmt.Errorf("sfu: handle answer: %w: %w", ErrBadSDP, err)
	}
	p.flushCandidatesLocked()
	p.awaitingAnswer = false
	reoffer, p.negPending = p.negPending, false
	return reoffer, nil
}

// Renegotiate makes the SFU send a fresh offer (SignalOffer), or as soon
// as the current offer/answer exchange completes. It also tells the SFU the
// peer is ready for offers (a receive-only peer that will not offer).
func (p *Participant) Renegotiate() {
	p.markSpoke()
	p.negotiate()
}

// markSpoke records that the peer may now be sent offers.
func (p *Participant) markSpoke() {
	p.negMu.Lock()
	p.peerSpoke = true
	p.negMu.Unlock()
}

// negotiate creates and sends an offer when the connection is stable,
// else remembers that one is needed.
//
// With Config.AwaitPeerOffer the SFU does not make the first offer: it
// waits until the peer has offered or asked for one (Publish, Renegotiate,
// RestartICE).
func (p *Participant) negotiate() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() {
		return
	}
	if !p.peerSpoke || p.awaitingAnswer || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.negPending = true
		return
	}
	// CreateOffer with ICERestart restarts the agent and starts gathering
	// the new generation at once: hold candidates before it, not after.
	p.holdCandidates()
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.iceRestart})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.releaseCandidates()
		p.log.Warn("create offer", "err", err)
		return
	}
	p.awaitingAnswer, p.iceRestart = true, false
	p.pushSDP(Signal{Kind: SignalOffer, SDP: offer.SDP})
}

// AddICECandidate adds a remote ICE candidate. Candidates that arrive
// before the remote description, or while an SFU offer awaits its answer,
// are kept and applied after it: a peer answering an ICE restart may send
// the candidates of its new generation before the answer that announces
// their ufrag, and Pion drops them if they come first.
func (p *Participant) AddICECandidate(c ICECandidate) error {
	init := webrtc.ICECandidateInit{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment,
	}
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() {
		return ErrClosed
	}
	if p.pc.RemoteDescription() == nil || p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if len(p.pendingCands) >= 64 {
			return fmt.Errorf("sfu: add ICE candidate: too many before the remote description")
		}
		p.pendingCands = append(p.pendingCands, init)
		return nil
	}
	if err := p.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("sfu: add ICE candidate: %w", err)
	}
	return nil
}

func (p *Participant) flushCandidatesLocked() {
	for _, c := range p.pendingCands {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Debug("add queued ICE candidate", "err", err)
		}
	}
	p.pendingCands = nil
}

func (p *Participant) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// ResendOffer sends the SFU's pending offer again, if one still awaits its
// answer: a peer that reconnects (resumes its place) may never have had
// it, and until it answers no other offer can be made.
func (p *Participant) ResendOffer() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() || !p.awaitingAnswer || p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return
	}
	if ld := p.pc.LocalDescription(); ld != nil {
		p.pushSDP(Signal{Kind: SignalOffer, SDP: ld.SDP})
	}
}
