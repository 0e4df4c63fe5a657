package sfu

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Codecs offered and accepted. The browser's preference order wins: Pion
// answers with the offerer's order. Retransmissions use the original SSRC
// (no RTX), so NACK answers come straight from our packet cache.
func codecList() []webrtc.RTPCodecParameters {
	video := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "transport-cc"},
		{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
	}
	v := func(pt uint8, mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			PayloadType:        webrtc.PayloadType(pt),
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: video},
		}
	}
	return []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}},
		}},
		v(96, webrtc.MimeTypeVP8, ""),
		v(98, webrtc.MimeTypeVP9, "profile-id=0"),
		v(100, webrtc.MimeTypeVP9, "profile-id=2"),
		v(102, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
		v(106, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		v(127, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
		v(112, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
		v(45, webrtc.MimeTypeAV1, ""),
	}
}

// newMediaEngine builds the codecs and header extensions of one
// PeerConnection.
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecList() {
		typ := webrtc.RTPCodecTypeVideo
		if c.MimeType == webrtc.MimeTypeOpus {
			typ = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, typ); err != nil {
			return nil, fmt.Errorf("register codec %s: %w", c.MimeType, err)
		}
	}
	exts := []struct {
		uri string
		typ webrtc.RTPCodecType
	}{
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		{sdp.TransportCCURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.ABSSendTimeURI, webrtc.RTPCodecTypeVideo},
		{sdp.TransportCCURI, webrtc.RTPCodecTypeVideo},
	}
	for _, e := range exts {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.typ); err != nil {
			return nil, fmt.Errorf("register header extension %s: %w", e.uri, err)
		}
	}
	return m, nil
}

// newInterceptors builds a fresh registry for one PeerConnection:
//   - NACK generator: we ask publishers to retransmit what we lost;
//     NACKs from subscribers are answered by our own packet cache, so
//     there is no NACK responder;
//   - RTCP sender and receiver reports;
//   - TWCC feedback for what we receive (the browser's send-side BWE);
//   - unless disabled, TWCC sequence numbers on what we send plus a GCC
//     estimator (no pacer) whose target bitrate drives layer selection.
func newInterceptors(cfg *Config, lf pionLoggerFactory, onEstimator func(cc.BandwidthEstimator)) (*interceptor.Registry, error) {
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("nack generator: %w", err)
	}
	reg.Add(gen)
	rr, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("receiver reports: %w", err)
	}
	reg.Add(rr)
	sr, err := report.NewSenderInterceptor(report.WithSenderLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sender reports: %w", err)
	}
	reg.Add(sr)
	tw, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("twcc feedback: %w", err)
	}
	reg.Add(tw)
	if cfg.DisableBandwidthEstimation {
		return reg, nil
	}
	bwe, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(cfg.InitialBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
			gcc.WithLoggerFactory(lf),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("bandwidth estimator: %w", err)
	}
	bwe.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { onEstimator(e) })
	reg.Add(bwe)
	hdr, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return nil, fmt.Errorf("twcc header extension: %w", err)
	}
	reg.Add(hdr)
	return reg, nil
}
