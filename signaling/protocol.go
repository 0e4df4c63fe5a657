package signaling

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// ProtocolVersion is the "v" every message carries.
const ProtocolVersion = 1

const (
	maxTypeLen = 64
	maxIDLen   = 64
)

// envelope is what every message has in common; the payload fields sit
// beside these in the same object.
type envelope struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

// inbound is a decoded client message; raw is the whole object, which a
// handler decodes again into its own payload type.
type inbound struct {
	envelope
	raw []byte
}

// decode checks a client message's envelope. On error the returned message
// still carries the client's id when that id was well formed, so the error
// can refer to it.
func decode(data []byte) (inbound, error) {
	m := inbound{raw: data}
	if !utf8.Valid(data) {
		return m, badMessage("message is not valid UTF-8")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return m, badMessage("message must be a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return m, badMessage("malformed JSON or wrong field types")
	}
	if !validID(env.ID) {
		return m, badMessage("id must be at most 64 characters of A-Z a-z 0-9 . _ : -")
	}
	m.ID = env.ID
	if env.V != ProtocolVersion {
		return m, badMessage("unsupported protocol version")
	}
	if !validType(env.Type) {
		return m, badMessage("type is missing or malformed")
	}
	m.envelope = env
	return m, nil
}

func validID(s string) bool {
	if len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func validType(s string) bool {
	if s == "" || len(s) > maxTypeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// payload decodes a message's own fields into T.
func payload[T any](m inbound) (T, error) {
	var p T
	if err := json.Unmarshal(m.raw, &p); err != nil {
		return p, badMessage("malformed payload for " + m.Type)
	}
	return p, nil
}

// header starts every server message; Ref echoes the id of the client
// message it answers.
type header struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
}

func hdr(typ, ref string) header { return header{V: ProtocolVersion, Type: typ, Ref: ref} }

type welcomeMsg struct {
	header
	Session  string `json:"session"`
	Protocol int    `json:"protocol"`
}

type errorMsg struct {
	header
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Clinics []clinicRef `json:"clinics,omitempty"` // with clinic_required
}

type clinicRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type waitingRoomMsg struct {
	header
	ClinicID uuid.UUID           `json:"clinic_id"`
	Entries  []visits.QueueEntry `json:"entries"`
}

type patientStatusMsg struct {
	header
	visits.PatientView
}

// visitMsg is admitted, sent_back and visit_ended (to the patient) and
// link_locked (to clinicians).
type visitMsg struct {
	header
	VisitID  uuid.UUID     `json:"visit_id"`
	ClinicID *uuid.UUID    `json:"clinic_id,omitempty"`
	Status   visits.Status `json:"status,omitempty"`
}

type sessionEndedMsg struct {
	header
	Reason string `json:"reason"`
}
