package sfu

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestGlare: the peer's offer crosses the SFU's pending offer. The SFU,
// impolite, refuses it with ErrGlare and keeps its own offer, which the
// peer then answers; media flows and the peer can publish afterwards.
func TestGlare(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-glare")
	a := newTestPeer(t, room, "a")
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	pa := startPump(av, true, "A")
	eventually(t, 10*time.Second, "a published", func() bool {
		room.mu.Lock()
		defer room.mu.Unlock()
		return len(room.pubs) == 1
	})

	b := newTestPeerPaused(t, room, "b", "")
	eventually(t, 5*time.Second, "SFU offer to b", func() bool { return len(b.signals) > 0 })
	// A crossing offer (from a scratch connection, since a Pion peer
	// cannot roll back its own) is refused and changes nothing.
	scratch, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scratch.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	crossing, err := scratch.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = scratch.Close()
	if err := b.part.HandleOffer(context.Background(), crossing.SDP); !errors.Is(err, ErrGlare) {
		t.Fatalf("crossing offer: %v, want ErrGlare", err)
	}
	b.start() // answers the SFU's offer
	waitForMedia(t, b, "a/a-cam", "A", true, 20)

	bv, _ := b.publish(webrtc.MimeTypeVP8, "b-cam")
	pb := startPump(bv, true, "B")
	waitForMedia(t, a, "b/b-cam", "B", true, 20)

	pa.close()
	pb.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}
