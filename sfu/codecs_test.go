package sfu

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestVideoCodecsForward publishes VP9, H264 and AV1: the subscriber gets
// the publisher's codec and its first packet is a keyframe of that codec.
func TestVideoCodecsForward(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-codecs")
	a, b := newTestPeer(t, room, "a"), newTestPeer(t, room, "b")
	codecs := []struct {
		mime       string
		key, delta [2]byte
	}{
		{webrtc.MimeTypeVP9, [2]byte{0x08, 0}, [2]byte{0x48, 0}},
		{webrtc.MimeTypeH264, [2]byte{0x65, 0}, [2]byte{0x41, 0}},
		{webrtc.MimeTypeAV1, [2]byte{0x18, 0}, [2]byte{0x10, 0}},
	}
	var pumps []*pump
	for _, c := range codecs {
		tr, _ := a.publish(c.mime, c.mime[6:])
		pumps = append(pumps, startPumpCodec(tr, true, c.mime, 0, c.key, c.delta))
	}
	for _, c := range codecs {
		key := "a/" + c.mime[6:]
		eventually(t, 15*time.Second, "b receiving "+c.mime, func() bool { return len(b.packets(key)) >= 10 })
		pk := b.packets(key)
		b.mu.Lock()
		mime := b.mimes[key]
		b.mu.Unlock()
		if mime != c.mime {
			t.Fatalf("%s arrived as %s", c.mime, mime)
		}
		if pk[0].Payload[0] != c.key[0] || markerOf(pk[0], true) != c.mime {
			t.Fatalf("%s: first packet %x", c.mime, pk[0].Payload)
		}
		if !isKeyframe(codecKindOf(c.mime), pk[0].Payload) {
			t.Fatalf("%s: first packet is not a keyframe", c.mime)
		}
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

// TestUndecodableTrackDoesNotBreakOthers: a subscriber without VP9 gets
// no VP9 track media, but still the VP8 one, in the same connection.
func TestUndecodableTrackDoesNotBreakOthers(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-undecodable")
	a := newTestPeer(t, room, "a")
	b := newTestPeerWithout(t, room, "b", webrtc.MimeTypeVP9)
	v9, _ := a.publish(webrtc.MimeTypeVP9, "vp9")
	p9 := startPumpCodec(v9, true, "NINE", 0, [2]byte{0x08, 0}, [2]byte{0x48, 0})
	time.Sleep(300 * time.Millisecond)
	v8, _ := a.publish(webrtc.MimeTypeVP8, "vp8")
	p8 := startPump(v8, true, "EIGHT")
	waitForMedia(t, b, "a/vp8", "EIGHT", true, 20)
	if n := len(b.packets("a/vp9")); n != 0 {
		t.Fatalf("b got %d VP9 packets it cannot decode", n)
	}
	p9.close()
	p8.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}
