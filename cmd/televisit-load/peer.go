package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Each synthetic payload carries a stamp: magic, sender, kind, sequence
// number and send time, so receivers can count, find gaps and measure the
// one-way delay (sender and receiver share this machine's clock).
var stampMagic = [4]byte{'T', 'V', 'L', '1'}

const stampLen = 4 + 4 + 1 + 4 + 8

const (
	kindAudio byte = 'a'
	kindVideo byte = 'v'
)

func putStamp(b []byte, sender uint32, kind byte, seq uint32, at time.Time) {
	copy(b, stampMagic[:])
	binary.BigEndian.PutUint32(b[4:], sender)
	b[8] = kind
	binary.BigEndian.PutUint32(b[9:], seq)
	binary.BigEndian.PutUint64(b[13:], uint64(at.UnixNano()))
}

// findStamp looks for a stamp near the start of a payload (after the VP8
// payload descriptor and frame header, or the Opus TOC byte).
func findStamp(p []byte) (sender uint32, kind byte, seq uint32, sentNanos int64, ok bool) {
	head := p
	if len(head) > 48 {
		head = head[:48]
	}
	i := bytes.Index(head, stampMagic[:])
	if i < 0 || len(p) < i+stampLen {
		return 0, 0, 0, 0, false
	}
	s := p[i:]
	return binary.BigEndian.Uint32(s[4:]), s[8], binary.BigEndian.Uint32(s[9:]), int64(binary.BigEndian.Uint64(s[13:])), true
}

// streamKey is one (sender, track) stream as a receiver sees it.
type streamKey struct {
	sender uint32
	kind   byte
}

// streamStats counts one stream inside the measurement window. Sequence
// numbers are remembered in a bitmap from the first one seen, so that
// retransmissions (answers to NACKs) count as duplicates, not as packets.
type streamStats struct {
	base, max uint32
	bits      []uint64
	unique    int // distinct sequence numbers at or after base
	dups      int // the same sequence number again
	early     int // sequence numbers before base (reordered across the window's start)
}

func newStreamStats(seq uint32) *streamStats {
	return &streamStats{base: seq, max: seq}
}

// add records seq and reports whether it was new.
func (s *streamStats) add(seq uint32) bool {
	if seq < s.base {
		s.early++
		return true
	}
	off := seq - s.base
	if off >= 1<<24 { // nonsense: no run sends 16 M packets per stream
		return false
	}
	w := int(off / 64)
	for len(s.bits) <= w {
		s.bits = append(s.bits, 0)
	}
	if s.bits[w]&(1<<(off%64)) != 0 {
		s.dups++
		return false
	}
	s.bits[w] |= 1 << (off % 64)
	s.unique++
	if seq > s.max {
		s.max = seq
	}
	return true
}

// expected is how many packets the stream sent from the first to the last
// one received in the window; lost are those of them never received.
func (s *streamStats) expected() int { return int(s.max-s.base) + 1 }
func (s *streamStats) lost() int     { return s.expected() - s.unique }

// gaps lists the runs of missing sequence numbers as [offset, length].
func (s *streamStats) gaps() [][2]int {
	var out [][2]int
	n := s.expected()
	for i := 0; i < n; {
		if s.bits[i/64]&(1<<(i%64)) != 0 {
			i++
			continue
		}
		j := i
		for j < n && s.bits[j/64]&(1<<(j%64)) == 0 {
			j++
		}
		out = append(out, [2]int{i, j - i})
		i = j
	}
	return out
}

// peer is one synthetic participant: a WebSocket for signaling and a Pion
// PeerConnection that sends synthetic audio and video and receives the
// others'. Like every Pion client it never offers: it sends publish and
// answers the server's offers.
type peer struct {
	id      uint32
	visitID string
	creds   participantCreds
	cfg     *Config
	meas    *atomic.Bool // the measurement window is open

	pc   *webrtc.PeerConnection
	wmu  sync.Mutex
	conn *websocket.Conn

	pending []webrtc.ICECandidateInit // signaling loop only

	wantKey   atomic.Bool // a keyframe was asked for (PLI/FIR)
	connected atomic.Bool // the PeerConnection is connected: packets leave

	mu          sync.Mutex
	openedAt    time.Time // WebSocket open
	joined      bool
	firstMedia  time.Time
	joinErr     string
	streams     map[streamKey]*streamStats
	seen        map[streamKey]bool // streams seen at all (readiness)
	delaysMicro []int64            // one-way delays, µs (a reservoir sample)
	delaySeen   int
	sent        [2]int // in the window: audio, video

	wg   sync.WaitGroup
	done chan struct{}
}

type serverMsg struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	SDP       string `json:"sdp"`
	Reason    string `json:"reason"`
	Candidate struct {
		Candidate     string  `json:"candidate"`
		SDPMid        *string `json:"sdpMid"`
		SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
	} `json:"candidate"`
}

