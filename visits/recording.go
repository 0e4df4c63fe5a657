package visits

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The consent text every participant is shown before a recording starts.
// A change of wording is a new version: consent rows keep the id, the
// version and the text itself.
const (
	ConsentTextID      = "recording-consent"
	ConsentTextVersion = 1
	ConsentText        = "This visit will be recorded (audio and video) and kept in your medical record " +
		"according to the clinic's retention policy. Recording starts only when everyone agrees. " +
		"You can stop it at any time."
)

// Recording states.
const (
	RecordingPending = "pending" // asked, waiting for every answer
	RecordingActive  = "active"  // everyone present agreed; media is recorded
	RecordingStopped = "stopped"
)

// Why a recording stopped.
const (
	StopDeclined  = "declined"  // a participant said no
	StopWithdrawn = "withdrawn" // a participant withdrew consent
	StopStopped   = "stopped"   // the clinician stopped it
	StopError     = "error"     // the recorder failed
	StopEnded     = "ended"     // the visit or the call ended
)

// Consent is one participant's consent request and answer. It holds no
// PHI: participant IDs are "patient", "clinician:<id>", "guest:<id>".
type Consent struct {
	ID            uuid.UUID  `json:"request_id"`
	ParticipantID string     `json:"participant_id"`
	AskedAt       time.Time  `json:"asked_at"`
	TextID        string     `json:"text_id"`
	TextVersion   int        `json:"text_version"`
	Text          string     `json:"text"`
	CheckinAnswer string     `json:"checkin_answer,omitempty"` // the patient's pre-visit answer
	Answer        string     `json:"answer,omitempty"`         // yes, no; empty while unanswered
	AnsweredAt    *time.Time `json:"answered_at,omitempty"`
	WithdrawnAt   *time.Time `json:"withdrawn_at,omitempty"`
}

// Recording is a recording session of a visit with its consents.
type Recording struct {
	ID          uuid.UUID  `json:"id"`
	VisitID     uuid.UUID  `json:"visit_id"`
	ClinicID    uuid.UUID  `json:"clinic_id"`
	RequestedBy uuid.UUID  `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	StoppedAt   *time.Time `json:"stopped_at,omitempty"`
	State       string     `json:"state"`
	StopReason  string     `json:"stop_reason,omitempty"`
	Consents    []Consent  `json:"consents"`
}

// Active reports whether media is being recorded.
func (r Recording) Active() bool { return r.State == RecordingActive }

// Live reports whether the recording is pending or active.
func (r Recording) Live() bool { return r.State != RecordingStopped }

// WaitingFor lists the participants asked who have not answered yet.
func (r Recording) WaitingFor() []string {
	out := []string{}
	for _, c := range r.Consents {
		if c.Answer == "" && c.WithdrawnAt == nil {
			out = append(out, c.ParticipantID)
		}
	}
	return out
}

// Consented lists the participants whose tracks may be recorded now.
func (r Recording) Consented() []string {
	out := []string{}
	for _, c := range r.Consents {
		if c.Answer == "yes" && c.WithdrawnAt == nil {
			out = append(out, c.ParticipantID)
		}
	}
	return out
}

// Consent returns the consent row of a participant, if asked.
func (r Recording) Consent(participant string) (Consent, bool) {
	i := slices.IndexFunc(r.Consents, func(c Consent) bool { return c.ParticipantID == participant })
	if i < 0 {
		return Consent{}, false
	}
	return r.Consents[i], true
}

// ParticipantOf is the room participant ID of an actor ("" for none).
func ParticipantOf(a Actor) string {
	switch a.Kind {
	case ActorPatient:
		return "patient"
	case ActorGuest:
		return "guest:" + a.GuestID.String()
	case ActorStaff:
		return "clinician:" + a.StaffID.String()
	}
	return ""
}

// validParticipant checks the shape of a participant ID.
func validParticipant(p string) bool {
	if p == "patient" {
		return true
	}
	kind, id, ok := strings.Cut(p, ":")
	if !ok || (kind != "clinician" && kind != "guest") {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}
