package sfu

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// testPeer is an in-process Pion client joined to a room. One loop
// goroutine owns its signaling, like a browser's JavaScript would: it is
// the impolite peer of the SFU's negotiation.
type testPeer struct {
	t    testing.TB
	name string
	pc   *webrtc.PeerConnection
	part *Participant

	signals  chan Signal
	offerReq chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	mu       sync.Mutex
	received map[string][]rtp.Packet // by remote track stream/ID
	kinds    map[string]webrtc.RTPCodecType
	levelIDs map[string]uint8 // negotiated audio level extension ID per track
	mimes    map[string]string
	ended    map[string]bool
	rtcpIn   []rtcp.Packet // RTCP the peer received for its own tracks
	state    webrtc.PeerConnectionState
}

func newTestPeer(t testing.TB, room *Room, name string) *testPeer {
	t.Helper()
	tp := newTestPeerPaused(t, room, name, "")
	tp.start()
	return tp
}

// newTestPeerWithout makes a running peer whose codecs lack without.
func newTestPeerWithout(t testing.TB, room *Room, name, without string) *testPeer {
	t.Helper()
	tp := newTestPeerPaused(t, room, name, without)
	tp.start()
	return tp
}

// start runs the peer's signaling loop.
func (tp *testPeer) start() {
	tp.wg.Add(1)
	go tp.loop()
}

// newTestPeerPaused makes a peer whose codecs lack the MIME type without
// (if set) and whose signaling loop is not started yet.
func newTestPeerPaused(t testing.TB, room *Room, name, without string) *testPeer {
	t.Helper()
	tp := &testPeer{
		t: t, name: name,
		signals: make(chan Signal, 1024), offerReq: make(chan struct{}, 1), done: make(chan struct{}),
		received: map[string][]rtp.Packet{}, kinds: map[string]webrtc.RTPCodecType{}, levelIDs: map[string]uint8{}, mimes: map[string]string{}, ended: map[string]bool{},
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.DisableSRTPReplayProtection(true) // to see NACK retransmissions
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me, err := newMediaEngine()
	if without != "" {
		me = &webrtc.MediaEngine{}
		for _, c := range codecList() {
			typ := webrtc.RTPCodecTypeVideo
			if c.MimeType == webrtc.MimeTypeOpus {
				typ = webrtc.RTPCodecTypeAudio
			}
			if c.MimeType != without && err == nil {
				err = me.RegisterCodec(c, typ)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
	if tp.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	tp.pc.OnTrack(tp.onTrack)
	tp.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		tp.mu.Lock()
		tp.state = s
		tp.mu.Unlock()
	})
	part, err := room.Join(context.Background(), name, JoinOptions{OnSignal: func(s Signal) { tp.signals <- s }})
	if err != nil {
		t.Fatal(err)
	}
	tp.part = part
	tp.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		j := c.ToJSON()
		_ = part.AddICECandidate(ICECandidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
	})
	return tp
}

// publish adds a local track; the loop sends an offer.
func (tp *testPeer) publish(mime, id string) (*webrtc.TrackLocalStaticRTP, *webrtc.RTPSender) {
	tp.t.Helper()
	clock := uint32(90000)
	if mime == webrtc.MimeTypeOpus {
		clock = 48000
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock}, id, tp.name)
	if err != nil {
		tp.t.Fatal(err)
	}
	sender, err := tp.pc.AddTrack(tr)
	if err != nil {
		tp.t.Fatal(err)
	}
	tp.wg.Add(1)
	go tp.readSenderRTCP(sender)
	select {
	case tp.offerReq <- struct{}{}:
	default:
	}
	return tr, sender
}

func (tp *testPeer) readSenderRTCP(s *webrtc.RTPSender) {
	defer tp.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		tp.mu.Lock()
		tp.rtcpIn = append(tp.rtcpIn, pkts...)
		tp.mu.Unlock()
	}
}