// newAPI is the clients' WebRTC stack: Pion's default codecs and default
// interceptors (NACK, RTCP reports, TWCC), loopback candidates, UDP4.
func newAPI() *webrtc.API {
	se := webrtc.SettingEngine{}
	// Pion's own logs (interceptors complaining about closed pipes while
	// the run tears down) would drown the report; failures that matter
	// surface as join errors or in the counts.
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	_ = me.RegisterDefaultCodecs()
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me))
}

// start opens the socket, joins the visit and publishes. It returns once
// the socket is open; the rest happens in the background.
func (p *peer) start(ctx context.Context, api *webrtc.API, wsURL, origin string) error {
	p.done = make(chan struct{})
	p.streams = map[streamKey]*streamStats{}
	p.seen = map[streamKey]bool{}
	var err error
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	p.pc.OnTrack(p.onTrack)
	p.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.connected.Store(s == webrtc.PeerConnectionStateConnected)
	})
	p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			j := c.ToJSON()
			p.write(map[string]any{"v": 1, "type": "candidate", "candidate": map[string]any{
				"candidate": j.Candidate, "sdpMid": j.SDPMid, "sdpMLineIndex": j.SDPMLineIndex}})
		}
	})
	var kinds []string
	if p.cfg.Audio {
		if err := p.addTrack(webrtc.MimeTypeOpus, 48000, kindAudio); err != nil {
			return err
		}
		kinds = append(kinds, "audio")
	}
	if p.cfg.VideoBitrate > 0 {
		if err := p.addTrack(webrtc.MimeTypeVP8, 90000, kindVideo); err != nil {
			return err
		}
		kinds = append(kinds, "video")
	}

	h := http.Header{"Origin": {origin}}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Jar: p.creds.jar}
	conn, resp, err := d.DialContext(ctx, wsURL, h)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("websocket: HTTP %d: %w", resp.StatusCode, err)
		}
		return fmt.Errorf("websocket: %w", err)
	}
	p.mu.Lock()
	p.openedAt = time.Now()
	p.mu.Unlock()
	p.wmu.Lock()
	p.conn = conn
	p.wmu.Unlock()
	p.write(map[string]any{"v": 1, "type": "hello"})
	join := map[string]any{"v": 1, "type": "join"}
	if p.creds.role == "clinician" {
		join["visit_id"] = p.visitID
	}
	p.write(join)
	p.wg.Add(1)
	go p.signalLoop(kinds)
	return nil
}

func (p *peer) addTrack(mime string, clock uint32, kind byte) error {
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock}, string(kind), fmt.Sprintf("load-%d", p.id))
	if err != nil {
		return err
	}
	sender, err := p.pc.AddTrack(tr)
	if err != nil {
		return err
	}
	p.wg.Add(2)
	go p.readRTCP(sender)
	if kind == kindAudio {
		go p.sendAudio(tr)
	} else {
		go p.sendVideo(tr)
	}
	return nil
}

func (p *peer) write(v any) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.conn != nil {
		_ = p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_ = p.conn.WriteJSON(v)
	}
}

func (p *peer) fail(format string, args ...any) {
	p.mu.Lock()
	if p.joinErr == "" {
		p.joinErr = fmt.Sprintf(format, args...)
	}
	p.mu.Unlock()
}

// signalLoop reads the socket and owns the negotiation.
func (p *peer) signalLoop(kinds []string) {
	defer p.wg.Done()
	for {
		_, data, err := p.conn.ReadMessage()
		if err != nil {
			select {
			case <-p.done:
			default:
				p.fail("websocket closed: %v", err)
			}
			return
		}
		var m serverMsg
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case "joined":
			p.mu.Lock()
			p.joined = true
			p.mu.Unlock()
			p.write(map[string]any{"v": 1, "type": "publish", "kinds": kinds})
		case "offer":
			if err := p.answer(m.SDP); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
				p.fail("answering the offer: %v", err)
			}
		case "candidate":
			c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex}
			if p.pc.RemoteDescription() == nil {
				p.pending = append(p.pending, c)
			} else {
				_ = p.pc.AddICECandidate(c)
			}
		case "error":
			p.fail("server error %s: %s", m.Code, m.Message)
		case "media_stopped":
			p.fail("media stopped: %s", m.Reason)
		case "session_ended":
			p.fail("session ended: %s", m.Reason)
		}
	}
}

func (p *peer) answer(sdp string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	for _, c := range p.pending {
		_ = p.pc.AddICECandidate(c)
	}
	p.pending = nil
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	p.write(map[string]any{"v": 1, "type": "answer", "sdp": ans.SDP})
	return nil
}

func (p *peer) readRTCP(s *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.wantKey.Store(true)
			}
		}
	}
}

