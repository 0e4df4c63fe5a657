package signaling

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/televisit/televisit/sfu"
)

// netTestReply is a network_test or network_test_candidate message.
type netTestReply struct {
	Type       string           `json:"type"`
	Ref        string           `json:"ref"`
	Probe      string           `json:"probe"`
	SDP        string           `json:"sdp"`
	Candidate  sfu.ICECandidate `json:"candidate"`
	ICEServers []ICEServer      `json:"ice_servers"`
}

func netReply(t *testing.T, m msg) netTestReply {
	t.Helper()
	var r netTestReply
	if err := json.Unmarshal([]byte(m.raw), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// probeClient is a Pion client that completes a network test over the
// socket c: it answers the probe's offer, trickles candidates both ways and
// pings through the data channel.
type probeClient struct {
	pc     *webrtc.PeerConnection
	cands  chan webrtc.ICECandidateInit // ours, sent by the test goroutine
	open   chan *webrtc.DataChannel
	echoes chan string
	closed chan struct{}
}

func newNetProbeClient(t *testing.T) *probeClient {
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
	pcl := &probeClient{pc: pc, cands: make(chan webrtc.ICECandidateInit, 64), open: make(chan *webrtc.DataChannel, 1),
		echoes: make(chan string, 64), closed: make(chan struct{})}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			pcl.cands <- c.ToJSON()
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() { pcl.open <- dc })
		dc.OnMessage(func(m webrtc.DataChannelMessage) { pcl.echoes <- string(m.Data) })
		dc.OnClose(func() { close(pcl.closed) })
	})
	return pcl
}

// run does the whole exchange on c and returns the open data channel.
func (pcl *probeClient) run(t *testing.T, c *client) (*webrtc.DataChannel, netTestReply) {
	t.Helper()
	c.send(map[string]any{"v": 1, "type": "network_test", "id": "nt1"})
	offer := netReply(t, c.expectType(5*time.Second, "network_test"))
	if offer.Ref != "nt1" || offer.Probe == "" || offer.SDP == "" || offer.ICEServers == nil {
		t.Fatalf("network_test answer: %+v", offer)
	}
	if err := pcl.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	ans, err := pcl.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcl.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"v": 1, "type": "network_test_answer", "probe": offer.Probe, "sdp": ans.SDP})
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ci := <-pcl.cands:
			c.send(map[string]any{"v": 1, "type": "network_test_candidate", "probe": offer.Probe, "candidate": ci})
		case m := <-c.msgs:
			switch m.Type {
			case "network_test_candidate":
				r := netReply(t, m)
				if r.Probe != offer.Probe {
					t.Fatalf("candidate of probe %q, want %q", r.Probe, offer.Probe)
				}
				if err := pcl.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: r.Candidate.Candidate,
					SDPMid: r.Candidate.SDPMid, SDPMLineIndex: r.Candidate.SDPMLineIndex}); err != nil {
					t.Fatalf("add the probe's candidate: %v", err)
				}
			case "error":
				t.Fatalf("error during the network test: %s", m.raw)
			}
		case dc := <-pcl.open:
			return dc, offer
		case <-deadline:
			t.Fatal("the probe's data channel did not open within 15s")
		}
	}
}

func (pcl *probeClient) ping(t *testing.T, dc *webrtc.DataChannel, text string) time.Duration {
	t.Helper()
	start := time.Now()
	if err := dc.SendText(text); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-pcl.echoes:
		if got != text {
			t.Fatalf("echo %q, want %q", got, text)
		}
		return time.Since(start)
	case <-time.After(5 * time.Second):
		t.Fatalf("no echo of %q", text)
	}
	return 0
}

// TestNetworkTestProbe: a patient who has not even checked in, and a
// clinician, each complete a network test with a real Pion client: the
// probe's offer comes with the TURN servers, candidates trickle both ways,
// the data channel echoes pings, and the probe ends with the socket. The
// limits hold: answers without a probe and too many tests are refused.
func TestNetworkTestProbe(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.ICEServers = func(string) []ICEServer {
		return []ICEServer{{URLs: []string{"turn:127.0.0.1:3478"}, Username: "1700000000:x", Credential: "c"}}
	}
	st := w.start(cfg, nil)
	m := startMedia(t, w, st)
	cs := st.newClinic(t, "probe")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Barbara McClintock")

	c := connect(t, st.ts, patientHeaders(p.token))
	c.send(map[string]any{"v": 1, "type": "network_test"})
	if e := c.expectType(5*time.Second, "error"); e.Code != codeBadMessage {
		t.Fatalf("network_test before hello: %s", e.raw)
	}
	c.hello(nil)
	c.expectType(5*time.Second, "patient_status")
	c.send(map[string]any{"v": 1, "type": "network_test_answer", "sdp": "v=0"})
	if e := c.expectType(5*time.Second, "error"); e.Code != codeNoNetTest {
		t.Fatalf("answer without a test: %s", e.raw)
	}

	pcl := newNetProbeClient(t)
	dc, offer := pcl.run(t, c)
	if len(offer.ICEServers) != 1 || offer.ICEServers[0].Username == "" {
		t.Fatalf("ice_servers %+v, want the configured TURN server", offer.ICEServers)
	}
	for _, ping := range []string{"1", "2", "3"} {
		t.Logf("round trip %v", pcl.ping(t, dc, ping))
	}
	if n := m.Rooms(); n != 0 {
		t.Fatalf("the network test made %d rooms", n)
	}

	// The socket ends: so does the probe.
	_ = c.conn.Close()
	select {
	case <-pcl.closed:
	case <-time.After(15 * time.Second):
		t.Fatal("the probe outlived its socket")
	}

	// Staff may test too; a fresh socket has its own limit, which holds.
	s := connect(t, st.ts, staffHeaders("clin"))
	s.hello(nil)
	s.expectType(5*time.Second, "waiting_room")
	sdc, _ := newNetProbeClient(t).run(t, s)
	if sdc.Label() != sfu.ProbeChannel {
		t.Fatalf("data channel %q", sdc.Label())
	}
	for i := 1; i < netTestBurst; i++ {
		s.send(map[string]any{"v": 1, "type": "network_test"})
		s.expectType(5*time.Second, "network_test")
	}
	s.send(map[string]any{"v": 1, "type": "network_test", "id": "over"})
	if e := s.expect(5*time.Second, "rate_limited error", func(m msg) bool { return m.Type == "error" }); e.Code != codeRateLimited || e.Ref != "over" {
		t.Fatalf("network test over the limit: %s", e.raw)
	}
	s.send(map[string]any{"v": 1, "type": "network_test_candidate", "probe": "nope", "candidate": map[string]any{"candidate": "x"}})
	if e := s.expect(5*time.Second, "error", func(m msg) bool { return m.Type == "error" }); e.Code != codeNoNetTest {
		t.Fatalf("candidate for another probe: %s", e.raw)
	}
}

// TestNetworkTestWithoutMedia: a server without an SFU says so.
func TestNetworkTestWithoutMedia(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "nomedia")
	p := w.newPatient(t, st, cs, "Chien-Shiung Wu")
	c := connect(t, st.ts, patientHeaders(p.token))
	c.hello(nil)
	c.expectType(5*time.Second, "patient_status")
	c.send(map[string]any{"v": 1, "type": "network_test", "id": "n"})
	if e := c.expectType(5*time.Second, "error"); e.Code != codeNoMedia || e.Ref != "n" {
		t.Fatalf("network_test without media: %s", e.raw)
	}
}
