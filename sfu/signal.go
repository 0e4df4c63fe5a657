package sfu

// SignalKind says what a Signal carries.
type SignalKind int

const (
	// SignalOffer carries an SDP offer the SFU made (renegotiation after
	// tracks were added or removed). Answer it with HandleAnswer.
	SignalOffer SignalKind = iota + 1
	// SignalAnswer carries the SFU's answer to an offer given to
	// HandleOffer.
	SignalAnswer
	// SignalCandidate carries one local ICE candidate (trickle ICE).
	SignalCandidate
	// SignalState carries a new PeerConnection state ("connected",
	// "disconnected", "failed", "closed", ...).
	SignalState
)

// String names the kind for logs.
func (k SignalKind) String() string {
	switch k {
	case SignalOffer:
		return "offer"
	case SignalAnswer:
		return "answer"
	case SignalCandidate:
		return "candidate"
	case SignalState:
		return "state"
	}
	return "unknown"
}

// ICECandidate is a trickled ICE candidate, as in RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Signal is something the SFU needs to tell the remote peer. Signals of
// one participant are delivered in order, one at a time, from a goroutine
// of that participant with no SFU lock held.
type Signal struct {
	Kind      SignalKind
	SDP       string       // SignalOffer, SignalAnswer
	Candidate ICECandidate // SignalCandidate
	State     string       // SignalState
}
