package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// TestTapSinkRequestsKeyframe: a sink asks for a keyframe through its
// TrackInfo and the publisher gets a PLI, rate-limited like any other.
func TestTapSinkRequestsKeyframe(t *testing.T) {
	const interval = 300 * time.Millisecond
	s := newTestSFU(t, Config{PLIMinInterval: interval})
	defer s.Close()
	room := s.Room("visit-tap")
	a := newTestPeer(t, room, "a")
	defer a.close()
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	pm := startPump(av, true, "A")
	defer pm.close()
	rec := &recordingSink{tracks: map[string]*recordedTrack{}}
	detach, err := room.AttachSink("recorder", rec)
	if err != nil {
		t.Fatal(err)
	}
	defer detach()
	eventually(t, 10*time.Second, "sink receiving", func() bool { n, _, _, _, _ := rec.track("a/a-cam"); return n >= 10 })
	_, _, _, info, _ := rec.track("a/a-cam")
	if info.RequestKeyframe == nil {
		t.Fatal("no RequestKeyframe in the sink's TrackInfo")
	}
	isPLI := func(p rtcp.Packet) bool { _, ok := p.(*rtcp.PictureLossIndication); return ok }
	time.Sleep(interval) // past the PLI the attach may have sent
	base := a.countRTCP(isPLI)
	if !info.RequestKeyframe() {
		t.Fatal("RequestKeyframe sent nothing")
	}
	if info.RequestKeyframe() {
		t.Fatal("a second request within the PLI interval was sent")
	}
	eventually(t, 3*time.Second, "PLI at the publisher", func() bool { return a.countRTCP(isPLI) > base })
}
