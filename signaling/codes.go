package signaling

import (
	"errors"
	"net/http"

	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/visits"
)

// Close codes the server sends in the WebSocket close frame. Each one is
// preceded by a session_ended message naming the same reason, except where
// noted. docs/signaling.md lists them with what a client should do.
const (
	// CloseGoingAway: the server is shutting down; reconnect (reason
	// "going_away").
	CloseGoingAway = websocket.CloseGoingAway // 1001
	// CloseTooLarge: a message exceeded MaxMessageBytes. Sent by the
	// WebSocket library as soon as the limit is crossed, without a
	// session_ended message.
	CloseTooLarge = websocket.CloseMessageTooBig // 1009
	// CloseInternal: the server failed; reconnect with backoff (reason
	// "internal").
	CloseInternal = websocket.CloseInternalServerErr // 1011
	// CloseProtocolAbuse: too many malformed or unknown messages (reason
	// "protocol_abuse").
	CloseProtocolAbuse = 4400
	// CloseSessionEnded: the sign-in behind the socket ended (timeout,
	// logout, link revoked or expired); sign in again (reason
	// "session_ended").
	CloseSessionEnded = 4401
	// CloseForbidden: the actor may no longer use the socket (reason
	// "forbidden").
	CloseForbidden = 4403
	// CloseTooSlow: the client did not read fast enough and its send queue
	// filled. No session_ended message: the queue is full.
	CloseTooSlow = 4408
	// CloseRateLimited: the client kept sending over its rate limit
	// (reason "rate_limited").
	CloseRateLimited = 4429
	// CloseReplaced: the same participant joined the visit from another
	// socket (a reconnect, another tab), which now holds the media (reason
	// "replaced").
	CloseReplaced = 4409
	// CloseMoved: the visit's room is on another node (or is moving
	// there); reconnect at once to /ws?node=<node> and join again. Preceded
	// by a moved message (not session_ended) naming the node and reason.
	CloseMoved = 4302
)

// closeError ends a session with a close frame. reason is a fixed token,
// never client data or PHI; it is the close frame's text and the
// session_ended message's reason.
type closeError struct {
	code   int
	reason string
	quiet  bool // no session_ended message first
}

func (e *closeError) Error() string { return "signaling: session closed: " + e.reason }

var (
	errShutdown      = &closeError{code: CloseGoingAway, reason: "going_away"}
	errInternal      = &closeError{code: CloseInternal, reason: "internal"}
	errAbuse         = &closeError{code: CloseProtocolAbuse, reason: "protocol_abuse"}
	errSessionEnded  = &closeError{code: CloseSessionEnded, reason: "session_ended"}
	errForbiddenConn = &closeError{code: CloseForbidden, reason: "forbidden"}
	errTooSlow       = &closeError{code: CloseTooSlow, reason: "too_slow", quiet: true}
	errRateLimited   = &closeError{code: CloseRateLimited, reason: "rate_limited"}
)

// connLost ends a session whose connection is already gone or closing
// (peer close, network error, read limit, write failure): no frame is sent.
type connLost struct{ err error }

func (e connLost) Error() string { return "signaling: connection lost: " + e.err.Error() }
func (e connLost) Unwrap() error { return e.err }

// endedErrs are the authenticator's answers that mean the sign-in is over.
var endedErrs = []error{visits.ErrUnauthorized, visits.ErrSessionEnded, visits.ErrLinkRevoked,
	visits.ErrLinkExpired, visits.ErrLinkLocked, visits.ErrMFARequired}

func isEnded(err error) bool {
	for _, e := range endedErrs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// closeFor maps why a session ends to the close frame to send: nil when the
// connection is gone and nothing can be sent. This is the one place typed
// errors become close codes; anything unknown is an internal error.
func closeFor(err error) *closeError {
	var ce *closeError
	var lost connLost
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &lost):
		return nil
	case isEnded(err):
		return errSessionEnded
	case errors.Is(err, visits.ErrForbidden):
		return errForbiddenConn
	}
	return errInternal
}

// httpStatus maps an authentication failure to the status of the refused
// upgrade.
func httpStatus(err error) int {
	switch {
	case isEnded(err):
		return http.StatusUnauthorized
	case errors.Is(err, visits.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, visits.ErrRateLimited):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Error codes of the error message.
const (
	codeBadMessage     = "bad_message"
	codeUnknownType    = "unknown_type"
	codeRateLimited    = "rate_limited"
	codeForbidden      = "forbidden"
	codeInternal       = "internal"
	codeClinicRequired = "clinic_required"
	codeNotAdmitted    = "not_admitted"
	codeNoMedia        = "media_unavailable"
	codeNotJoined      = "not_joined"
	codeBadSDP         = "bad_sdp"
	codeGlare          = "glare"
)

// clientError is an error reported to the client in an error message. Its
// message is fixed text, safe to show anyone.
type clientError struct {
	code    string
	message string
}

func (e *clientError) Error() string { return e.code + ": " + e.message }

func badMessage(msg string) *clientError { return &clientError{code: codeBadMessage, message: msg} }

// abusive reports whether the error counts towards MaxBadMessages.
func (e *clientError) abusive() bool { return e.code == codeBadMessage || e.code == codeUnknownType }

// clientErrorFor maps a handler's error to what the client is told; ok is
// false for errors the client must not learn about (internal ones).
func clientErrorFor(err error) (ce *clientError, ok bool) {
	switch {
	case errors.As(err, &ce):
		return ce, true
	case errors.Is(err, visits.ErrForbidden), errors.Is(err, visits.ErrNotFound):
		return &clientError{code: codeForbidden, message: "not allowed"}, true
	case errors.Is(err, visits.ErrInvalid):
		return badMessage("invalid request"), true
	case errors.Is(err, visits.ErrRateLimited):
		return &clientError{code: codeRateLimited, message: "too many requests"}, true
	}
	return &clientError{code: codeInternal, message: "internal error"}, false
}
