package visits

import "errors"

// Typed errors. The HTTP and WebSocket edges map them to status and close
// codes; their text never carries PHI or SQL.
var (
	ErrNotFound     = errors.New("not found")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("not signed in")
	ErrConflict     = errors.New("conflict")      // e.g. invalid state transition, lost race
	ErrInvalid      = errors.New("invalid input") // wrapped in *ValidationError
	ErrLinkExpired  = errors.New("link expired")  // also: visit over
	ErrLinkRevoked  = errors.New("link revoked")  // revoked or superseded
	ErrLinkLocked   = errors.New("link locked")   // too many failed checks
	ErrWrongAnswer  = errors.New("knowledge check failed")
	ErrRateLimited  = errors.New("too many requests")
	ErrSessionEnded = errors.New("session ended") // idle or absolute timeout, logout
	ErrMFARequired  = errors.New("multi-factor authentication required")
)

// ValidationError names the field that is wrong and why, in words safe to
// show anyone: it never repeats the value.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }
