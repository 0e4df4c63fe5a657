package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Listing release-of-information requests: a recording's requests
// (GET /api/v1/recordings/{recordingID}/release-requests) and the admin's
// queue of pending requests across clinics (GET /api/v1/release-requests).
// The service checks the caller is an admin and audits each read.

func (a *API) listReleaseRequests() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		recording, err := pathID(r, "recordingID")
		if err != nil {
			return nil, err
		}
		return rec.ListReleaseRequests(r.Context(), actor, recording)
	})
}

func (a *API) pendingReleaseRequests() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		clinic, err := pendingReleaseFilter(r)
		if err != nil {
			return nil, err
		}
		return rec.PendingReleaseRequests(r.Context(), actor, clinic)
	})
}

// pendingReleaseFilter reads ?state=pending (the only state the queue
// holds; it may be left out) and the optional ?clinic_id=.
func pendingReleaseFilter(r *http.Request) (uuid.UUID, error) {
	q := r.URL.Query()
	if s := q.Get("state"); s != "" && s != "pending" {
		return uuid.Nil, &jsonError{msg: `state must be "pending"`, field: "state"}
	}
	v := q.Get("clinic_id")
	if v == "" {
		return uuid.Nil, nil
	}
	clinic, err := uuid.Parse(v)
	if err != nil || clinic == uuid.Nil {
		return uuid.Nil, &jsonError{msg: "clinic_id must be a UUID", field: "clinic_id"}
	}
	return clinic, nil
}
