package mediatest

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/televisit/televisit/recording/webm"
)

// Synthetic generates d of media in send order without holding it: Opus-
// sized audio packets at 50 per second and VP8-framed video at 30 fps and
// videoBps bits per second (a keyframe, four times the size, every 2 s).
// The payloads are not decodable; the muxer does not need them to be.
// It stops early when emit returns false.
func Synthetic(d time.Duration, videoBps int, emit func(Packet) bool) {
	const fps = 30
	frameDur := time.Second / fps
	video := rtp.NewPacketizer(mtu, videoPT, 0x3333, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), videoClock)
	audio := rtp.NewPacketizer(mtu, audioPT, 0x4444, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), audioClock)
	interSize := videoBps / 8 / fps * 60 / 63 // keyframes every 60 frames are 4x
	opus := make([]byte, 100)                 // about 40 kbit/s
	nextVideo, nextAudio := time.Duration(0), time.Duration(0)
	for frame := 0; nextVideo < d || nextAudio < d; {
		if nextAudio <= nextVideo {
			for _, p := range audio.Packetize(opus, opusFrame) {
				if !emit(Packet{Kind: webm.Audio, RTP: p, At: nextAudio}) {
					return
				}
			}
			nextAudio += 20 * time.Millisecond
			continue
		}
		data := vp8Frame(frame%60 == 0, interSize)
		for _, p := range video.Packetize(data, uint32(videoClock/fps)) {
			if !emit(Packet{Kind: webm.Video, RTP: p, At: nextVideo}) {
				return
			}
		}
		frame++
		nextVideo += frameDur
	}
}

// vp8Frame is a frame with a valid VP8 frame tag (and keyframe start code).
func vp8Frame(key bool, interSize int) []byte {
	size := interSize
	if key {
		size *= 4
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i * 7)
	}
	b[0] = 0x11 // interframe, shown
	if key {
		b[0] = 0x10
		b[3], b[4], b[5] = 0x9d, 0x01, 0x2a
		b[6], b[7], b[8], b[9] = 0x80, 0x02, 0xe0, 0x01 // 640x480
	}
	return b
}
