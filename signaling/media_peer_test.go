package signaling

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/televisit/televisit/sfu"
)

// wsPeer is a Go WebRTC client that signals over our WebSocket: one loop
// owns its negotiation. Like any client that cannot roll back an offer, it
// never offers: it asks the server to (publish, ice_restart) and answers.
type wsPeer struct {
	t    *testing.T
	name string
	pc   *webrtc.PeerConnection

	wmu  sync.Mutex
	conn *websocket.Conn

	msgs chan peerMsg
	done chan struct{}
	wg   sync.WaitGroup

	pending []webrtc.ICECandidateInit // candidates that came before a remote description (loop only)

	mu       sync.Mutex
	received map[webrtc.RTPCodecType]int // packets from others, by kind
	tracks   map[string]int              // packets from others, by stream/track id
	events   []peerMsg                   // every non-SDP message, in order
	trace    []string                    // negotiation timeline, shown when the test fails (media_trace_test.go)
	born     time.Time
	dropped  int // remote candidates Pion dropped: their ufrag matched no description
}

// peerMsg is a server message as the peer sees it.
type peerMsg struct {
	Type          string           `json:"type"`
	Ref           string           `json:"ref"`
	Code          string           `json:"code"`
	SDP           string           `json:"sdp"`
	Candidate     sfu.ICECandidate `json:"candidate"`
	ParticipantID string           `json:"participant_id"`
	Resumed       bool             `json:"resumed"`
	Participants  []struct {
		ParticipantID string `json:"participant_id"`
	} `json:"participants"`
	Text   string `json:"text"`
	From   string `json:"from"`
	Reason string `json:"reason"`
	// Recording (see recording_e2e_test.go).
	RequestID     string   `json:"request_id"`
	RecordingID   string   `json:"recording_id"`
	CheckinAnswer string   `json:"checkin_answer"`
	Active        bool     `json:"active"`
	WaitingFor    []string `json:"waiting_for"`
}

func newWSPeer(t *testing.T, name string) *wsPeer {
	t.Helper()
	p := &wsPeer{t: t, name: name, msgs: make(chan peerMsg, 1024),
		done: make(chan struct{}), received: map[webrtc.RTPCodecType]int{}, tracks: map[string]int{}, born: time.Now()}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.LoggerFactory = &logging.DefaultLoggerFactory{Writer: pionLog{p}, DefaultLogLevel: logging.LogLevelWarn}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var err error
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me))
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	p.pc.OnTrack(p.onTrack)
	p.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) { p.note("ice %s", s) })
	// Trickled at once, like a Pion app would: answering an ICE restart,
	// Pion gathers inside SetRemoteDescription, so these can go out before
	// the answer; the server keeps them for it.
	p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			j := c.ToJSON()
			p.note("send candidate %s", j.Candidate)
			p.write(map[string]any{"v": 1, "type": "candidate", "candidate": sfu.ICECandidate{
				Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex}})
		}
	})
	p.wg.Add(1)
	go p.loop()
	t.Cleanup(p.close)
	t.Cleanup(p.dumpTrace)
	return p
}

// connect opens a (new) WebSocket for the peer and says hello.
func (p *wsPeer) connect(ts *httptest.Server, h http.Header) {
	p.t.Helper()
	conn, _, err := dial(ts, h)
	if err != nil {
		p.t.Fatalf("%s: dial: %v", p.name, err)
	}
	p.wmu.Lock()
	p.conn = conn
	p.wmu.Unlock()
	p.note("socket connected")
	go p.read(conn)
	p.write(map[string]any{"v": 1, "type": "hello"})
}

// drop cuts the WebSocket without a close handshake (a train tunnel).
func (p *wsPeer) drop() {
	p.note("socket dropped")
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.conn.UnderlyingConn().Close()
}

func (p *wsPeer) read(conn *websocket.Conn) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m peerMsg
		if json.Unmarshal(data, &m) == nil {
			select {
			case p.msgs <- m:
			case <-p.done:
				return
			}
		}
	}
}

func (p *wsPeer) write(v any) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.conn != nil {
		_ = p.conn.WriteJSON(v)
	}
}

// publish adds a VP8 and an Opus track and sends synthetic packets on both
// until the test ends.
func (p *wsPeer) publish() {
	p.t.Helper()
	for _, c := range []struct {
		mime  string
		clock uint32
		every time.Duration
	}{{webrtc.MimeTypeVP8, 90000, 33 * time.Millisecond}, {webrtc.MimeTypeOpus, 48000, 20 * time.Millisecond}} {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: c.mime, ClockRate: c.clock}, c.mime, p.name)
		if err != nil {
			p.t.Fatal(err)
		}
		sender, err := p.pc.AddTrack(tr)
		if err != nil {
			p.t.Fatal(err)
		}
		p.wg.Add(2)
		go p.drainRTCP(sender)
		go p.send(tr, c.mime == webrtc.MimeTypeVP8, c.every)
	}
	// Pion cannot roll back an offer, so this client never offers: the
	// server offers receive slots and our answer attaches the tracks.
	p.write(map[string]any{"v": 1, "type": "publish", "kinds": []string{"video", "audio"}})
}

