package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// TestStatsCountTraffic: rooms, participants, forwarded packets, NACKs,
// receiver-reported loss and join-to-connected times are counted, and the
// counters survive the room being forgotten.
func TestStatsCountTraffic(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	var mu sync.Mutex
	var joins []time.Duration
	s.OnConnected(func(d time.Duration) {
		mu.Lock()
		joins = append(joins, d)
		mu.Unlock()
	})
	if st := s.Stats(); st != (Stats{}) {
		t.Fatalf("fresh SFU stats: %+v", st)
	}
	room := s.Room("visit-stats")
	a, b := newTestPeer(t, room, "a"), newTestPeer(t, room, "b")
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	pm := startPump(av, true, "A")
	waitForMedia(t, b, "a/a-cam", "A", true, 20)

	st := s.Stats()
	if st.Rooms != 1 || st.Participants != 2 {
		t.Fatalf("rooms %d participants %d, want 1 and 2", st.Rooms, st.Participants)
	}
	if got := uint64(len(b.packets("a/a-cam"))); st.PacketsForwarded < got {
		t.Fatalf("forwarded %d < %d packets b received", st.PacketsForwarded, got)
	}
	eventually(t, 5*time.Second, "join times", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(joins) == 2 && joins[0] > 0 && joins[1] > 0
	})

	ssrc := b.packets("a/a-cam")[0].SSRC
	for _, lost := range []uint32{7, 5, 10} { // a smaller count adds nothing
		rr := &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: ssrc, TotalLost: lost}, {SSRC: ssrc + 1, TotalLost: 99}}}
		if err := b.pc.WriteRTCP([]rtcp.Packet{rr}); err != nil {
			t.Fatal(err)
		}
	}
	nack := &rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: []rtcp.NackPair{{PacketID: 1, LostPackets: 0b11}}}
	if err := b.pc.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stats: %+v", st)
		}
	})
	eventually(t, 5*time.Second, "loss and NACKs counted", func() bool {
		st = s.Stats()
		return st.PacketsLost == 10 && st.PacketsNacked == 3
	})

	pm.close()
	before := s.Stats().PacketsForwarded
	a.part.Close()
	b.part.Close()
	st = s.Stats()
	if st.Rooms != 0 || st.Participants != 0 || st.PacketsForwarded < before || st.PacketsLost != 10 {
		t.Fatalf("after the room emptied: %+v (forwarded before %d)", st, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}
