package sfu

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"
)

func TestKeyframeDetection(t *testing.T) {
	cases := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key", "video/VP8", []byte{0x10, 0x00}, true},
		{"vp8 delta", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 not start", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 ext 15-bit pid key", "video/VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 ext pid+tl0+tid delta", "video/VP8", []byte{0x90, 0xe0, 0x05, 0x07, 0x40, 0x01}, false},
		{"vp8 truncated", "video/VP8", []byte{0x90, 0x80}, false},
		{"vp8 empty", "video/VP8", nil, false},
		{"vp9 key", "video/VP9", []byte{0x08}, true},
		{"vp9 inter", "video/VP9", []byte{0x48}, false},
		{"vp9 not begin", "video/VP9", []byte{0x00}, false},
		{"vp9 layered sid0", "video/VP9", []byte{0xa8, 0x05, 0x00}, true},
		{"vp9 layered sid1", "video/VP9", []byte{0xa8, 0x05, 0x02}, false},
		{"vp9 truncated", "video/VP9", []byte{0xa8}, false},
		{"h264 idr", "video/H264", []byte{0x65}, true},
		{"h264 sps", "video/H264", []byte{0x67}, true},
		{"h264 non-idr", "video/H264", []byte{0x41}, false},
		{"h264 stap-a sps", "video/H264", []byte{0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 stap-a bad size", "video/H264", []byte{0x18, 0xff, 0xff, 0x41}, false},
		{"h264 fu-a idr start", "video/H264", []byte{0x7c, 0x85}, true},
		{"h264 fu-a idr middle", "video/H264", []byte{0x7c, 0x05}, false},
		{"av1 new sequence", "video/AV1", []byte{0x18}, true},
		{"av1 delta", "video/AV1", []byte{0x10}, false},
		{"opus", "audio/opus", []byte{0xfc}, true},
		{"unknown", "video/H265", []byte{0x00}, false},
	}
	for _, tc := range cases {
		if got := isKeyframe(codecKindOf(tc.mime), tc.payload); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPacketCache(t *testing.T) {
	c := newPacketCache(20) // rounds to 32
	buf := make([]byte, maxPacketSize)
	for seq := uint16(65530); seq != 40; seq++ { // wraps around 0
		c.put(seq, []byte{byte(seq), 1, 2})
	}
	if n := c.get(39, buf); n != 3 || buf[0] != 39 {
		t.Fatalf("get(39) = %d %v", n, buf[:n])
	}
	if n := c.get(0, buf); n != 0 {
		t.Fatal("seq 0 should have been overwritten")
	}
	if n := c.get(39, make([]byte, 2)); n != 0 {
		t.Fatal("short destination must fail")
	}
	if c.put(1, make([]byte, maxPacketSize+1)) {
		t.Fatal("oversized packet cached")
	}
}

func TestRewriterContinuity(t *testing.T) {
	r := rewriter{clockRate: 90000}
	seq, ts, ok := r.rewrite(1000, 5000, false, 0)
	if !ok || seq != 1000 || ts != 5000 {
		t.Fatalf("first: %d %d %v", seq, ts, ok)
	}
	r.rewrite(1001, 8000, false, 33e6)
	// Switch to a source with unrelated numbers 33ms later.
	seq, ts, _ = r.rewrite(7, 100, true, 66e6)
	if seq != 1002 || ts != 8000+2970 {
		t.Fatalf("after switch: seq %d ts %d", seq, ts)
	}
	if _, _, ok := r.rewrite(6, 0, false, 70e6); ok {
		t.Fatal("packet older than the switch must be dropped")
	}
	if src, ok := r.source(1002); !ok || src != 7 {
		t.Fatalf("source(1002) = %d %v", src, ok)
	}
	if _, ok := r.source(1001); ok {
		t.Fatal("packet of the old mapping cannot be mapped back")
	}
	// A long stream: numbers wrap several times, nothing is dropped.
	r3 := rewriter{clockRate: 90000}
	for i := 0; i < 200000; i++ {
		seq, _, ok := r3.rewrite(uint16(i), uint32(i)*3000, false, int64(i)*1e6)
		if !ok || seq != uint16(i) {
			t.Fatalf("packet %d: seq %d ok %v", i, seq, ok)
		}
	}
	if _, ok := r3.source(uint16(199990 % 65536)); !ok {
		t.Fatal("recent packet not mappable for NACK")
	}
	// Sequence wrap on the source.
	r2 := rewriter{clockRate: 48000}
	r2.rewrite(65535, 0, false, 0)
	if seq, _, ok := r2.rewrite(0, 960, false, 20e6); !ok || seq != 0 {
		t.Fatalf("wrap: %d %v", seq, ok)
	}
}

func TestChooseLayer(t *testing.T) {
	rates := [maxLayers]int64{150_000, 500_000, 1_500_000}
	for _, tc := range []struct {
		est  int64
		hint int8
		want int8
	}{
		{0, 2, 2}, {2_000_000, 2, 2}, {1_000_000, 2, 1}, {100_000, 2, 0}, {0, 1, 1}, {0, 0, 0},
	} {
		if got := chooseLayer(&rates, 3, tc.est, tc.hint); got != tc.want {
			t.Errorf("est %d hint %d: got %d want %d", tc.est, tc.hint, got, tc.want)
		}
	}
	off := [maxLayers]int64{0, 500_000, 0}
	if got := chooseLayer(&off, 3, 100_000, 2); got != 1 {
		t.Errorf("only layer 1 active: got %d", got)
	}
}

// TestSimulcastSwitch drives three layers through the forwarding path:
// the subscriber starts on the top layer, a hint moves it down, the
// switch waits for a keyframe, and its sequence numbers stay continuous.
func TestSimulcastSwitch(t *testing.T) {
	p := newTestPublication("video/VP8", 64)
	for l := 0; l < maxLayers; l++ {
		p.layers[l].active.Store(true)
		p.layers[l].ssrc.Store(uint32(100 + l))
	}
	p.nLayers.Store(maxLayers)
	var plis []uint32
	p.sendPLI = func(ssrc uint32) { plis = append(plis, ssrc) }
	sink := &sinkWriter{}
	d := newDownTrack(p, 90000)
	d.bind(sink, 9, 96, 0)
	p.addSub(d)

	var in rtp.Header
	var out outHeader
	now := int64(1e9)
	var seqs [maxLayers]uint16
	send := func(layer int, key bool) {
		seqs[layer]++
		pkt := vp8Packet(seqs[layer]+uint16(layer)*10000, uint32(seqs[layer])*3000, key, 50)
		binary.BigEndian.PutUint32(pkt[8:], uint32(100+layer))
		pkt[len(pkt)-1] = byte(layer)
		p.handlePacket(layer, pkt, &in, &out, now)
	}
	round := func(keyLayer int) {
		now += 40e6
		for l := 0; l < maxLayers; l++ {
			send(l, l == keyLayer)
		}
	}
	for i := 0; i < 20; i++ { // measure bitrates; all layers similar
		round(-1)
	}
	round(2) // keyframe on the top layer: subscriber starts there
	if d.currentLayer() != 2 || sink.last[len(sink.last)-1] != 2 {
		t.Fatalf("want layer 2, on %d", d.currentLayer())
	}
	d.setMaxLayer(0)
	lastSeq := sink.lastSeq
	round(-1) // no keyframe on layer 0 yet: stay on 2, ask for one
	if d.currentLayer() != 2 || len(plis) == 0 || plis[len(plis)-1] != 100 {
		t.Fatalf("layer %d, PLIs %v", d.currentLayer(), plis)
	}
	round(0)
	if d.currentLayer() != 0 || sink.last[len(sink.last)-1] != 0 {
		t.Fatalf("want layer 0 after its keyframe, on %d", d.currentLayer())
	}
	if sink.lastSeq != lastSeq+2 {
		t.Fatalf("sequence not continuous across the switch: %d then %d", lastSeq, sink.lastSeq)
	}
}

func TestMutedPublicationForwardsNothing(t *testing.T) {
	p := newTestPublication("video/VP8", 64)
	sink := &sinkWriter{}
	d := newDownTrack(p, 90000)
	d.bind(sink, 9, 96, 0)
	p.addSub(d)
	var in rtp.Header
	var out outHeader
	p.handlePacket(0, vp8Packet(1, 0, true, 20), &in, &out, 1)
	p.muted.Store(true)
	p.handlePacket(0, vp8Packet(2, 0, true, 20), &in, &out, 2)
	if sink.packets != 1 {
		t.Fatalf("muted track forwarded: %d packets", sink.packets)
	}
	p.handlePacket(0, []byte{0x80}, &in, &out, 3) // malformed: ignored
}

// TestSubscribeToDroppedPublication: a subscriber racing with the
// publication's removal does not keep a dead track.
func TestSubscribeToDroppedPublication(t *testing.T) {
	p := newTestPublication("video/VP8", 16)
	p.owner = "pub"
	s := &sinkSub{id: "k", sink: &recordingSink{tracks: map[string]*recordedTrack{}}, tracks: map[*publication]*sinkTrack{}}
	p.closed.Store(true)
	s.subscribe(p)
	if len(p.subscribers()) != 0 || len(s.tracks) != 0 {
		t.Fatal("dead publication kept a subscriber")
	}
}
