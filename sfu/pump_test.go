package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pump writes synthetic packets to a local track every 10ms: VP8 with a
// keyframe every 25 packets (and first), or Opus. Payloads carry the
// marker and the source sequence number.
type pump struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startPump(track *webrtc.TrackLocalStaticRTP, video bool, marker string) *pump {
	return startPumpExt(track, video, marker, 0)
}

// startPumpExt also sets an RFC 6464 audio level (-seq%128 dBov) under the
// given extension ID when it is not 0.
func startPumpExt(track *webrtc.TrackLocalStaticRTP, video bool, marker string, levelID uint8) *pump {
	return startPumpCodec(track, video, marker, levelID, [2]byte{0x10, 0x00}, [2]byte{0x10, 0x01})
}

// startPumpCodec sends video payloads that start with key or delta (the
// codec's keyframe / delta-frame descriptor bytes).
func startPumpCodec(track *webrtc.TrackLocalStaticRTP, video bool, marker string, levelID uint8, key, delta [2]byte) *pump {
	p := &pump{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(0); ; seq++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			var payload []byte
			if video {
				payload = delta[:]
				if seq%25 == 0 {
					payload = key[:]
				}
				payload = append([]byte(nil), payload...)
			} else {
				payload = []byte{0xfc}
			}
			payload = append(payload, marker...)
			payload = binary.BigEndian.AppendUint16(payload, seq)
			ts := uint32(seq) * 3000
			if !video {
				ts = uint32(seq) * 480
			}
			pkt := &rtp.Packet{
				Header:  rtp.Header{Version: 2, Marker: video, SequenceNumber: seq, Timestamp: ts},
				Payload: payload,
			}
			if levelID != 0 {
				_ = pkt.SetExtension(levelID, []byte{0x80 | byte(seq%128)})
			}
			_ = track.WriteRTP(pkt)
		}
	}()
	return p
}

func (p *pump) close() {
	close(p.stop)
	p.wg.Wait()
}
