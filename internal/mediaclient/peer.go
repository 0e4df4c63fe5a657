package mediaclient

import (
	"fmt"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// newAPI is one PeerConnection's WebRTC stack: its own media engine and
// interceptor registry (NACK, RTCP reports, TWCC), UDP4, no mDNS, Pion's
// logs off (a client torn down mid-call makes them noisy).
func (c *Client) newAPI() (*webrtc.API, error) {
	se := webrtc.SettingEngine{}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(c.cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("mediaclient: codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		return nil, fmt.Errorf("mediaclient: interceptors: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg)), nil
}

// buildPeer replaces the PeerConnection (closing the old one) with a new
// one carrying the client's tracks, for the socket conn that just joined.
func (c *Client) buildPeer(conn *websocket.Conn, ice []webrtc.ICEServer) error {
	api, err := c.newAPI()
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: ice})
	if err != nil {
		return fmt.Errorf("mediaclient: new PeerConnection: %w", err)
	}
	c.mu.Lock()
	old := c.cur.pc
	c.cur.pcGen++
	gen := c.cur.pcGen
	c.cur.pc, c.cur.pcState = pc, webrtc.PeerConnectionStateNew
	c.connected.Store(false)
	c.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	pc.OnTrack(c.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.mu.Lock()
		if c.cur.pcGen == gen {
			c.cur.pcState = s
			c.connected.Store(s == webrtc.PeerConnectionStateConnected)
		}
		c.mu.Unlock()
	})
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.sendCandidate(gen, cand.ToJSON())
		}
	})
	for _, tr := range []*webrtc.TrackLocalStaticRTP{c.audio, c.video} {
		if tr == nil {
			continue
		}
		sender, err := pc.AddTrack(tr)
		if err != nil {
			return fmt.Errorf("mediaclient: add %s track: %w", tr.Kind(), err)
		}
		go c.readRTCP(sender)
	}
	return nil
}

// sendCandidate trickles a candidate of PeerConnection gen on the socket
// that joined, if that PeerConnection is still the current one.
func (c *Client) sendCandidate(gen int, j webrtc.ICECandidateInit) {
	c.mu.Lock()
	conn := c.cur.conn
	ok := c.cur.pcGen == gen && c.cur.joined && conn != nil
	c.mu.Unlock()
	if ok {
		c.write(conn, map[string]any{"v": 1, "type": "candidate", "candidate": map[string]any{
			"candidate": j.Candidate, "sdpMid": j.SDPMid, "sdpMLineIndex": j.SDPMLineIndex}})
	}
}

// kinds are the publish message's kinds.
func (c *Client) kinds() []string {
	k := []string{}
	if c.audio != nil {
		k = append(k, "audio")
	}
	if c.video != nil {
		k = append(k, "video")
	}
	return k
}

// peer is the current PeerConnection (nil before the first join).
// dropPeer closes the current PeerConnection (its room is gone: the client
// was moved), so the next join asks for a new place instead of resuming.
func (c *Client) dropPeer() {
	c.mu.Lock()
	old := c.cur.pc
	c.cur.pcGen++
	c.cur.pc, c.cur.pcState = nil, webrtc.PeerConnectionStateClosed
	c.connected.Store(false)
	c.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}

func (c *Client) peer() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.pc
}
