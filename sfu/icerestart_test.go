package sfu

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// restartPeer is a Pion client whose signaling the test drives step by
// step, to put candidates exactly where the races of an ICE restart put
// them.
type restartPeer struct {
	t      *testing.T
	pc     *webrtc.PeerConnection
	part   *Participant
	sigs   chan Signal               // from the SFU
	local  chan *webrtc.ICECandidate // the client's own; nil: gathering done
	states chan webrtc.ICEConnectionState
}

func newRestartPeer(t *testing.T, room *Room) *restartPeer {
	t.Helper()
	rp := &restartPeer{t: t, sigs: make(chan Signal, 256), local: make(chan *webrtc.ICECandidate, 64),
		states: make(chan webrtc.ICEConnectionState, 64)}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	var err error
	if rp.pc, err = webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rp.pc.Close() })
	rp.pc.OnICECandidate(func(c *webrtc.ICECandidate) { rp.local <- c })
	rp.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) { rp.states <- s })
	if rp.part, err = room.Join(context.Background(), "p", JoinOptions{OnSignal: func(s Signal) { rp.sigs <- s }}); err != nil {
		t.Fatal(err)
	}
	return rp
}

// next returns the next SFU signal of kind, and the candidates the SFU
// delivered before it.
func (rp *restartPeer) next(kind SignalKind) (Signal, []Signal) {
	rp.t.Helper()
	var before []Signal
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-rp.sigs:
			if s.Kind == kind {
				return s, before
			}
			if s.Kind == SignalCandidate {
				before = append(before, s)
			}
		case <-timeout:
			rp.t.Fatalf("no %s from the SFU", kind)
		}
	}
}

// gathered waits for the client's gathering to complete and returns its
// candidates.
func (rp *restartPeer) gathered() []ICECandidate {
	rp.t.Helper()
	var out []ICECandidate
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-rp.local:
			if c == nil {
				return out
			}
			j := c.ToJSON()
			out = append(out, ICECandidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
		case <-timeout:
			rp.t.Fatal("the client's ICE gathering did not complete")
		}
	}
}

// connected waits for the client's ICE to connect. With forward, the
// SFU's trickled candidates reach the client; without, the client only
// learns the SFU's address from its connectivity checks (prflx), so the
// connection needs the SFU to hold the client's candidates.
func (rp *restartPeer) connected(forward bool) {
	rp.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case s := <-rp.sigs:
			if s.Kind == SignalCandidate && forward {
				c := s.Candidate
				if err := rp.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}); err != nil {
					rp.t.Fatal(err)
				}
			}
		case c := <-rp.local:
			if c != nil {
				j := c.ToJSON()
				if err := rp.part.AddICECandidate(ICECandidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex}); err != nil {
					rp.t.Fatal(err)
				}
			}
		case st := <-rp.states:
			if st == webrtc.ICEConnectionStateConnected {
				return
			}
		case <-timeout:
			rp.t.Fatal("the client's ICE did not connect")
		}
	}
}

// answer applies an SFU offer (without its candidates) and returns the
// client's answer (without its candidates): every candidate then travels
// by trickle, where the races are.
func (rp *restartPeer) answer(offer string) string {
	rp.t.Helper()
	if err := rp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: withoutCandidates(offer)}); err != nil {
		rp.t.Fatal(err)
	}
	ans, err := rp.pc.CreateAnswer(nil)
	if err == nil {
		err = rp.pc.SetLocalDescription(ans)
	}
	if err != nil {
		rp.t.Fatal(err)
	}
	return withoutCandidates(ans.SDP)
}

func withoutCandidates(sdp string) string {
	lines := strings.SplitAfter(sdp, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "a=candidate:") && !strings.HasPrefix(l, "a=end-of-candidates") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func ufragOf(sdp string) string {
	for _, l := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}

// earlyCandidates fails if a candidate of the generation an SDP starts
// reached the peer before that SDP (the peer drops it: its ufrag matches
// no description it has).
func earlyCandidates(t *testing.T, what, sdp string, before []Signal) {
	t.Helper()
	ufrag := ufragOf(sdp)
	for _, c := range before {
		if strings.Contains(c.Candidate.Candidate, " ufrag "+ufrag) {
			t.Errorf("%s: the SFU sent candidate %q before the SDP that starts its generation", what, c.Candidate.Candidate)
		}
	}
}

// An ICE restart reconnects however its candidates race the SDP: the
// SFU's candidates of the new generation never precede its offer (or
// answer), and the peer's candidates that precede its answer are kept for
// it rather than dropped.
func TestICERestartCandidatesRaceTheSDP(t *testing.T) {
	s := newTestSFU(t, Config{AwaitPeerOffer: true})
	defer func() { _ = s.Close() }()
	rp := newRestartPeer(t, s.Room("visit-ice-restart"))
	if err := rp.part.Publish(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, _ := rp.next(SignalOffer)
	if err := rp.part.HandleAnswer(context.Background(), rp.answer(offer.SDP)); err != nil {
		t.Fatal(err)
	}
	rp.connected(true)

	for i := 0; i < 3; i++ {
		rp.part.RestartICE()
		offer, early := rp.next(SignalOffer)
		earlyCandidates(t, "SFU offer", offer.SDP, early)
		if ufragOf(offer.SDP) == "" {
			t.Fatal("the ICE-restart offer has no ufrag")
		}
		// Pion, answering, restarts and gathers inside
		// SetRemoteDescription: its candidates go out before its answer.
		answer := rp.answer(offer.SDP)
		for _, c := range rp.gathered() {
			if err := rp.part.AddICECandidate(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := rp.part.HandleAnswer(context.Background(), answer); err != nil {
			t.Fatal(err)
		}
		rp.connected(false)
	}

	// The peer restarts ICE with its own offer: the SFU's answer comes
	// before the SFU's candidates of the new generation.
	po, err := rp.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err == nil {
		err = rp.pc.SetLocalDescription(po)
	}
	if err == nil {
		err = rp.part.HandleOffer(context.Background(), withoutCandidates(po.SDP))
	}
	if err != nil {
		t.Fatal(err)
	}
	ans, early := rp.next(SignalAnswer)
	earlyCandidates(t, "SFU answer", ans.SDP, early)
	if err := rp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withoutCandidates(ans.SDP)}); err != nil {
		t.Fatal(err)
	}
	rp.connected(true)
}
