package webm

import "encoding/binary"

// opusPreSkip is the decoder delay WebRTC's Opus encoder introduces, in
// 48 kHz samples (RFC 7845 recommends 3840 at most; libopus uses 312).
const opusPreSkip = 312

// opusHead is the OpusHead identification header (RFC 7845 section 5.1)
// that WebM carries as the Opus track's CodecPrivate.
func opusHead(channels int) []byte {
	h := make([]byte, 19)
	copy(h, "OpusHead")
	h[8] = 1 // version
	h[9] = byte(channels)
	binary.LittleEndian.PutUint16(h[10:], opusPreSkip)
	binary.LittleEndian.PutUint32(h[12:], 48000) // input sample rate (informational)
	// h[16:18] output gain 0, h[18] mapping family 0 (mono/stereo)
	return h
}
