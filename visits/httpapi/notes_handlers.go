package httpapi

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Encounter notes: /api/v1/visits/{visitID}/note...

// maxNoteBody bounds a draft request: visits.MaxNoteChars characters, each
// at most six bytes as a JSON escape, and room for the rest.
const maxNoteBody = 6*visits.MaxNoteChars + 4096

type noteDraftBody struct {
	Text     string `json:"text"`
	Revision int    `json:"revision"` // the revision the text was based on; 0 for the first save
}

type noteSignBody struct {
	Revision int `json:"revision"`
}

type noteRetractBody struct {
	Reason string `json:"reason"` // wrong_patient, wrong_visit, duplicate, documentation_error
}

func (a *API) getNote() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		return a.svc.GetNote(r.Context(), actor, id)
	})
}

func (a *API) saveNoteDraft() http.HandlerFunc {
	return withBody(a.withBodyLimit(maxNoteBody), func(r *http.Request, actor visits.Actor, id uuid.UUID, b *noteDraftBody) (any, error) {
		return a.svc.SaveNoteDraft(r.Context(), actor, id, b.Text, b.Revision)
	})
}

func (a *API) signNote() http.HandlerFunc {
	return withBody(a, func(r *http.Request, actor visits.Actor, id uuid.UUID, b *noteSignBody) (any, error) {
		return a.svc.SignNote(r.Context(), actor, id, b.Revision)
	})
}

func (a *API) retractNote() http.HandlerFunc {
	return withBody(a, func(r *http.Request, actor visits.Actor, id uuid.UUID, b *noteRetractBody) (any, error) {
		version, err := strconv.Atoi(r.PathValue("version"))
		if err != nil || version < 1 {
			return nil, visits.ErrNotFound
		}
		return a.svc.RetractNote(r.Context(), actor, id, version, b.Reason)
	})
}

// withBodyLimit is the API with request bodies of up to n bytes (never
// fewer than configured), for the routes that take long texts.
func (a *API) withBodyLimit(n int64) *API {
	c := *a
	c.cfg.MaxBodyBytes = max(n, a.cfg.MaxBodyBytes)
	return &c
}
