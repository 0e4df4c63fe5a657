package webm

import "github.com/pion/rtp/codecs/av1/obu"

// eachOBU calls fn with the type and the whole bytes (header, size,
// payload) of each OBU of a temporal unit in the low-overhead format (every
// OBU with obu_size, as the depacketizer writes them); a malformed OBU ends
// it. payload is the OBU's payload only.
func eachOBU(b []byte, fn func(typ obu.Type, whole, payload []byte)) {
	for len(b) > 0 {
		h, err := obu.ParseOBUHeader(b)
		if err != nil || !h.HasSizeField {
			return
		}
		size, n, err := obu.ReadLeb128(b[h.Size():])
		start := uint64(h.Size()) + uint64(n)
		if err != nil || start > uint64(len(b)) || uint64(size) > uint64(len(b))-start {
			return
		}
		end := start + uint64(size)
		fn(h.Type, b[:end], b[start:end])
		b = b[end:]
	}
}

// isAV1Keyframe: the temporal unit starts a coded video sequence, which
// WebRTC senders (and libaom) mark by sending the sequence header with
// each key frame.
func isAV1Keyframe(b []byte) bool {
	key := false
	eachOBU(b, func(typ obu.Type, _, _ []byte) { key = key || typ == obu.OBUSequenceHeader })
	return key
}

// stripTemporalDelimiters removes temporal delimiter OBUs, which the
// Matroska AV1 mapping says blocks do not carry.
func stripTemporalDelimiters(b []byte) []byte {
	has := false
	eachOBU(b, func(typ obu.Type, _, _ []byte) { has = has || typ == obu.OBUTemporalDelimiter })
	if !has {
		return b
	}
	out := make([]byte, 0, len(b))
	eachOBU(b, func(typ obu.Type, whole, _ []byte) {
		if typ != obu.OBUTemporalDelimiter {
			out = append(out, whole...)
		}
	})
	return out
}

// av1Private builds the av1C record (AV1 ISOBMFF binding section 2.3, the
// Matroska V_AV1 CodecPrivate) from the sequence header of a keyframe, or
// nil when it has none. Profile, level and tier come from the header; the
// colour fields say 8-bit 4:2:0, what WebRTC sends (decoders read the
// header itself, carried as the record's configOBUs).
func av1Private(key []byte) []byte {
	var out []byte
	eachOBU(key, func(typ obu.Type, whole, payload []byte) {
		if typ != obu.OBUSequenceHeader || out != nil {
			return
		}
		profile, level, tier, ok := av1SeqLevel(payload)
		if ok {
			out = append(av1C(profile, level, tier), whole...)
		}
	})
	return out
}

// av1Fallback is an av1C without configOBUs (main profile): decoders take
// the sequence header from the stream.
func av1Fallback() []byte { return av1C(0, 0, 0) }

func av1C(profile, level, tier byte) []byte {
	// marker+version 1; profile, level; tier, 8-bit, 4:2:0 (subsampling
	// x and y); no initial presentation delay.
	return []byte{0x81, profile<<5 | level&0x1f, tier<<7 | 0x0c, 0}
}

// av1SeqLevel reads a sequence header (AV1 spec 5.5.1) as far as the
// first operating point's level and tier.
func av1SeqLevel(p []byte) (profile, level, tier byte, ok bool) {
	r := bitReader{b: p}
	profile = byte(r.bits(3))
	r.bits(1)           // still_picture
	if r.bits(1) == 1 { // reduced_still_picture_header
		return profile, byte(r.bits(5)), 0, !r.short
	}
	if r.bits(1) == 1 { // timing_info_present_flag
		r.bits(32) // num_units_in_display_tick
		r.bits(32) // time_scale
		if r.bits(1) == 1 {
			r.uvlc() // num_ticks_per_picture_minus_1
		}
		if r.bits(1) == 1 { // decoder_model_info_present_flag
			r.bits(5)  // buffer_delay_length_minus_1
			r.bits(32) // num_units_in_decoding_tick
			r.bits(10) // buffer_removal_time and frame_presentation_time lengths
		}
	}
	r.bits(1)  // initial_display_delay_present_flag
	r.bits(5)  // operating_points_cnt_minus_1
	r.bits(12) // operating_point_idc[0]
	level = byte(r.bits(5))
	if level > 7 {
		tier = byte(r.bits(1))
	}
	return profile, level, tier, !r.short
}

// bitReader reads big-endian bits; reading past the end sets short.
type bitReader struct {
	b     []byte
	pos   int
	short bool
}

func (r *bitReader) bits(n int) uint64 {
	var v uint64
	for range n {
		if r.pos >= len(r.b)*8 {
			r.short = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) uvlc() uint64 {
	zeros := 0
	for r.bits(1) == 0 && !r.short && zeros < 32 {
		zeros++
	}
	if zeros >= 32 {
		return 0
	}
	return r.bits(zeros) + (1 << zeros) - 1
}
