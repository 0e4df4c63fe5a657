package webm

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// videoCodec is what the writer needs to know of one video codec.
type videoCodec struct {
	codecID string // Matroska CodecID
	// depacketizer makes the sample builder's depacketizer (a fresh one
	// per stream: some keep state between packets).
	depacketizer func() rtp.Depacketizer
	// head is the sample builder's head handler (the picture id), or nil.
	head func(any) any
	// isKey reports whether a reassembled frame is a keyframe.
	isKey func([]byte) bool
	// private, when set, builds the CodecPrivate from the first keyframe:
	// the file header then waits for it (see lazyMux). fallback is the
	// CodecPrivate used when the header must be written without one.
	private  func(key []byte) []byte
	fallback func() []byte
}

var videoCodecs = map[string]videoCodec{
	VP8: {codecID: "V_VP8", isKey: isVP8Keyframe, head: vp8PictureID,
		depacketizer: func() rtp.Depacketizer { return &codecs.VP8Packet{} }},
	VP9: {codecID: "V_VP9", isKey: isVP9Keyframe, head: vp9PictureID,
		depacketizer: func() rtp.Depacketizer { return &codecs.VP9Packet{} }},
	H264: {codecID: "V_MPEG4/ISO/AVC", isKey: isH264Keyframe, private: h264Private, fallback: h264Fallback,
		depacketizer: func() rtp.Depacketizer { return &codecs.H264Packet{IsAVC: true} }},
	AV1: {codecID: "V_AV1", isKey: isAV1Keyframe, private: av1Private, fallback: av1Fallback,
		depacketizer: func() rtp.Depacketizer { return &codecs.AV1Depacketizer{} }},
}

// vp8PictureID is the sample builder's head handler for VP8: the picture
// id of a frame's first packet, or -1.
func vp8PictureID(head any) any {
	if p, ok := head.(*codecs.VP8Packet); ok && p.I == 1 {
		return int(p.PictureID)
	}
	return -1
}

// isVP8Keyframe reads the VP8 frame tag (RFC 6386 section 9.1): bit 0 of
// the first byte is 0 for a key frame, which also carries the start code
// 9d 01 2a.
func isVP8Keyframe(b []byte) bool {
	return len(b) >= 10 && b[0]&0x01 == 0 && b[3] == 0x9d && b[4] == 0x01 && b[5] == 0x2a
}
