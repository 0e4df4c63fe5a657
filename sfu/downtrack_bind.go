package sfu

import (
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Bind is called by Pion when the subscriber's transceiver is negotiated.
// It picks the subscriber's payload type for the publisher's codec and
// attaches the RTP write stream (webrtc.TrackLocal).
//
// When the subscriber cannot decode the publisher's codec, the track stays
// unbound (it carries nothing) rather than failing: a Bind error would
// fail the whole answer and with it every other track of the connection.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.pub.codec, ctx.CodecParameters())
	if !ok {
		if len(ctx.CodecParameters()) == 0 {
			return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
		}
		d.undecodable.Store(true)
		if d.log != nil {
			d.log.Warn("subscriber cannot decode a track", "codec", d.pub.codec.MimeType, "publisher", d.pub.owner)
		}
		return ctx.CodecParameters()[0], nil
	}
	var alID uint8
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.AudioLevelURI {
			alID = uint8(e.ID)
		}
	}
	d.bind(ctx.WriteStream(), uint32(ctx.SSRC()), uint8(codec.PayloadType), alID)
	return codec, nil
}

// Unbind detaches the write stream (webrtc.TrackLocal).
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.unbind()
	return nil
}

// ID is the track ID the subscriber sees: the publisher's (webrtc.TrackLocal).
func (d *downTrack) ID() string { return d.id }

// RID is empty: a subscriber receives one layer (webrtc.TrackLocal).
func (d *downTrack) RID() string { return "" }

// StreamID is the publisher's stream ID (webrtc.TrackLocal).
func (d *downTrack) StreamID() string { return d.streamID }

// Kind is audio or video (webrtc.TrackLocal).
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.pub.kind }

// matchCodec finds the publisher's codec among the subscriber's
// negotiated ones: same MIME type and clock rate, preferring identical
// format parameters, then the same H264 profile or VP9 profile-id.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var loose *webrtc.RTPCodecParameters
	for i := range have {
		c := &have[i]
		if !strings.EqualFold(c.MimeType, want.MimeType) || c.ClockRate != want.ClockRate {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return *c, true
		}
		if loose == nil && fmtpCompatible(want.MimeType, want.SDPFmtpLine, c.SDPFmtpLine) {
			loose = c
		}
	}
	if loose != nil {
		return *loose, true
	}
	return webrtc.RTPCodecParameters{}, false
}

// fmtpCompatible compares the parameters that decide decodability.
func fmtpCompatible(mime, a, b string) bool {
	pa, pb := fmtpParams(a), fmtpParams(b)
	switch strings.ToLower(mime) {
	case "video/h264":
		return pa["packetization-mode"] == pb["packetization-mode"] &&
			prefix4(pa["profile-level-id"]) == prefix4(pb["profile-level-id"])
	case "video/vp9":
		return pa["profile-id"] == pb["profile-id"]
	}
	return true
}

func prefix4(s string) string {
	if len(s) < 4 {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:4])
}

func fmtpParams(line string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		out[strings.ToLower(k)] = v
	}
	return out
}
