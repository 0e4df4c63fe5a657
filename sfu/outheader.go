package sfu

import "github.com/pion/rtp"

// rtpWriter receives rewritten packets. webrtc.TrackLocalWriter (the write
// stream of a bound RTPSender) satisfies it; so do benchmark sinks.
type rtpWriter interface {
	WriteRTP(header *rtp.Header, payload []byte) (int, error)
}

// outHeader is a reusable outgoing RTP header with room for a few header
// extensions (ours plus those interceptors add), so that filling it never
// allocates. Each forwarding goroutine owns one.
type outHeader struct {
	h   rtp.Header
	ext [4]rtp.Extension
}

// fill builds the outgoing header from a source header. Only the audio
// level extension (RFC 6464) is carried over, renumbered to the ID the
// subscriber negotiated; other extensions are per-connection.
func (o *outHeader) fill(in *rtp.Header, seq uint16, ts, ssrc uint32, pt, srcAudioLevel, dstAudioLevel uint8) {
	o.h = rtp.Header{
		Version:        2,
		Marker:         in.Marker,
		PayloadType:    pt,
		SequenceNumber: seq,
		Timestamp:      ts,
		SSRC:           ssrc,
		CSRC:           in.CSRC,
		Extensions:     o.ext[:0],
	}
	if srcAudioLevel == 0 || dstAudioLevel == 0 {
		return
	}
	if v := in.GetExtension(srcAudioLevel); len(v) > 0 {
		_ = o.h.SetExtension(dstAudioLevel, v)
	}
}
