package sfu

import (
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sinkWriter counts what it is given, like a transport would.
type sinkWriter struct {
	packets int
	bytes   int
	lastSeq uint16
	lastTS  uint32
	last    []byte
}

func (s *sinkWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	s.packets++
	s.bytes += h.MarshalSize() + len(payload)
	s.lastSeq, s.lastTS = h.SequenceNumber, h.Timestamp
	s.last = payload
	return len(payload), nil
}

// newTestPublication builds a publication without Pion.
func newTestPublication(mime string, cacheSize int) *publication {
	p := &publication{
		id: "t", streamID: "s", ck: codecKindOf(mime),
		codec:       webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000},
		pliInterval: int64(500e6),
		muted:       new(atomic.Bool),
		ctr:         new(counters),
	}
	for i := range p.layers {
		p.layers[i].cache = newPacketCache(cacheSize)
	}
	p.layers[0].active.Store(true)
	p.layers[0].ssrc.Store(1234)
	p.nLayers.Store(1)
	return p
}

// vp8Packet marshals a VP8 RTP packet; key sets the keyframe bits.
func vp8Packet(seq uint16, ts uint32, key bool, size int) []byte {
	payload := make([]byte, size)
	payload[0] = 0x10 // S=1, PID=0, no extensions
	if key {
		payload[1] = 0x00 // P=0: keyframe
	} else {
		payload[1] = 0x01
	}
	for i := 2; i < size; i++ {
		payload[i] = byte(i)
	}
	pkt := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 1234},
		Payload: payload,
	}
	b, err := pkt.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func benchmarkForward(b *testing.B, subs int) {
	p := newTestPublication("video/VP8", 512)
	sinks := make([]*sinkWriter, subs)
	for i := range sinks {
		sinks[i] = &sinkWriter{}
		d := newDownTrack(p, 90000)
		d.bind(sinks[i], uint32(100+i), 96, 0)
		p.addSub(d)
	}
	var in rtp.Header
	var out outHeader
	now := int64(1e9)
	p.handlePacket(0, vp8Packet(0, 0, true, 1100), &in, &out, now) // start everyone on a keyframe
	buf := vp8Packet(1, 3000, false, 1100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq := uint16(i + 1)
		binary.BigEndian.PutUint16(buf[2:], seq)
		binary.BigEndian.PutUint32(buf[4:], uint32(seq)*3000)
		now += 1e6
		p.handlePacket(0, buf, &in, &out, now)
	}
	b.StopTimer()
	if got := sinks[subs-1].packets; got != b.N+1 {
		b.Fatalf("subscriber got %d packets, want %d", got, b.N+1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(subs), "ns/pkt/sub")
}

func BenchmarkForward1(b *testing.B)  { benchmarkForward(b, 1) }
func BenchmarkForward4(b *testing.B)  { benchmarkForward(b, 4) }
func BenchmarkForward16(b *testing.B) { benchmarkForward(b, 16) }

func BenchmarkPacketCachePut(b *testing.B) {
	c := newPacketCache(512)
	pkt := vp8Packet(0, 0, false, 1100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.put(uint16(i), pkt)
	}
}

func BenchmarkKeyframeDetect(b *testing.B) {
	for _, mime := range []string{"video/VP8", "video/VP9", "video/H264", "video/AV1"} {
		b.Run(mime[6:], func(b *testing.B) {
			ck := codecKindOf(mime)
			payload := []byte{0x90, 0x80, 0x12, 0x00, 0x00}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = isKeyframe(ck, payload)
			}
		})
	}
}
