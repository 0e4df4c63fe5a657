package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Probe limits: a probe is a short network check, not a relay.
const (
	// DefaultProbeLifetime is how long a probe lives unless configured.
	DefaultProbeLifetime = 20 * time.Second
	maxProbeLifetime     = 2 * time.Minute
	// MaxProbeMessage is the largest data-channel message a probe echoes.
	MaxProbeMessage = 1024
	// MaxProbeEchoes is how many messages a probe echoes in its life.
	MaxProbeEchoes = 200
	// ProbeChannel is the label of the probe's data channel.
	ProbeChannel = "probe"
)

// ProbeConfig configures a network probe.
type ProbeConfig struct {
	// OnCandidate gets each local ICE candidate (trickle ICE), from a Pion
	// goroutine. It may run before Probe returns: the caller must deliver
	// the offer before the candidates (queue both in one ordered channel).
	OnCandidate func(ICECandidate)
	// Lifetime bounds the probe's life (default DefaultProbeLifetime, at
	// most 2 minutes).
	Lifetime time.Duration
}

// Probe is a short-lived PeerConnection for a client's network check: it
// offers one data channel (unordered, no retransmits, so a lost message
// counts as lost) and echoes every message back, so the client can measure
// the round-trip time to the media server. It joins no room, carries no
// media and ends itself after its lifetime, when ctx ends or on Close.
type Probe struct {
	pc      *webrtc.PeerConnection
	log     *slog.Logger
	offer   string
	echoes  atomic.Int32
	echoed  atomic.Int32 // messages echoed so far (tests, logs)
	done    chan struct{}
	once    sync.Once
	connect chan struct{} // closed once the PeerConnection connected
	conOnce sync.Once
}

// Probe starts a network probe on the SFU's shared ICE settings (its UDP
// port, loopback and public-address rules) and returns it with its offer
// ready (Offer). The probe closes itself when ctx ends.
func (s *SFU) Probe(ctx context.Context, cfg ProbeConfig) (*Probe, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sfu: probe: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultProbeLifetime
	}
	cfg.Lifetime = min(cfg.Lifetime, maxProbeLifetime)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(s.se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: probe: new peer connection: %w", err)
	}
	p := &Probe{pc: pc, log: s.log.With("part", "probe"), done: make(chan struct{}), connect: make(chan struct{})}
	if err := p.start(cfg); err != nil {
		p.Close()
		return nil, err
	}
	go p.watch(ctx, cfg.Lifetime)
	return p, nil
}

// start wires the callbacks, opens the data channel and sets the offer.
func (p *Probe) start(cfg ProbeConfig) error {
	if cfg.OnCandidate != nil {
		p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				cfg.OnCandidate(candidateOf(c))
			}
		})
	}
	p.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			p.conOnce.Do(func() { close(p.connect) })
		}
	})
	ordered, retransmits := false, uint16(0)
	dc, err := p.pc.CreateDataChannel(ProbeChannel, &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retransmits})
	if err != nil {
		return fmt.Errorf("sfu: probe: data channel: %w", err)
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) { p.echo(dc, m) })
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("sfu: probe: create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("sfu: probe: set offer: %w", err)
	}
	p.offer = offer.SDP
	return nil
}

func candidateOf(c *webrtc.ICECandidate) ICECandidate {
	j := c.ToJSON()
	return ICECandidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex,
		UsernameFragment: j.UsernameFragment}
}

// echo sends a message back unchanged, within the probe's limits.
func (p *Probe) echo(dc *webrtc.DataChannel, m webrtc.DataChannelMessage) {
	if len(m.Data) > MaxProbeMessage || p.echoes.Add(1) > MaxProbeEchoes {
		return
	}
	var err error
	if m.IsString {
		err = dc.SendText(string(m.Data))
	} else {
		err = dc.Send(m.Data)
	}
	if err != nil {
		p.log.Debug("probe echo failed", "err", err)
		return
	}
	p.echoed.Add(1)
}

// watch ends the probe when ctx ends or its lifetime is over.
func (p *Probe) watch(ctx context.Context, lifetime time.Duration) {
	t := time.NewTimer(lifetime)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-p.done:
		return
	}
	p.Close()
}

// Offer is the probe's SDP offer.
func (p *Probe) Offer() string { return p.offer }

// SetAnswer applies the client's answer to the offer.
func (p *Probe) SetAnswer(sdp string) error {
	if p.Closed() {
		return ErrClosed
	}
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return ErrNoOfferPending
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("sfu: probe answer: %w: %w", ErrBadSDP, err)
	}
	return nil
}

// ErrNoRemoteDescription is returned by AddCandidate before SetAnswer.
var ErrNoRemoteDescription = errors.New("sfu: no remote description yet")

// AddCandidate adds one of the client's ICE candidates; it must follow
// SetAnswer.
func (p *Probe) AddCandidate(c ICECandidate) error {
	if p.Closed() {
		return ErrClosed
	}
	if p.pc.RemoteDescription() == nil {
		return ErrNoRemoteDescription
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
	if err := p.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("sfu: probe candidate: %w", err)
	}
	return nil
}

// Connected is closed once the probe's PeerConnection has connected.
func (p *Probe) Connected() <-chan struct{} { return p.connect }

// Echoed is how many messages the probe has echoed.
func (p *Probe) Echoed() int { return int(p.echoed.Load()) }

// Done is closed when the probe has ended.
func (p *Probe) Done() <-chan struct{} { return p.done }

// Closed reports whether the probe has ended.
func (p *Probe) Closed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Close ends the probe and its PeerConnection. Safe to call more than
// once and from any goroutine but the probe's own callbacks.
func (p *Probe) Close() {
	p.once.Do(func() {
		if err := p.pc.Close(); err != nil {
			p.log.Debug("close probe", "err", err)
		}
		close(p.done)
	})
}
