package sfu

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recordingSink is a Sink that keeps copies of what it receives.
type recordingSink struct {
	mu     sync.Mutex
	tracks map[string]*recordedTrack
}

type recordedTrack struct {
	sink    *recordingSink
	info    TrackInfo
	packets []rtp.Packet
	closed  bool
}

func (s *recordingSink) OpenTrack(info TrackInfo) (TrackWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info.Kind == "audio" && info.ParticipantID == "skip-audio" {
		return nil, errors.New("not recorded")
	}
	t := &recordedTrack{sink: s, info: info}
	s.tracks[info.StreamID+"/"+info.TrackID] = t
	return t, nil
}

func (t *recordedTrack) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	t.sink.mu.Lock()
	defer t.sink.mu.Unlock()
	if t.closed {
		panic("WriteRTP after Close")
	}
	t.packets = append(t.packets, rtp.Packet{Header: rtp.Header{SequenceNumber: h.SequenceNumber, Timestamp: h.Timestamp, PayloadType: h.PayloadType},
		Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

func (t *recordedTrack) Close() error {
	t.sink.mu.Lock()
	defer t.sink.mu.Unlock()
	t.closed = true
	return nil
}

func (s *recordingSink) track(key string) (n int, closed bool, first []byte, info TrackInfo, contiguous bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tracks[key]
	if t == nil {
		return 0, false, nil, TrackInfo{}, false
	}
	contiguous = true
	for i := 1; i < len(t.packets); i++ {
		if t.packets[i].SequenceNumber != t.packets[i-1].SequenceNumber+1 {
			contiguous = false
		}
	}
	if len(t.packets) > 0 {
		first = t.packets[0].Payload
	}
	return len(t.packets), t.closed, first, t.info, contiguous
}

// TestSinkReceivesRoomMedia attaches a recorder-like sink: it gets tracks
// published before and after it attached, starting on a keyframe, and its
// writers close when the publisher leaves and when it detaches.
func TestSinkReceivesRoomMedia(t *testing.T) {
	checkLeaks := goroutineBaseline(t)
	s := newTestSFU(t, Config{})
	room := s.Room("visit-rec")
	a, b := newTestPeer(t, room, "a"), newTestPeer(t, room, "b")
	av, _ := a.publish(webrtc.MimeTypeVP8, "a-cam")
	pa := startPump(av, true, "A")
	waitForMedia(t, b, "a/a-cam", "A", true, 10) // a's track is published

	rec := &recordingSink{tracks: map[string]*recordedTrack{}}
	detach, err := room.AttachSink("recorder", rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := room.AttachSink("recorder", rec); !errors.Is(err, ErrDuplicateSink) {
		t.Fatalf("second attach: %v", err)
	}
	bv, _ := b.publish(webrtc.MimeTypeVP8, "b-cam")
	pb := startPump(bv, true, "B")

	for _, key := range []string{"a/a-cam", "b/b-cam"} {
		eventually(t, 10*time.Second, "sink receiving "+key, func() bool { n, _, _, _, _ := rec.track(key); return n >= 20 })
		_, _, first, info, contiguous := rec.track(key)
		if first[1]&1 != 0 || !contiguous {
			t.Fatalf("%s: first packet keyframe=%v, contiguous=%v", key, first[1]&1 == 0, contiguous)
		}
		if info.MimeType != webrtc.MimeTypeVP8 || info.Kind != "video" || info.ClockRate != 90000 || info.PayloadType == 0 {
			t.Fatalf("%s: info %+v", key, info)
		}
	}
	if room.Len() != 2 {
		t.Fatalf("sink counted as participant: %d", room.Len())
	}

	// b leaves: its track's writer closes; a's stays open until detach.
	pb.close()
	b.part.Close()
	eventually(t, 5*time.Second, "b's writer closed", func() bool { _, closed, _, _, _ := rec.track("b/b-cam"); return closed })
	if _, closed, _, _, _ := rec.track("a/a-cam"); closed {
		t.Fatal("a's writer closed early")
	}
	detach()
	detach() // idempotent
	if _, closed, _, _, _ := rec.track("a/a-cam"); !closed {
		t.Fatal("detach did not close a's writer")
	}

	pa.close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.close()
	b.close()
	checkLeaks()
}

func TestSinkKeepsRoomAlive(t *testing.T) {
	s := newTestSFU(t, Config{})
	defer s.Close()
	room := s.Room("r")
	detach, err := room.AttachSink("rec", &recordingSink{tracks: map[string]*recordedTrack{}})
	if err != nil {
		t.Fatal(err)
	}
	room.Remove("nobody")
	if s.Rooms() != 1 || s.Room("r") != room {
		t.Fatal("room with a sink was reaped")
	}
	detach()
	if s.Rooms() != 0 {
		t.Fatal("empty room kept after detach")
	}
	if _, err := room.AttachSink("x", nil); err == nil {
		t.Fatal("nil sink accepted")
	}
}
