package sfu

import "strings"

// codecKind identifies the payload format, to find keyframes cheaply.
type codecKind uint8

const (
	codecOther codecKind = iota
	codecOpus
	codecVP8
	codecVP9
	codecH264
	codecAV1
)

// codecKindOf maps a MIME type ("video/VP8") to a codecKind.
func codecKindOf(mime string) codecKind {
	switch {
	case strings.EqualFold(mime, "audio/opus"):
		return codecOpus
	case strings.EqualFold(mime, "video/vp8"):
		return codecVP8
	case strings.EqualFold(mime, "video/vp9"):
		return codecVP9
	case strings.EqualFold(mime, "video/h264"):
		return codecH264
	case strings.EqualFold(mime, "video/av1"):
		return codecAV1
	}
	return codecOther
}

// isKeyframe reports whether payload starts a keyframe that a decoder can
// begin with. Audio is always decodable. Malformed payloads are not
// keyframes; the function never panics.
func isKeyframe(kind codecKind, payload []byte) bool {
	switch kind {
	case codecOpus:
		return true
	case codecVP8:
		return vp8Keyframe(payload)
	case codecVP9:
		return vp9Keyframe(payload)
	case codecH264:
		return h264Keyframe(payload)
	case codecAV1:
		return av1Keyframe(payload)
	}
	return false
}

// vp8Keyframe parses the RFC 7741 payload descriptor, then the P bit of
// the VP8 frame header in the first partition's first packet.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	b0 := p[0]
	if b0&0x10 == 0 || b0&0x07 != 0 { // S bit set and partition index 0
		return false
	}
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// vp9Keyframe: not inter-picture predicted (P=0), beginning of a frame
// (B=1) and, when layer indices are present, spatial layer 0.
func vp9Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	b0 := p[0]
	if b0&0x40 != 0 || b0&0x08 == 0 {
		return false
	}
	if b0&0x20 == 0 { // no layer indices
		return true
	}
	i := 1
	if b0&0x80 != 0 { // I: picture ID
		if len(p) <= i {
			return false
		}
		if p[i]&0x80 != 0 {
			i++
		}
		i++
	}
	return len(p) > i && (p[i]>>1)&0x07 == 0
}

// h264Keyframe looks for an SPS or IDR NAL unit, also inside STAP-A
// aggregates and at the start of FU-A fragments (RFC 6184).
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: [2-byte size][NALU]...
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			nt := p[i+2] & 0x1f
			if nt == 5 || nt == 7 {
				return true
			}
			i += 2 + size
		}
	case 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}

// av1Keyframe uses the N bit of the RTP aggregation header: the packet
// starts a new coded video sequence, which begins with a key frame.
func av1Keyframe(p []byte) bool {
	return len(p) > 0 && p[0]&0x08 != 0
}
