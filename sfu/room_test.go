package sfu

import (
	"encoding/binary"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// testLogWriter sends slog output to t.Log until the test ends: Pion's
// goroutines may still log while a test's cleanup closes the SFU, and
// t.Log after the test has completed is a data race.
type testLogWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func newTestLogWriter(t testing.TB) *testLogWriter {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(b)))
	}
	return len(b), nil
}

func newTestSFU(t testing.TB, cfg Config) *SFU {
	t.Helper()
	cfg.IncludeLoopback = true
	log := slog.New(slog.NewTextHandler(newTestLogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// markerOf returns the marker string inside a received payload.
func markerOf(pkt rtp.Packet, video bool) string {
	skip := 1
	if video {
		skip = 2
	}
	if len(pkt.Payload) < skip+2 {
		return ""
	}
	return string(pkt.Payload[skip : len(pkt.Payload)-2])
}

// waitForMedia waits until peer receives at least n packets on key, all
// carrying marker, with consecutive sequence numbers.
func waitForMedia(t *testing.T, tp *testPeer, key, marker string, video bool, n int) {
	t.Helper()
	eventually(t, 15*time.Second, tp.name+" receiving "+key, func() bool { return len(tp.packets(key)) >= n })
	pkts := tp.packets(key)
	for i, pkt := range pkts {
		if got := markerOf(pkt, video); got != marker {
			t.Fatalf("%s: packet %d on %s has marker %q, want %q", tp.name, i, key, got, marker)
		}
		if i > 0 && pkt.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("%s: %s seq %d after %d", tp.name, key, pkt.SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
	if video && pkts[0].Payload[1]&1 != 0 {
		t.Fatalf("%s: first video packet on %s is not a keyframe", tp.name, key)
	}
}

// goroutineBaseline returns a check that fails if goroutines leaked.
func goroutineBaseline(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		var now int
		for i := 0; i < 300; i++ {
			if now = runtime.NumGoroutine(); now <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after Close\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}

func TestTwoParticipants(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-1")
	a, b := newTestPeer(t, room, "a"), newTestPeer(t, room, "b")
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	aa, aSender := a.publish(webrtc.MimeTypeOpus, "a-mic")
	bv, _ := b.publish(webrtc.MimeTypeVP8, "b-cam")
	eventually(t, 10*time.Second, "a's audio negotiated", func() bool {
		return audioLevelID(aSender.GetParameters().HeaderExtensions) != 0
	})
	pumps := []*pump{
		startPump(av, true, "A-VIDEO"),
		startPumpExt(aa, false, "A-AUDIO", audioLevelID(aSender.GetParameters().HeaderExtensions)),
		startPump(bv, true, "B-VIDEO"),
	}

	waitForMedia(t, b, "a/a-cam", "A-VIDEO", true, 30)
	waitForMedia(t, b, "a/a-mic", "A-AUDIO", false, 30)
	waitForMedia(t, a, "b/b-cam", "B-VIDEO", true, 30)
	if n := len(a.packets("a/a-cam")); n != 0 {
		t.Fatalf("a received its own track (%d packets)", n)
	}

	// Media is DTLS-SRTP with an AES-GCM profile.
	transports := 0
	for _, st := range a.part.pc.GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok {
			transports++
			if !strings.HasPrefix(ts.SRTPCipher, "SRTP_AEAD_AES_") {
				t.Fatalf("SRTP profile %q, want AES-GCM", ts.SRTPCipher)
			}
		}
	}
	if transports == 0 {
		t.Fatal("no transport stats")
	}

	// The audio level extension survives, renumbered for b, matching the
	// level the publisher set for that packet's source sequence number.
	b.mu.Lock()
	levelID := b.levelIDs["a/a-mic"]
	b.mu.Unlock()
	if levelID == 0 {
		t.Fatal("b negotiated no audio level extension")
	}
	for _, pkt := range b.packets("a/a-mic") {
		src := binary.BigEndian.Uint16(pkt.Payload[len(pkt.Payload)-2:])
		if got := pkt.GetExtension(levelID); len(got) != 1 || got[0] != 0x80|byte(src%128) {
			t.Fatalf("audio level of source packet %d: %x", src, got)
		}
	}

	// Muting a's video stops it reaching b; a's audio keeps flowing.
	a.part.SetMuted(webrtc.RTPCodecTypeVideo, true)
	time.Sleep(100 * time.Millisecond)
	nv, na := len(b.packets("a/a-cam")), len(b.packets("a/a-mic"))
	time.Sleep(300 * time.Millisecond)
	if got := len(b.packets("a/a-cam")); got != nv {
		t.Fatalf("muted video still forwarded: %d -> %d", nv, got)
	}
	if len(b.packets("a/a-mic")) < na+10 {
		t.Fatal("audio stopped while only video was muted")
	}
	a.part.SetMuted(webrtc.RTPCodecTypeVideo, false)
	eventually(t, 5*time.Second, "video after unmute", func() bool { return len(b.packets("a/a-cam")) > nv+10 })
	vp := b.packets("a/a-cam")
	for i := 1; i < len(vp); i++ {
		if vp[i].SequenceNumber != vp[i-1].SequenceNumber+1 {
			t.Fatalf("sequence gap across mute: %d then %d", vp[i-1].SequenceNumber, vp[i].SequenceNumber)
		}
	}
	if vp[nv].Payload[1]&1 != 0 {
		t.Fatal("video resumed without a keyframe")
	}

	for _, p := range pumps {
		p.close()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}

func TestThreeParticipantsAndLeave(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-3")
	peers := []*testPeer{newTestPeer(t, room, "a"), newTestPeer(t, room, "b"), newTestPeer(t, room, "c")}
	var pumps []*pump
	for _, tp := range peers {
		v, _ := tp.publish(webrtc.MimeTypeVP8, tp.name+"-cam")
		pumps = append(pumps, startPump(v, true, strings.ToUpper(tp.name)))
	}
	for _, rx := range peers {
		for _, tx := range peers {
			if rx != tx {
				waitForMedia(t, rx, tx.name+"/"+tx.name+"-cam", strings.ToUpper(tx.name), true, 20)
			}
		}
	}

	// c leaves: its track disappears from a and b.
	pumps[2].close()
	peers[2].part.Close()
	if room.Participant("c") != nil || room.Len() != 2 {
		t.Fatalf("c still in room (len %d)", room.Len())
	}
	for _, rx := range peers[:2] {
		eventually(t, 10*time.Second, rx.name+" losing c's track", func() bool {
			rx.part.mu.Lock()
			n := len(rx.part.downs)
			rx.part.mu.Unlock()
			rx.mu.Lock()
			ended := rx.ended["c/c-cam"]
			rx.mu.Unlock()
			return n == 1 && ended
		})
	}
	// a and b still get each other.
	before := len(peers[1].packets("a/a-cam"))
	eventually(t, 5*time.Second, "b still receiving a", func() bool { return len(peers[1].packets("a/a-cam")) > before+10 })

	for _, p := range pumps[:2] {
		p.close()
	}
	room.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tp := range peers {
		tp.close()
	}
	checkLeaks()
}

func TestNACKAndPLI(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	const interval = time.Second
	s := newTestSFU(t, Config{PLIMinInterval: interval})
	room := s.Room("visit-rtcp")
	a, b := newTestPeer(t, room, "a"), newTestPeer(t, room, "b")
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	pm := startPump(av, true, "A")
	waitForMedia(t, b, "a/a-cam", "A", true, 20)

	// NACK: b asks again for a packet it already has; the SFU re-sends it
	// from the cache (the client's replay protection is off to see it).
	pkts := b.packets("a/a-cam")
	want := pkts[len(pkts)-5]
	nack := &rtcp.TransportLayerNack{MediaSSRC: want.SSRC, Nacks: []rtcp.NackPair{{PacketID: want.SequenceNumber}}}
	if err := b.pc.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "retransmission", func() bool {
		n := 0
		for _, p := range b.packets("a/a-cam") {
			if p.SequenceNumber == want.SequenceNumber {
				n++
				if string(p.Payload) != string(want.Payload) || p.Timestamp != want.Timestamp {
					t.Fatalf("retransmitted packet differs")
				}
			}
		}
		return n >= 2
	})

	// PLI: two within the interval reach the publisher once.
	isPLI := func(p rtcp.Packet) bool { _, ok := p.(*rtcp.PictureLossIndication); return ok }
	time.Sleep(interval + 100*time.Millisecond)
	base := a.countRTCP(isPLI)
	pli := &rtcp.PictureLossIndication{MediaSSRC: want.SSRC}
	for i := 0; i < 2; i++ {
		if err := b.pc.WriteRTCP([]rtcp.Packet{pli}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 3*time.Second, "PLI upstream", func() bool { return a.countRTCP(isPLI) > base })
	time.Sleep(interval / 3)
	if got := a.countRTCP(isPLI) - base; got != 1 {
		t.Fatalf("publisher got %d PLIs for 2 requests within the interval, want 1", got)
	}
	// After the interval, a new request goes through again.
	time.Sleep(interval)
	if err := b.pc.WriteRTCP([]rtcp.Packet{pli}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "second PLI upstream", func() bool { return a.countRTCP(isPLI) == base+2 })

	pm.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}
