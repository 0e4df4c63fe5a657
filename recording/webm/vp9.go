package webm

import "github.com/pion/rtp/codecs"

// vp9PictureID is the sample builder's head handler for VP9: the picture
// id of a frame's first packet (RFC 9628 payload descriptor), or -1.
func vp9PictureID(head any) any {
	if p, ok := head.(*codecs.VP9Packet); ok && p.I {
		return int(p.PictureID)
	}
	return -1
}

// isVP9Keyframe reads the start of the uncompressed header of the first
// frame of a picture (VP9 bitstream spec section 6.2): frame_marker (2),
// profile (2, plus a reserved bit in profile 3), show_existing_frame,
// frame_type (0 = key frame), then the sync code 49 83 42.
func isVP9Keyframe(b []byte) bool {
	if len(b) < 4 || b[0]>>6 != 2 {
		return false
	}
	profile := (b[0]>>5)&1 | (b[0]>>3)&2
	shift := 3
	if profile == 3 {
		shift = 2
	}
	showExisting, frameType := (b[0]>>shift)&1, (b[0]>>(shift-1))&1
	return showExisting == 0 && frameType == 0
}