// sendAudio sends 50 packets/s: an Opus TOC byte, the stamp, padding to
// 100 bytes (about 40 kbit/s of payload).
func (p *peer) sendAudio(tr *webrtc.TrackLocalStaticRTP) {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 100)
	payload[0] = 0xfc
	var seq uint32
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		now := time.Now()
		putStamp(payload[1:], p.id, kindAudio, seq, now)
		if err := tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: uint16(seq),
			Timestamp: seq * 960}, Payload: payload}); err == nil && p.meas.Load() && p.connected.Load() {
			p.mu.Lock()
			p.sent[0]++
			p.mu.Unlock()
		}
		seq++
	}
}

// maxDelaySamples bounds the one-way delays kept per client.
const maxDelaySamples = 50000

// maxVideoPayload keeps packets under a 1,200-byte MTU with RTP and SRTP
// overhead.
const maxVideoPayload = 1100

// sendVideo sends 30 frames/s at the configured bitrate. A frame is split
// into MTU-sized packets, each with a VP8 payload descriptor (S=1 on the
// first); the first carries a VP8 frame header, a keyframe header every
// KeyframeInterval or when a PLI/FIR asked for one.
func (p *peer) sendVideo(tr *webrtc.TrackLocalStaticRTP) {
	defer p.wg.Done()
	frameBytes := int(p.cfg.VideoBitrate / 8 / 30)
	npk := (frameBytes + maxVideoPayload - 1) / maxVideoPayload
	if npk < 1 {
		npk = 1
	}
	size := frameBytes / npk
	if size < 32 {
		size = 32
	}
	buf := make([]byte, size)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var seq uint32
	var rtpSeq uint16
	lastKey := time.Time{}
	for frame := uint32(0); ; frame++ {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		key := p.wantKey.Swap(false) || time.Since(lastKey) >= p.cfg.KeyframeInterval
		if key {
			lastKey = time.Now()
		}
		sent := 0
		for i := 0; i < npk; i++ {
			off := 1
			if i == 0 {
				buf[0] = 0x10 // S=1, partition 0
				if key {
					// frame tag: P=0 (keyframe), version 0, show_frame; then
					// the start code and a 640x480 size.
					copy(buf[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
					off = 11
				} else {
					copy(buf[1:], []byte{0x11, 0x02, 0x00}) // P=1: an interframe
					off = 4
				}
			} else {
				buf[0] = 0x00
			}
			putStamp(buf[off:], p.id, kindVideo, seq, time.Now())
			err := tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == npk-1, SequenceNumber: rtpSeq,
				Timestamp: frame * 3000}, Payload: buf})
			if err == nil {
				sent++
			}
			seq++
			rtpSeq++
		}
		if p.meas.Load() && p.connected.Load() {
			p.mu.Lock()
			p.sent[1] += sent
			p.mu.Unlock()
		}
	}
}

func (p *peer) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	var pk rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if pk.Unmarshal(buf[:n]) != nil {
			continue
		}
		sender, kind, seq, sentAt, ok := findStamp(pk.Payload)
		if !ok {
			continue
		}
		p.record(streamKey{sender, kind}, seq, now, sentAt)
	}
}

func (p *peer) record(k streamKey, seq uint32, now time.Time, sentAt int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstMedia.IsZero() {
		p.firstMedia = now
	}
	p.seen[k] = true
	if !p.meas.Load() {
		return
	}
	s := p.streams[k]
	if s == nil {
		s = newStreamStats(seq)
		p.streams[k] = s
	}
	if !s.add(seq) {
		return // a retransmission: its delay is not the path's
	}
	// Keep at most maxDelaySamples per client, as a uniform reservoir
	// sample: exact for short runs, bounded memory for long ones.
	d := now.UnixNano()/1000 - sentAt/1000
	p.delaySeen++
	if len(p.delaysMicro) < maxDelaySamples {
		p.delaysMicro = append(p.delaysMicro, d)
	} else if i := rand.IntN(p.delaySeen); i < maxDelaySamples {
		p.delaysMicro[i] = d
	}
}

// ready reports whether the peer receives every stream it should: each
// other participant's audio and video.
func (p *peer) ready(others int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen) >= others*p.cfg.kinds()
}

func (p *peer) close() {
	if p.done == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.write(map[string]any{"v": 1, "type": "leave"})
	if p.pc != nil {
		_ = p.pc.Close()
	}
	p.wmu.Lock()
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.wmu.Unlock()
	p.wg.Wait()
}

// wsURL is the /ws address for an http(s) base URL, and origin its origin.
func wsURL(base string) (ws, origin string, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", err
	}
	origin = u.Scheme + "://" + u.Host
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", "", fmt.Errorf("server URL must be http or https, not %q", u.Scheme)
	}
	u.Path = "/ws"
	return u.String(), origin, nil
}
