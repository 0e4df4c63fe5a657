package browsertest

import (
	"context"
	"fmt"
	"time"
)

// These helpers read RTCPeerConnection.getStats() of a peer connection that
// the page exposes; pc is a JavaScript expression that evaluates to it, such
// as "window.call.pc".

// InboundVideo sums the inbound-rtp video streams of a peer connection.
type InboundVideo struct {
	FramesDecoded   int    `json:"framesDecoded"`
	PacketsReceived int    `json:"packetsReceived"`
	BytesReceived   int    `json:"bytesReceived"`
	FrameWidth      int    `json:"frameWidth"`
	FrameHeight     int    `json:"frameHeight"`
	Codec           string `json:"codec"` // mimeType, e.g. "video/VP8"
	Streams         int    `json:"streams"`
}

// CandidatePair is the selected ICE candidate pair of a peer connection.
type CandidatePair struct {
	State          string  `json:"state"` // "succeeded" once connected
	Nominated      bool    `json:"nominated"`
	LocalType      string  `json:"localType"` // host, srflx, prflx, relay
	LocalProtocol  string  `json:"localProtocol"`
	LocalAddress   string  `json:"localAddress"`
	RelayProtocol  string  `json:"relayProtocol"` // how a relay candidate reaches the TURN server
	RemoteType     string  `json:"remoteType"`
	RemoteAddress  string  `json:"remoteAddress"`
	BytesSent      int     `json:"bytesSent"`
	BytesReceived  int     `json:"bytesReceived"`
	CurrentRTTSecs float64 `json:"currentRoundTripTime"`
}

const inboundVideoJS = `(async (pc) => {
  const stats = await pc.getStats();
  const r = {framesDecoded: 0, packetsReceived: 0, bytesReceived: 0, frameWidth: 0, frameHeight: 0, codec: "", streams: 0};
  stats.forEach((s) => {
    if (s.type !== "inbound-rtp" || s.kind !== "video") return;
    r.streams++;
    r.framesDecoded += s.framesDecoded || 0;
    r.packetsReceived += s.packetsReceived || 0;
    r.bytesReceived += s.bytesReceived || 0;
    r.frameWidth = Math.max(r.frameWidth, s.frameWidth || 0);
    r.frameHeight = Math.max(r.frameHeight, s.frameHeight || 0);
    const codec = s.codecId && stats.get(s.codecId);
    if (codec) r.codec = codec.mimeType;
  });
  return r;
})(%s)`

// The selected pair is the transport's selectedCandidatePairId; failing
// that (older browsers), the nominated succeeded pair.
const candidatePairJS = `(async (pc) => {
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId) || pair;
  });
  if (!pair) stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId) || {};
  const remote = stats.get(pair.remoteCandidateId) || {};
  return {
    state: pair.state, nominated: !!pair.nominated,
    localType: local.candidateType || "", localProtocol: local.protocol || "",
    localAddress: (local.address || "") + ":" + (local.port || ""), relayProtocol: local.relayProtocol || "",
    remoteType: remote.candidateType || "", remoteAddress: (remote.address || "") + ":" + (remote.port || ""),
    bytesSent: pair.bytesSent || 0, bytesReceived: pair.bytesReceived || 0,
    currentRoundTripTime: pair.currentRoundTripTime || 0,
  };
})(%s)`

// ReadInboundVideo returns the inbound video statistics of pc.
func ReadInboundVideo(ctx context.Context, pc string) (InboundVideo, error) {
	v, err := Eval[InboundVideo](ctx, fmt.Sprintf(inboundVideoJS, pc))
	if err != nil {
		return v, fmt.Errorf("browsertest: inbound video stats of %s: %w", pc, err)
	}
	return v, nil
}

// SelectedCandidatePair returns the selected ICE candidate pair of pc; nil
// when there is none yet.
func SelectedCandidatePair(ctx context.Context, pc string) (*CandidatePair, error) {
	p, err := Eval[*CandidatePair](ctx, fmt.Sprintf(candidatePairJS, pc))
	if err != nil {
		return nil, fmt.Errorf("browsertest: candidate pair of %s: %w", pc, err)
	}
	return p, nil
}

// WaitFramesDecoded waits until pc has decoded more than min video frames,
// polling getStats, and returns the last statistics read. On timeout the
// error holds those statistics.
func WaitFramesDecoded(ctx context.Context, pc string, min int, timeout time.Duration) (InboundVideo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last InboundVideo
	var lastErr error
	for {
		v, err := ReadInboundVideo(ctx, pc)
		if err == nil {
			last, lastErr = v, nil
			if v.FramesDecoded > min {
				return v, nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("browsertest: %s decoded %d video frames (%d packets) within %s, want > %d (last error: %v)",
				pc, last.FramesDecoded, last.PacketsReceived, timeout, min, lastErr)
		case <-time.After(pollInterval):
		}
	}
}
