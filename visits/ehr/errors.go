package ehr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Issue is one OperationOutcome issue. Diagnostics is the server's text
// (diagnostics or details.text): it may echo submitted values, so it is kept
// for the admin view but never put into error strings or logs.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// OutcomeError is a non-2xx answer of the FHIR server, with the issues of its
// OperationOutcome when it sent one.
type OutcomeError struct {
	Op         string // the step, e.g. "create DocumentReference"
	Status     int
	Issues     []Issue
	RetryAfter time.Duration // from Retry-After on 429/503, else 0
}

func (e *OutcomeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ehr: %s: FHIR server answered %d", e.Op, e.Status)
	for i, is := range e.Issues {
		if i == maxIssuesInError {
			fmt.Fprintf(&b, "; and %d more", len(e.Issues)-i)
			break
		}
		fmt.Fprintf(&b, "; %s %s", is.Severity, is.Code)
		if len(is.Expression) > 0 {
			fmt.Fprintf(&b, " at %s", strings.Join(is.Expression, ","))
		}
	}
	return b.String()
}

const maxIssuesInError = 5

// Retryable reports whether the same request may succeed later: 5xx, 408
// and 429 are retryable, any other status is permanent.
func (e *OutcomeError) Retryable() bool {
	return e.Status >= 500 || e.Status == 408 || e.Status == 429
}

// TransportError is a network failure or timeout: no answer was read, so the
// server may or may not have applied a write. Always retryable; search by
// identifier before writing again.
type TransportError struct {
	Op  string
	Err error
}

func (e *TransportError) Error() string { return fmt.Sprintf("ehr: %s: %v", e.Op, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable is always true.
func (e *TransportError) Retryable() bool { return true }

// ProtocolError is a 2xx answer we cannot use (not JSON, too large, no id).
// It is permanent: retrying the same request will not change it.
type ProtocolError struct {
	Op     string
	Status int
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("ehr: %s: unusable answer (status %d): %s", e.Op, e.Status, e.Reason)
}

// AuthError is a failed token request to the SMART token endpoint.
type AuthError struct {
	Status int
	Code   string // OAuth error code, e.g. invalid_client
	Err    error  // transport failure, when there was no answer
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("ehr: token request: %v", e.Err)
	}
	return fmt.Sprintf("ehr: token request: status %d, error %q", e.Status, e.Code)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Retryable reports whether a later token request may succeed.
func (e *AuthError) Retryable() bool {
	return e.Err != nil || e.Status >= 500 || e.Status == 408 || e.Status == 429
}

// InputError is invalid input to a builder or a Config: a bug or a
// configuration mistake, never retryable. It names the field, not its value.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("ehr: invalid %s: %s", e.Field, e.Reason) }

// Retryable reports whether err, returned by this package, may go away when
// the same request is sent again later. Unknown errors (including context
// cancellation by the caller) are not retryable.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// NotFound reports whether the server answered 404 or 410 (Gone).
func NotFound(err error) bool {
	var oe *OutcomeError
	return errors.As(err, &oe) && (oe.Status == 404 || oe.Status == 410)
}

// RetryAfter is the delay the server asked for (Retry-After), or 0.
func RetryAfter(err error) time.Duration {
	var oe *OutcomeError
	if errors.As(err, &oe) {
		return oe.RetryAfter
	}
	return 0
}
