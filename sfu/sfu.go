package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// ErrClosed is returned by operations on a closed SFU, room or participant.
var ErrClosed = errors.New("sfu: closed")

// SFU owns the shared network setup (one ICE UDP port, optional ICE TCP
// port) and the rooms. Create it with New; Close ends all its work.
type SFU struct {
	cfg   Config
	log   *slog.Logger
	start time.Time // anchors now()
	lf    pionLoggerFactory

	se     webrtc.SettingEngine // shared by every PeerConnection (read-only after New)
	udpMux *ice.MultiUDPMuxDefault
	tcpMux *ice.TCPMuxDefault
	tcpLn  net.Listener

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool

	gone        counters // traffic of forgotten rooms (see stats.go)
	onConnected atomic.Pointer[func(time.Duration)]
}

// New validates cfg, opens the shared ICE port(s) and returns an SFU.
func New(cfg Config, log *slog.Logger) (*SFU, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		return nil, fmt.Errorf("%w: nil logger", ErrInvalidConfig)
	}
	s := &SFU{start: time.Now(), cfg: cfg, log: log, lf: newPionLoggerFactory(log), rooms: map[string]*Room{}}
	if err := s.listen(); err != nil {
		s.closeMuxes()
		return nil, err
	}
	if err := s.buildSettingEngine(); err != nil {
		s.closeMuxes()
		return nil, err
	}
	return s, nil
}

// networks are the ICE network types in use.
func (s *SFU) networks() (udp []ice.NetworkType, all []webrtc.NetworkType) {
	udp = []ice.NetworkType{ice.NetworkTypeUDP4}
	all = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if s.cfg.IPv6 {
		udp = append(udp, ice.NetworkTypeUDP6)
		all = append(all, webrtc.NetworkTypeUDP6)
	}
	if s.cfg.TCPPort != 0 {
		all = append(all, webrtc.NetworkTypeTCP4)
		if s.cfg.IPv6 {
			all = append(all, webrtc.NetworkTypeTCP6)
		}
	}
	return udp, all
}

// listen opens the UDP mux on every local address and the TCP mux.
func (s *SFU) listen() error {
	udp, _ := s.networks()
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(udp...),
		ice.UDPMuxFromPortWithLogger(s.lf.NewLogger("udpmux")),
	}
	if s.cfg.IncludeLoopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	mux, err := ice.NewMultiUDPMuxFromPort(s.cfg.UDPPort, opts...)
	if err != nil {
		return fmt.Errorf("sfu: open ICE UDP port %d: %w", s.cfg.UDPPort, err)
	}
	s.udpMux = mux
	if s.cfg.TCPPort == 0 {
		return nil
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: s.cfg.TCPPort})
	if err != nil {
		return fmt.Errorf("sfu: open ICE TCP port %d: %w", s.cfg.TCPPort, err)
	}
	s.tcpLn = ln
	s.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{
		Listener: ln, Logger: s.lf.NewLogger("tcpmux"), ReadBufferSize: 32, WriteBufferSize: 4 << 20,
	})
	return nil
}

// buildSettingEngine sets what every PeerConnection shares.
func (s *SFU) buildSettingEngine() error {
	_, nets := s.networks()
	se := webrtc.SettingEngine{LoggerFactory: s.lf}
	se.SetNetworkTypes(nets)
	se.SetICEUDPMux(s.udpMux)
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
	}
	se.SetIncludeLoopbackCandidate(s.cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetSRTPProtectionProfiles(
		dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	)
	if len(s.cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: s.cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return fmt.Errorf("sfu: public IPs: %w", err)
		}
	}
	s.se = se
	return nil
}

// newPeerConnection builds a PeerConnection with its own MediaEngine and
// interceptor registry on the shared SettingEngine.
func (s *SFU) newPeerConnection(onEstimator func(cc.BandwidthEstimator)) (*webrtc.PeerConnection, error) {
	me, err := newMediaEngine()
	if err != nil {
		return nil, err
	}
	reg, err := newInterceptors(&s.cfg, s.lf, onEstimator)
	if err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(s.se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	return pc, nil
}

// UDPAddrs returns the local addresses of the shared ICE UDP port.
func (s *SFU) UDPAddrs() []net.Addr {
	return s.udpMux.GetListenAddresses()
}

// Room returns the room with this ID, creating it if needed. On a closed
// SFU it returns a closed room, whose Join fails with ErrClosed.
func (s *SFU) Room(id string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[id]; ok {
		return r
	}
	r := newRoom(s, id)
	if s.closed {
		r.closed = true
		return r
	}
	s.rooms[id] = r
	return r
}

// reapIfEmpty forgets a room whose last participant left, so rooms do not
// pile up in a long-running server. A Join racing with this lands in a
// fresh room of the same ID (see errRetired). Lock order: SFU.mu, Room.mu.
func (s *SFU) reapIfEmpty(r *Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.participants) > 0 || len(r.sinks) > 0 || r.closed || r.retired {
		return
	}
	r.retired = true
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
		s.retireCounters(r)
	}
}

// Rooms returns the number of rooms in use.
func (s *SFU) Rooms() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

// forgetRoom is called by Room.Close.
func (s *SFU) forgetRoom(r *Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
		s.retireCounters(r)
	}
}

// Close closes every room, waits for their goroutines, and releases the
// ICE ports. It is safe to call more than once.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.Close()
	}
	return s.closeMuxes()
}

func (s *SFU) closeMuxes() error {
	var errs []error
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	}
	return errors.Join(errs...)
}

// now is the clock of the forwarding path: monotonic nanoseconds.
func (s *SFU) now() int64 { return time.Since(s.start).Nanoseconds() }
