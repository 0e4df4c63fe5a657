package sfu

import (
	"encoding/binary"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// newBenchPair connects two Pion PeerConnections over loopback (DTLS-SRTP,
// AES-GCM first, as the SFU does) with a VP8 TrackLocalStaticRTP from
// offerer to answerer, whose packets the answerer reads and discards.
// chain picks the interceptors: "none", "default" (Pion's defaults on both
// sides) or "sfu" (the SFU's registry on the sending side).
func newBenchPair(b *testing.B, chain string) (*webrtc.TrackLocalStaticRTP, *atomic.Int64, func()) {
	b.Helper()
	newPC := func(sending bool) *webrtc.PeerConnection {
		se := webrtc.SettingEngine{}
		se.SetIncludeLoopbackCandidate(true)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		me, err := newMediaEngine()
		if err != nil {
			b.Fatal(err)
		}
		reg := &interceptor.Registry{}
		switch {
		case chain == "default":
			err = webrtc.RegisterDefaultInterceptors(me, reg)
		case chain == "sfu" && sending:
			cfg := Config{}.withDefaults()
			reg, err = newInterceptors(&cfg, newPionLoggerFactory(slog.New(slog.DiscardHandler)), func(cc.BandwidthEstimator) {})
		}
		if err != nil {
			b.Fatal(err)
		}
		pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg)).
			NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			b.Fatal(err)
		}
		return pc
	}
	tx, rx := newPC(true), newPC(false)
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		b.Fatal(err)
	}
	sender, err := tx.AddTrack(track)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	var got atomic.Int64
	rx.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
			got.Add(1)
		}
	})
	connected := make(chan struct{})
	tx.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			close(connected)
		}
	})
	signalPair(b, tx, rx)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		b.Fatal("pair did not connect")
	}
	return track, &got, func() { _ = tx.Close(); _ = rx.Close() }
}

// signalPair does a non-trickle offer/answer between two local peers.
func signalPair(b *testing.B, tx, rx *webrtc.PeerConnection) {
	b.Helper()
	exchange := func(from *webrtc.PeerConnection, desc webrtc.SessionDescription) webrtc.SessionDescription {
		done := webrtc.GatheringCompletePromise(from)
		if err := from.SetLocalDescription(desc); err != nil {
			b.Fatal(err)
		}
		<-done
		return *from.LocalDescription()
	}
	offer, err := tx.CreateOffer(nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := rx.SetRemoteDescription(exchange(tx, offer)); err != nil {
		b.Fatal(err)
	}
	answer, err := rx.CreateAnswer(nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.SetRemoteDescription(exchange(rx, answer)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPionWriteRTP measures Pion's write path for one 1100-byte
// packet: TrackLocalStaticRTP, interceptors (none, Pion's defaults, ours),
// SRTP encryption and the UDP send, over a connected loopback pair.
func BenchmarkPionWriteRTP(b *testing.B) {
	for _, tc := range []struct{ name, chain string }{
		{"NoInterceptors", "none"}, {"PionDefaultInterceptors", "default"}, {"SFUInterceptors", "sfu"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			track, got, closeFn := newBenchPair(b, tc.chain)
			defer closeFn()
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96}, Payload: make([]byte, 1100)}
			pkt.Payload[0] = 0x10
			// Give the receiver its first packets before timing.
			for i := 0; i < 10; i++ {
				pkt.SequenceNumber = uint16(i)
				_ = track.WriteRTP(&pkt)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pkt.SequenceNumber = uint16(i + 10)
				binary.BigEndian.PutUint32(pkt.Payload[2:], uint32(i))
				pkt.Timestamp = uint32(i) * 3000
				if err := track.WriteRTP(&pkt); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(got.Load())/float64(b.N+10), "delivered")
		})
	}
}
