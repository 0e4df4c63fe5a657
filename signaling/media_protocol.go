package signaling

import (
	"time"

	"github.com/televisit/televisit/sfu"
)

// ICEServer is a STUN/TURN server a client may use, with time-limited
// credentials for TURN.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Client media messages' payloads.
type (
	joinPayload struct {
		VisitID string `json:"visit_id"` // staff: required; patients and guests: their own visit
		// Resume false: the client has no PeerConnection for a place it may
		// still hold here (it was moved, or its page reloaded), so any such
		// place gets a new one. Absent: true.
		Resume *bool `json:"resume"`
	}
	publishPayload struct {
		Kinds []string `json:"kinds"` // audio, video
	}
	sdpPayload struct {
		SDP string `json:"sdp"`
	}
	candidatePayload struct {
		Candidate sfu.ICECandidate `json:"candidate"`
	}
	mutePayload struct {
		Kind  string `json:"kind"` // audio or video
		Muted bool   `json:"muted"`
	}
	targetPayload struct {
		ParticipantID string `json:"participant_id"`
		Kind          string `json:"kind,omitempty"`
	}
	chatPayload struct {
		Text string `json:"text"`
	}
)

// Server media messages.
type (
	participantInfo struct {
		ParticipantID string `json:"participant_id"`
		Role          string `json:"role"`
		DisplayName   string `json:"display_name"`
	}
	joinedMsg struct {
		header
		participantInfo
		Resumed      bool              `json:"resumed"`
		Participants []participantInfo `json:"participants"`
		ICEServers   []ICEServer       `json:"ice_servers"`
	}
	participantJoinedMsg struct {
		header
		participantInfo
	}
	participantLeftMsg struct {
		header
		ParticipantID string `json:"participant_id"`
	}
	participantMutedMsg struct {
		header
		ParticipantID string `json:"participant_id"`
		Kind          string `json:"kind"`
		Muted         bool   `json:"muted"`
	}
	sdpMsg struct {
		header
		SDP string `json:"sdp"`
	}
	candidateMsg struct {
		header
		Candidate sfu.ICECandidate `json:"candidate"`
	}
	mediaStateMsg struct {
		header
		State string `json:"state"`
	}
	mediaStoppedMsg struct {
		header
		Reason string `json:"reason"`
	}
	chatMsg struct {
		header
		From string    `json:"from"`
		Text string    `json:"text"`
		At   time.Time `json:"at"`
	}
)