func (p *wsPeer) drainRTCP(s *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		if _, _, err := s.ReadRTCP(); err != nil {
			return
		}
	}
}

// send writes packets with a valid VP8 keyframe header (or an Opus frame).
func (p *wsPeer) send(tr *webrtc.TrackLocalStaticRTP, vp8 bool, every time.Duration) {
	defer p.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	payload := []byte{0xfc, 0xff, 0xfe}
	// Timestamps follow the wall clock, as a capture device's do, so a
	// late tick (a busy machine) does not shrink the media's timeline.
	start, clock := time.Now(), time.Duration(48000)
	if vp8 {
		clock = 90000
		// VP8 payload descriptor (S=1, PID 0) then a keyframe header.
		payload = []byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0x00, 0x00}
	}
	for seq := uint16(0); ; seq++ {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: seq,
			Timestamp: uint32(time.Since(start) * clock / time.Second)}, Payload: payload})
	}
}

func (p *wsPeer) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	key := track.StreamID() + "/" + track.ID()
	p.note("track %s %s", track.Kind(), key)
	for {
		if _, _, err := track.ReadRTP(); err != nil {
			return
		}
		p.mu.Lock()
		p.received[track.Kind()]++
		p.tracks[key]++
		p.mu.Unlock()
	}
}

// trackCount is how many remote tracks have delivered packets.
func (p *wsPeer) trackCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tracks)
}

// shareScreen adds a second video track (a screen share) and asks the
// server for a receive slot for it.
func (p *wsPeer) shareScreen() {
	p.t.Helper()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", p.name)
	if err != nil {
		p.t.Fatal(err)
	}
	sender, err := p.pc.AddTrack(tr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.wg.Add(2)
	go p.drainRTCP(sender)
	go p.send(tr, true, 66*time.Millisecond)
	p.write(map[string]any{"v": 1, "type": "publish", "kinds": []string{"video"}})
}

// restartICE asks the server for an ICE-restart offer.
func (p *wsPeer) restartICE() {
	p.note("send ice_restart")
	p.write(map[string]any{"v": 1, "type": "ice_restart"})
}

// loop owns the peer's negotiation and records every other message.
func (p *wsPeer) loop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.done:
			return
		case m := <-p.msgs:
			p.handle(m)
		}
	}
}

func (p *wsPeer) handle(m peerMsg) {
	var err error
	p.noteMessage(m)
	switch m.Type {
	case "candidate":
		c := m.Candidate
		init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}
		if p.pc.RemoteDescription() == nil || p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			p.pending = append(p.pending, init) // as a browser's app code would
			return
		}
		err = p.pc.AddICECandidate(init)
	case "answer":
		err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
		p.flushPending()
	case "offer":
		err = p.answer(m.SDP)
	default:
		p.mu.Lock()
		p.events = append(p.events, m)
		p.mu.Unlock()
	}
	if err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
		p.t.Errorf("%s: %s: %v", p.name, m.Type, err)
	}
}

func (p *wsPeer) answer(sdp string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	p.flushPending()
	ans, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(ans)
	}
	if err == nil {
		p.noteSDP("send answer", ans.SDP)
		p.write(map[string]any{"v": 1, "type": "answer", "sdp": ans.SDP})
	}
	return err
}

func (p *wsPeer) flushPending() {
	for _, c := range p.pending {
		_ = p.pc.AddICECandidate(c)
	}
	p.pending = nil
}

// got returns how many packets of a kind arrived from others.
func (p *wsPeer) got(kind webrtc.RTPCodecType) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[kind]
}

// await waits for a message of type typ after the first skip of them.
func (p *wsPeer) await(typ string, within time.Duration) peerMsg {
	p.t.Helper()
	var found peerMsg
	eventually(p.t, within, p.name+" to receive "+typ, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, m := range p.events {
			if m.Type == typ {
				found = m
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				return true
			}
		}
		return false
	})
	return found
}

// saw reports whether a message of type typ arrived (and consumes it).
func (p *wsPeer) saw(typ string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range p.events {
		if m.Type == typ {
			p.events = append(p.events[:i:i], p.events[i+1:]...)
			return true
		}
	}
	return false
}

func (p *wsPeer) close() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	_ = p.pc.Close()
	p.wmu.Lock()
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.wmu.Unlock()
	p.wg.Wait()
}
