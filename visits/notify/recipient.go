package notify

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ValidateRecipient checks that r is a deliverable address for channel c:
// a bare e-mail addr-spec (no display name) for e-mail, an E.164 number
// ("+" and 7 to 15 digits) for SMS, anything printable for the console.
// Callers may use it to reject bad contact details at input time. The error
// never contains r.
func ValidateRecipient(c Channel, r string) error {
	if r == "" || len(r) > 254 || hasLineBreak(r) || !validText(r) {
		return invalid("recipient must be 1 to 254 bytes of UTF-8 on one line")
	}
	switch c {
	case ChannelEmail:
		return validateEmail(r)
	case ChannelSMS:
		return validateE164(r)
	case ChannelConsole:
		return nil
	}
	return invalid("unknown channel")
}

func validateEmail(r string) error {
	a, err := mail.ParseAddress(r)
	// net/mail errors may quote the input: never wrap them.
	if err != nil || a.Name != "" || a.Address != r {
		return invalid("e-mail recipient must be a bare address like name@example.org")
	}
	return nil
}

func validateE164(r string) error {
	digits := strings.TrimPrefix(r, "+")
	if len(digits) == len(r) || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return invalid("sms recipient must be an E.164 number like +15551234567")
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return invalid("sms recipient must be an E.164 number like +15551234567")
		}
	}
	return nil
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

// validText reports whether s is UTF-8 without NUL or other C0 controls
// except tab, CR and LF.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return false
		}
	}
	return true
}
