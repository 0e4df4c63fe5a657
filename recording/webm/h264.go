package webm

import "encoding/binary"

// H264 NAL unit types (ITU-T H.264 table 7-1).
const (
	nalIDR = 5
	nalSPS = 7
	nalPPS = 8
)

// eachNAL calls fn with each NAL unit of an AVCC frame (4-byte big-endian
// lengths, as the depacketizer writes them); a truncated unit ends it.
func eachNAL(b []byte, fn func(nal []byte)) {
	for len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		if n == 0 || uint64(n) > uint64(len(b)-4) {
			return
		}
		fn(b[4 : 4+n])
		b = b[4+n:]
	}
}

// isH264Keyframe: the frame holds an IDR slice.
func isH264Keyframe(b []byte) bool {
	key := false
	eachNAL(b, func(nal []byte) { key = key || nal[0]&0x1f == nalIDR })
	return key
}

// h264Private builds the avcC (AVCDecoderConfigurationRecord, ISO/IEC
// 14496-15 5.3.3.1) from the SPS and PPS of a keyframe, or nil when it
// has none. The frames keep their in-band SPS and PPS, so a later change
// (a new resolution) still decodes.
func h264Private(key []byte) []byte {
	var sps, pps [][]byte
	eachNAL(key, func(nal []byte) {
		switch nal[0] & 0x1f {
		case nalSPS:
			if len(nal) >= 4 && len(nal) <= 0xffff && len(sps) < 31 {
				sps = append(sps, nal)
			}
		case nalPPS:
			if len(nal) <= 0xffff && len(pps) < 255 {
				pps = append(pps, nal)
			}
		}
	})
	if len(sps) == 0 || len(pps) == 0 {
		return nil
	}
	return avcC(sps[0][1], sps[0][2], sps[0][3], sps, pps)
}

// h264Fallback is an avcC without parameter sets (constrained baseline,
// level 3.1): the decoder takes them from the stream.
func h264Fallback() []byte { return avcC(0x42, 0xe0, 0x1f, nil, nil) }

func avcC(profile, compat, level byte, sps, pps [][]byte) []byte {
	// version 1, profile, compatibility, level, 4-byte NAL lengths.
	out := []byte{1, profile, compat, level, 0xfc | 3, 0xe0 | byte(len(sps))}
	for _, s := range sps {
		out = binary.BigEndian.AppendUint16(out, uint16(len(s)))
		out = append(out, s...)
	}
	out = append(out, byte(len(pps)))
	for _, p := range pps {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}
