package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/televisit/televisit/visits"
)

// Problem is an RFC 9457 problem detail. Detail never carries PHI or SQL.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

var (
	errTooLarge    = errors.New("request body too large")
	errMediaType   = errors.New("content type must be application/json")
	errBadJSON     = errors.New("malformed JSON")
	errMethodBody  = errors.New("unexpected request body")
	problemTypeURI = "https://televisit.dev/problems/"
)

// problemFor maps an error to its problem. Anything unknown becomes a
// generic internal error.
func problemFor(err error) Problem {
	var ve *visits.ValidationError
	var ce *visits.ConflictError
	var je *jsonError
	switch {
	case errors.Is(err, visits.ErrStaleRevision):
		return Problem{"note-changed", "Note changed", 409, "The note was changed elsewhere. Reload it.", ""}
	case errors.As(err, &ve):
		return Problem{"invalid", "Invalid input", 400, ve.Error(), ve.Field}
	case errors.As(err, &je):
		return Problem{"invalid-json", "Malformed request", 400, je.msg, je.field}
	case errors.As(err, &ce):
		return Problem{"conflict", "Conflict", 409, ce.Reason, ""}
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return m.p
		}
	}
	return Problem{"internal", "Internal error", 500, "Something went wrong on our side. Please try again.", ""}
}

var errorTable = []struct {
	err error
	p   Problem
}{
	{errTooLarge, Problem{"too-large", "Request too large", 413, "The request body is larger than allowed.", ""}},
	{errMediaType, Problem{"unsupported-media-type", "Unsupported media type", 415, "Send JSON with Content-Type: application/json.", ""}},
	{errBadJSON, Problem{"invalid-json", "Malformed request", 400, "The body is not valid JSON.", ""}},
	{visits.ErrUnauthorized, Problem{"unauthorized", "Not signed in", 401, "Sign in and try again.", ""}},
	{visits.ErrSessionEnded, Problem{"session-ended", "Session ended", 401, "Your session has ended. Sign in again.", ""}},
	{visits.ErrWrongAnswer, Problem{"knowledge-check-failed", "Check failed", 401, "The date of birth does not match our records.", ""}},
	{visits.ErrMFARequired, Problem{"mfa-required", "Multi-factor authentication required", 403, "Sign in with multi-factor authentication.", ""}},
	{visits.ErrLinkLocked, Problem{"link-locked", "Link locked", 403, "Too many attempts. The clinic has been told; they can send you a new link.", ""}},
	{visits.ErrForbidden, Problem{"forbidden", "Forbidden", 403, "You are not allowed to do this.", ""}},
	{visits.ErrNotFound, Problem{"not-found", "Not found", 404, "", ""}},
	{visits.ErrLinkExpired, Problem{"link-expired", "Link expired", 410, "This visit link has expired. Contact the clinic for a new one.", ""}},
	{visits.ErrLinkRevoked, Problem{"link-revoked", "Link no longer valid", 410, "This visit link is no longer valid. Contact the clinic for a new one.", ""}},
	{visits.ErrConflict, Problem{"conflict", "Conflict", 409, "", ""}},
	{visits.ErrRateLimited, Problem{"rate-limited", "Too many requests", 429, "Wait a minute and try again.", ""}},
	{visits.ErrInvalid, Problem{"invalid", "Invalid input", 400, "", ""}},
	{visits.ErrRecordingUnavailable, Problem{"recording-unavailable", "Recording unavailable", 503, "Recording storage is not configured or not reachable.", ""}},
}

// writeProblem answers with err as a problem and logs unexpected errors
// (the step names in our wrapped errors, never request data).
func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		a.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
	}
	p.Type = problemTypeURI + p.Type
	switch p.Status {
	case 401:
		w.Header().Set("WWW-Authenticate", `Bearer realm="televisit"`)
	case 429:
		w.Header().Set("Retry-After", "60")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers 200 (or status) with v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("response write failed", "err", err)
	}
}
