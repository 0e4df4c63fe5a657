package sfu

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{UDPPort: -1}, {UDPPort: 70000}, {TCPPort: 65536}, {MaxParticipants: 1},
		{PLIMinInterval: -time.Second}, {PacketCacheSize: 8}, {PublicIPs: []string{"not-an-ip"}},
		{InitialBitrate: 5}, {SignalQueueLimit: 2},
	}
	for _, c := range bad {
		if err := c.withDefaults().validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: got %v, want ErrInvalidConfig", c, err)
		}
	}
	d := Config{}.withDefaults()
	if err := d.validate(); err != nil {
		t.Fatal(err)
	}
	if d.MaxParticipants != defaultMaxParticipants || d.PLIMinInterval != defaultPLIMinInterval || d.PacketCacheSize != defaultPacketCacheSize {
		t.Fatalf("defaults not applied: %+v", d)
	}
	if _, err := New(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("nil logger: %v", err)
	}
}

func TestNewWithTCPAndPublicIP(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	udpPort := uc.LocalAddr().(*net.UDPAddr).Port
	_ = uc.Close()
	s := newTestSFU(t, Config{UDPPort: udpPort, TCPPort: port, PublicIPs: []string{"203.0.113.7"}})
	if len(s.UDPAddrs()) == 0 {
		t.Fatal("no UDP listen address")
	}
	for _, a := range s.UDPAddrs() {
		if a.(*net.UDPAddr).Port != udpPort {
			t.Fatalf("ICE UDP mux on %s, want port %d", a, udpPort)
		}
	}
	// The public address replaces host candidates.
	var mu sync.Mutex
	var cands []string
	p, err := s.Room("r").Join(context.Background(), "x", JoinOptions{OnSignal: func(sig Signal) {
		if sig.Kind == SignalCandidate {
			mu.Lock()
			cands = append(cands, sig.Candidate.Candidate)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.Renegotiate()
	eventually(t, 5*time.Second, "candidates", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(cands) > 0
	})
	mu.Lock()
	for _, c := range cands {
		if !strings.Contains(c, "203.0.113.7") {
			t.Errorf("candidate without public IP: %s", c)
		}
	}
	mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeaks()
}

func TestJoinLimitsAndBadSDP(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{MaxParticipants: 2})
	room := s.Room("r")
	if s.Room("r") != room {
		t.Fatal("Room is not get-or-create")
	}
	ctx := context.Background()
	noop := JoinOptions{OnSignal: func(Signal) {}}
	a, err := room.Join(ctx, "a", noop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := room.Join(ctx, "a", noop); !errors.Is(err, ErrDuplicateParticipant) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := room.Join(ctx, "b", noop); err != nil {
		t.Fatal(err)
	}
	if _, err := room.Join(ctx, "c", noop); !errors.Is(err, ErrRoomFull) {
		t.Fatalf("full: %v", err)
	}
	if _, err := room.Join(ctx, "d", JoinOptions{}); err == nil {
		t.Fatal("join without OnSignal accepted")
	}
	if err := a.AddICECandidate(ICECandidate{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}); err != nil {
		t.Fatalf("early candidate should be queued: %v", err)
	}
	for _, sdp := range []string{"", "garbage", "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\n", strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", 3)} {
		if err := a.HandleOffer(ctx, sdp); err == nil {
			t.Errorf("malformed offer %q accepted", sdp)
		}
	}
	if err := a.HandleAnswer(ctx, "v=0"); !errors.Is(err, ErrNoOfferPending) {
		t.Fatalf("answer without offer: %v", err)
	}
	_ = a.AddICECandidate(ICECandidate{Candidate: "candidate:bogus"}) // error or queued, never a panic
	if !room.Remove("a") || room.Remove("a") {
		t.Fatal("Remove")
	}
	if err := a.HandleOffer(ctx, "v=0"); !errors.Is(err, ErrClosed) {
		t.Fatalf("offer after close: %v", err)
	}
	if _, err := room.Join(ctx, "c", noop); err != nil {
		t.Fatalf("join after a left: %v", err)
	}
	room.Close()
	if _, err := room.Join(ctx, "e", noop); !errors.Is(err, ErrClosed) {
		t.Fatalf("join closed room: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Room("late").Join(ctx, "z", noop); !errors.Is(err, ErrClosed) {
		t.Fatalf("join on closed SFU: %v", err)
	}
	checkLeaks()
}

func TestLoggerAdapterLevels(t *testing.T) {
	var b strings.Builder
	lf := newPionLoggerFactory(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l := lf.NewLogger("ice")
	l.Infof("candidate %s", "1.2.3.4") // ICE details: debug only
	l.Trace("t")
	l.Warnf("Failed to read from candidate udp4 host %s:%d", "192.0.2.2", 5000)
	l.Errorf("ping %s", "[2001:db8::1]:443")
	l.Warnf("w %d", 1)
	l.Error("dtls failed")
	out := b.String()
	for _, leak := range []string{"1.2.3.4", "192.0.2.2", "2001:db8"} {
		if strings.Contains(out, leak) {
			t.Fatalf("address %s logged above debug: %s", leak, out)
		}
	}
	if !strings.Contains(out, "level=WARN msg=\"w 1\"") || !strings.Contains(out, "level=ERROR") {
		t.Fatalf("warnings/errors lost: %s", out)
	}
}

func TestEmptyRoomIsReaped(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	ctx := context.Background()
	noop := JoinOptions{OnSignal: func(Signal) {}}
	old := s.Room("r")
	p, err := old.Join(ctx, "a", noop)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rooms() != 1 {
		t.Fatalf("rooms: %d", s.Rooms())
	}
	p.Close()
	if s.Rooms() != 0 {
		t.Fatalf("empty room kept: %d rooms", s.Rooms())
	}
	// A caller still holding the old room joins the current one.
	if _, err := old.Join(ctx, "b", noop); err != nil {
		t.Fatal(err)
	}
	if cur := s.Room("r"); cur == old || cur.Participant("b") == nil {
		t.Fatal("join on a retired room did not land in the current room")
	}
	s.Room("r").Remove("b")
	if s.Room("x").Remove("nobody") || s.Rooms() != 0 {
		t.Fatalf("Remove left %d rooms", s.Rooms())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeaks()
}

// TestSlowSignalConsumerIsClosed: a consumer that stops taking signals
// gets its participant closed instead of growing memory without bound.
func TestSlowSignalConsumerIsClosed(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{SignalQueueLimit: 8})
	release := make(chan struct{})
	p, err := s.Room("r").Join(context.Background(), "slow", JoinOptions{OnSignal: func(Signal) { <-release }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		p.signals.push(Signal{Kind: SignalState, State: "test"})
	}
	close(release)
	eventually(t, 5*time.Second, "participant closed", p.isClosed)
	p.Close()
	if s.Room("r").Len() != 0 {
		t.Fatal("slow participant still in room")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeaks()
}