func (tp *testPeer) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	key := track.StreamID() + "/" + track.ID()
	tp.mu.Lock()
	tp.levelIDs[key] = audioLevelID(recv.GetParameters().HeaderExtensions)
	tp.mimes[key] = track.Codec().MimeType
	tp.kinds[key] = track.Kind()
	tp.ended[key] = false
	tp.mu.Unlock()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			break
		}
		tp.mu.Lock()
		tp.received[key] = append(tp.received[key], *pkt)
		tp.mu.Unlock()
	}
	tp.mu.Lock()
	tp.ended[key] = true
	tp.mu.Unlock()
}

// loop owns the client's negotiation.
func (tp *testPeer) loop() {
	defer tp.wg.Done()
	wantOffer := false
	retry := time.NewTicker(20 * time.Millisecond) // re-check a deferred offer
	defer retry.Stop()
	for {
		select {
		case <-retry.C:
		case <-tp.done:
			return
		case <-tp.offerReq:
			wantOffer = true
		case s := <-tp.signals:
			tp.handleSignal(s)
		}
		// A Pion peer cannot roll back, so it must not cross an SFU
		// offer: take every delivered signal first, and offer only when
		// the SFU has no offer out (tests avoid the remaining window by
		// letting negotiation settle between publications).
		for drained := false; !drained; {
			select {
			case s := <-tp.signals:
				tp.handleSignal(s)
			default:
				drained = true
			}
		}
		if wantOffer && tp.pc.SignalingState() == webrtc.SignalingStateStable && !tp.sfuOfferOut() {
			wantOffer = false
			tp.sendOffer()
		}
	}
}

// sfuOfferOut peeks at the SFU side: is its offer unanswered?
func (tp *testPeer) sfuOfferOut() bool {
	tp.part.negMu.Lock()
	defer tp.part.negMu.Unlock()
	return tp.part.awaitingAnswer
}

func (tp *testPeer) sendOffer() {
	offer, err := tp.pc.CreateOffer(nil)
	if err == nil {
		err = tp.pc.SetLocalDescription(offer)
	}
	if err == nil {
		err = tp.part.HandleOffer(context.Background(), offer.SDP)
	}
	if err != nil && !errors.Is(err, ErrClosed) && !tp.closing() {
		tp.t.Errorf("%s: offer: %v", tp.name, err)
	}
}

func (tp *testPeer) handleSignal(s Signal) {
	var err error
	switch s.Kind {
	case SignalCandidate:
		c := s.Candidate
		err = tp.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	case SignalAnswer:
		err = tp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.SDP})
	case SignalOffer:
		if tp.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			return // impolite: ours wins, the SFU offers again
		}
		err = tp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP})
		var ans webrtc.SessionDescription
		if err == nil {
			ans, err = tp.pc.CreateAnswer(nil)
		}
		if err == nil {
			err = tp.pc.SetLocalDescription(ans)
		}
		if err == nil {
			err = tp.part.HandleAnswer(context.Background(), ans.SDP)
		}
	}
	if err != nil && !errors.Is(err, ErrClosed) && !tp.closing() {
		tp.t.Errorf("%s: signal %s: %v", tp.name, s.Kind, err)
	}
}

func (tp *testPeer) closing() bool {
	select {
	case <-tp.done:
		return true
	default:
		return tp.part.isClosed()
	}
}

// close stops the client (not the participant).
func (tp *testPeer) close() {
	close(tp.done)
	_ = tp.pc.Close()
	tp.wg.Wait()
}

// packets returns a copy of what arrived on the track key.
func (tp *testPeer) packets(key string) []rtp.Packet {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]rtp.Packet(nil), tp.received[key]...)
}

func (tp *testPeer) countRTCP(match func(rtcp.Packet) bool) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := 0
	for _, p := range tp.rtcpIn {
		if match(p) {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func audioLevelID(exts []webrtc.RTPHeaderExtensionParameter) uint8 {
	for _, e := range exts {
		if e.URI == sdp.AudioLevelURI {
			return uint8(e.ID)
		}
	}
	return 0
}
