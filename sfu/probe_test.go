package sfu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// probeClient is an in-process Pion client of a probe: it answers the
// probe's offer, trickles candidates both ways and collects the echoes.
type probeClient struct {
	pc      *webrtc.PeerConnection
	cands   chan ICECandidate // the probe's, for the test to add
	channel chan *webrtc.DataChannel
	echoes  chan string
}

func newProbeClient(t *testing.T) *probeClient {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	c := &probeClient{pc: pc, cands: make(chan ICECandidate, 64), channel: make(chan *webrtc.DataChannel, 1),
		echoes: make(chan string, 64)}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() { c.channel <- dc })
		dc.OnMessage(func(m webrtc.DataChannelMessage) { c.echoes <- string(m.Data) })
	})
	return c
}

// connect answers the probe's offer, exchanges candidates and waits for
// the data channel to open.
func (c *probeClient) connect(t *testing.T, p *Probe) *webrtc.DataChannel {
	t.Helper()
	c.pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		if ic != nil {
			if err := p.AddCandidate(candidateOf(ic)); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("add client candidate: %v", err)
			}
		}
	})
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: p.Offer()}); err != nil {
		t.Fatal(err)
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetAnswer(ans.SDP); err != nil {
		t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case cand := <-c.cands:
			if err := c.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: cand.Candidate, SDPMid: cand.SDPMid,
				SDPMLineIndex: cand.SDPMLineIndex}); err != nil {
				t.Fatalf("add probe candidate: %v", err)
			}
		case dc := <-c.channel:
			return dc
		case <-deadline:
			t.Fatal("the probe's data channel did not open within 10s")
		}
	}
}

func TestProbeEchoes(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	c := newProbeClient(t)
	p, err := s.Probe(context.Background(), ProbeConfig{OnCandidate: func(ic ICECandidate) { c.cands <- ic }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Offer(), "m=application") || strings.Contains(p.Offer(), "m=audio") {
		t.Fatalf("the probe offers more than a data channel:\n%s", p.Offer())
	}
	if err := p.AddCandidate(ICECandidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}); !errors.Is(err, ErrNoRemoteDescription) {
		t.Fatalf("candidate before the answer: %v", err)
	}
	dc := c.connect(t, p)
	if dc.Label() != ProbeChannel {
		t.Fatalf("data channel %q", dc.Label())
	}
	select {
	case <-p.Connected():
	case <-time.After(5 * time.Second):
		t.Fatal("the probe never reported connected")
	}
	if s.Rooms() != 0 {
		t.Fatalf("a probe made %d rooms", s.Rooms())
	}
	for _, ping := range []string{"ping 1", "ping 2", "ping 3"} {
		start := time.Now()
		if err := dc.SendText(ping); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-c.echoes:
			if got != ping {
				t.Fatalf("echo %q, want %q", got, ping)
			}
			t.Logf("%s: round trip %v", ping, time.Since(start))
		case <-time.After(5 * time.Second):
			t.Fatalf("no echo of %q", ping)
		}
	}
	// Too large: not echoed.
	if err := dc.Send(make([]byte, MaxProbeMessage+1)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-c.echoes:
		t.Fatalf("a %d-byte message was echoed", len(got))
	case <-time.After(300 * time.Millisecond):
	}
	if p.Echoed() != 3 {
		t.Fatalf("echoed %d, want 3", p.Echoed())
	}
	p.Close()
	p.Close()
	if !p.Closed() {
		t.Fatal("not closed")
	}
	if err := p.SetAnswer("v=0"); !errors.Is(err, ErrClosed) {
		t.Fatalf("answer after close: %v", err)
	}
	_ = c.pc.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeaks()
}

func TestProbeEndsItself(t *testing.T) {
	s := newTestSFU(t, Config{})
	t.Cleanup(func() { _ = s.Close() })

	start := time.Now()
	p, err := s.Probe(context.Background(), ProbeConfig{Lifetime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		t.Logf("ended after %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("the probe outlived its lifetime")
	}

	ctx, cancel := context.WithCancel(context.Background())
	p, err = s.Probe(ctx, ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the probe outlived its context")
	}

	p, err = s.Probe(context.Background(), ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetAnswer("not sdp"); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("bad answer: %v, want ErrBadSDP", err)
	}
	if _, err := s.Probe(ctx, ProbeConfig{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("probe on an ended context: %v", err)
	}
	_ = s.Close()
	if _, err := s.Probe(context.Background(), ProbeConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("probe on a closed SFU: %v, want ErrClosed", err)
	}
}
