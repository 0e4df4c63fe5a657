package notify

import (
	"errors"
	"regexp"
	"strings"
)

// PermanentError is a delivery failure that retrying cannot fix (an SMTP 5xx
// reply, a webhook 4xx other than 408 and 429, an undecryptable row). The
// worker marks the message failed at once. Reason must be free of PHI: it
// is stored in last_error.
type PermanentError struct {
	Reason string
}

func (e *PermanentError) Error() string { return e.Reason }

// permanent returns a *PermanentError with a fixed, PHI-free reason.
func permanent(reason string) error { return &PermanentError{Reason: reason} }

// IsPermanent reports whether err is or wraps a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Redaction of sender errors before they are logged or stored. Senders in
// this package never put PHI into errors; this is the second line of defence
// for senders written elsewhere.
var (
	emailPattern = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)
	phonePattern = regexp.MustCompile(`\+?\d[\d ().-]{5,}\d`)
)

const (
	redacted      = "[redacted]"
	maxErrorBytes = 300
)

// safeReason turns a sender error into text fit for last_error and logs:
// every occurrence of the message's recipient, subject and body is removed,
// as is anything that looks like an e-mail address or phone number, and the
// text is cut to maxErrorBytes.
func safeReason(err error, m Message) string {
	s := err.Error()
	for _, secret := range []string{m.Recipient, m.Body, m.Subject} {
		if len(secret) >= 3 {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	s = emailPattern.ReplaceAllString(s, redacted)
	s = phonePattern.ReplaceAllStringFunc(s, redactPhone)
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxErrorBytes {
		s = strings.ToValidUTF8(s[:maxErrorBytes], "") + "..."
	}
	return s
}

// redactPhone redacts a digit run that has enough digits to be a phone
// number; shorter ones (status codes, "5.1.1", small numbers) stay.
func redactPhone(s string) string {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	if n >= 7 {
		return redacted
	}
	return s
}
