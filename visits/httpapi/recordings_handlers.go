package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Recording access: retention policies (/api/v1/clinics/{clinicID}/
// recording-retention), the list of a visit's recordings, playback links
// and release of information (/api/v1/recordings/...). The service checks
// who may do what and audits every call; links are presigned URLs of the
// object store, made after the audit event commits. No media passes here.

// SetRecordings gives the API recording access; until it is set the
// recording routes answer 503 recording-unavailable.
func (a *API) SetRecordings(r *visits.Recordings) { a.recordings.Store(r) }

// recordingsHandler runs fn with recording access for a staff caller.
func (a *API) recordingsHandler(fn func(w http.ResponseWriter, r *http.Request, actor visits.Actor,
	rec *visits.Recordings) (any, error)) http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		rec := a.recordings.Load()
		if rec == nil {
			return nil, visits.ErrRecordingUnavailable
		}
		return fn(w, r, actor, rec)
	})
}

func (a *API) getRecordingRetention() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		id, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		return rec.GetRecordingRetention(r.Context(), actor, id)
	})
}

func (a *API) setRecordingRetention() http.HandlerFunc {
	return a.recordingsHandler(func(w http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		id, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		var body visits.RecordingRetentionSettings
		if err := a.decode(w, r, &body); err != nil {
			return nil, err
		}
		return rec.SetRecordingRetention(r.Context(), actor, id, body)
	})
}

func (a *API) listRecordings() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		visit, err := uuid.Parse(r.URL.Query().Get("visit_id"))
		if err != nil {
			return nil, &jsonError{msg: "visit_id must be a UUID", field: "visit_id"}
		}
		return rec.ListRecordings(r.Context(), actor, visit)
	})
}

func (a *API) playback() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		recording, err := pathID(r, "recordingID")
		if err != nil {
			return nil, err
		}
		object, err := pathID(r, "objectID")
		if err != nil {
			return nil, err
		}
		return rec.PlaybackLink(r.Context(), actor, recording, object)
	})
}

func (a *API) requestRelease() http.HandlerFunc {
	return a.recordingsHandler(func(w http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		recording, err := pathID(r, "recordingID")
		if err != nil {
			return nil, err
		}
		var body visits.ReleaseRequestInput
		if err := a.decode(w, r, &body); err != nil {
			return nil, err
		}
		out, err := rec.RequestRelease(r.Context(), actor, recording, body)
		if err != nil {
			return nil, err
		}
		writeJSON(w, http.StatusCreated, out)
		return nil, errWritten
	})
}

func (a *API) approveRelease() http.HandlerFunc { return a.decideRelease(true) }

func (a *API) denyRelease() http.HandlerFunc { return a.decideRelease(false) }

func (a *API) decideRelease(approve bool) http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		recording, request, err := releasePath(r)
		if err != nil {
			return nil, err
		}
		return rec.DecideRelease(r.Context(), actor, recording, request, approve)
	})
}

func (a *API) releaseLink() http.HandlerFunc {
	return a.recordingsHandler(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor, rec *visits.Recordings) (any, error) {
		recording, request, err := releasePath(r)
		if err != nil {
			return nil, err
		}
		var object uuid.UUID
		if v := r.URL.Query().Get("object_id"); v != "" {
			if object, err = uuid.Parse(v); err != nil {
				return nil, &jsonError{msg: "object_id must be a UUID", field: "object_id"}
			}
		}
		return rec.ReleaseLink(r.Context(), actor, recording, request, object)
	})
}

func releasePath(r *http.Request) (recording, request uuid.UUID, err error) {
	if recording, err = pathID(r, "recordingID"); err != nil {
		return
	}
	request, err = pathID(r, "requestID")
	return
}
