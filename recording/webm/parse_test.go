package webm

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// bitWriter writes big-endian bits, for building sequence headers.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v uint64, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
}

func TestAV1SequenceHeaderLevel(t *testing.T) {
	var w bitWriter
	w.put(2, 3)      // seq_profile
	w.put(0, 2)      // still_picture, reduced_still_picture_header
	w.put(1, 1)      // timing_info_present_flag
	w.put(1, 32)     // num_units_in_display_tick
	w.put(90000, 32) // time_scale
	w.put(1, 1)      // equal_picture_interval
	w.put(0b010, 3)  // uvlc: a zero, the 1, one bit: value 1
	w.put(1, 1)      // decoder_model_info_present_flag
	w.put(4, 5)      // buffer_delay_length_minus_1
	w.put(1000, 32)  // num_units_in_decoding_tick
	w.put(0, 10)     // removal and presentation lengths
	w.put(0, 1)      // initial_display_delay_present_flag
	w.put(0, 5)      // operating_points_cnt_minus_1
	w.put(0, 12)     // operating_point_idc[0]
	w.put(9, 5)      // seq_level_idx[0]
	w.put(1, 1)      // seq_tier[0]
	w.put(0, 7)      // padding
	p, l, tier, ok := av1SeqLevel(w.b)
	if !ok || p != 2 || l != 9 || tier != 1 {
		t.Fatalf("got profile %d level %d tier %d ok %v", p, l, tier, ok)
	}
	var r bitWriter
	r.put(0, 3)
	r.put(0b01, 2) // reduced still picture header
	r.put(5, 5)
	if p, l, _, ok := av1SeqLevel(r.b); !ok || p != 0 || l != 5 {
		t.Fatalf("reduced: profile %d level %d ok %v", p, l, ok)
	}
	if _, _, _, ok := av1SeqLevel(w.b[:3]); ok {
		t.Fatal("a truncated header parsed")
	}
	// The av1C record: marker, then the sequence header OBU as configOBUs.
	obuSeq := append([]byte{0x0a, byte(len(w.b))}, w.b...)
	priv := av1Private(append(obuSeq, 0x32, 0x01, 0x00))
	if !bytes.Equal(priv[:4], []byte{0x81, 2<<5 | 9, 0x80 | 0x0c, 0}) || !bytes.Equal(priv[4:], obuSeq) {
		t.Fatalf("av1C % x", priv)
	}
}

func TestH264Private(t *testing.T) {
	sps, pps, idr := []byte{0x67, 0x42, 0xc0, 0x1e, 0xda}, []byte{0x68, 0xce, 0x3c, 0x80}, []byte{0x65, 0x88, 0x84}
	var frame []byte
	for _, n := range [][]byte{sps, pps, idr} {
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(n)))
		frame = append(frame, n...)
	}
	if !isH264Keyframe(frame) || isH264Keyframe(frame[:len(frame)-7]) {
		t.Fatal("keyframe detection")
	}
	want := []byte{1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 5, 0x67, 0x42, 0xc0, 0x1e, 0xda, 1, 0, 4, 0x68, 0xce, 0x3c, 0x80}
	if got := h264Private(frame); !bytes.Equal(got, want) {
		t.Fatalf("avcC % x, want % x", got, want)
	}
	if h264Private(frame[9:]) != nil {
		t.Fatal("avcC without an SPS")
	}
}

func TestVP9Keyframe(t *testing.T) {
	for b, want := range map[byte]bool{
		0x82: true,  // marker 2, profile 0, shown, key frame
		0x86: false, // inter frame
		0x88: false, // show_existing_frame
		0xb0: true,  // profile 3, reserved 0, key frame
		0xb2: false, // profile 3, inter frame
		0x02: false, // no frame marker
	} {
		if got := isVP9Keyframe([]byte{b, 0x49, 0x83, 0x42}); got != want {
			t.Errorf("%#x: key %v, want %v", b, got, want)
		}
	}
}

// TestParsersSurviveGarbage: random bytes never panic the bitstream
// parsers.
func TestParsersSurviveGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		isVP8Keyframe(b)
		isVP9Keyframe(b)
		isH264Keyframe(b)
		h264Private(b)
		isAV1Keyframe(b)
		av1Private(b)
		stripTemporalDelimiters(b)
		av1SeqLevel(b)
	}
}
