package notify

import (
	"errors"

	"github.com/google/uuid"
)

// Channel is how a message travels.
type Channel string

// Channels, as stored in notification_outbox.channel.
const (
	ChannelEmail   Channel = "email"
	ChannelSMS     Channel = "sms"
	ChannelConsole Channel = "console" // development: printed, never delivered
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelSMS, ChannelConsole:
		return true
	}
	return false
}

// Message is one notification. Recipient, Subject and Body are PHI or
// secret (the body carries the visit link token): never log them.
type Message struct {
	// ID is the outbox row id. Enqueue ignores it; the worker sets it before
	// calling a Sender, which uses it as an idempotency key.
	ID        int64
	VisitID   uuid.UUID
	Channel   Channel
	Recipient string // e-mail addr-spec or E.164 phone number
	Subject   string // e-mail only; single line
	Body      string // plain text, UTF-8
}

// Limits on message fields, in bytes.
const (
	maxSubjectLen = 500
	maxBodyLen    = 16 << 10
)

// ErrInvalid is wrapped by every validation error. The error text names the
// field and the rule, never the value.
var ErrInvalid = errors.New("notify: invalid message")

func invalid(why string) error {
	return &validationError{why: why}
}

type validationError struct{ why string }

func (e *validationError) Error() string { return ErrInvalid.Error() + ": " + e.why }
func (e *validationError) Unwrap() error { return ErrInvalid }

// validate checks a message before it is sealed and stored.
func (m Message) validate() error {
	if m.VisitID == uuid.Nil {
		return invalid("visit id is empty")
	}
	if !m.Channel.Valid() {
		return invalid("unknown channel")
	}
	if err := ValidateRecipient(m.Channel, m.Recipient); err != nil {
		return err
	}
	if len(m.Subject) > maxSubjectLen || hasLineBreak(m.Subject) || !validText(m.Subject) {
		return invalid("subject must be one line of at most 500 bytes of UTF-8")
	}
	if m.Body == "" || len(m.Body) > maxBodyLen || !validText(m.Body) {
		return invalid("body must be 1 to 16384 bytes of UTF-8")
	}
	return nil
}
