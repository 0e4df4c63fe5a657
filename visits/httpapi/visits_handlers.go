package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

func (a *API) createVisit() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		var nv visits.NewVisit
		if err := a.decode(w, r, &nv); err != nil {
			return nil, err
		}
		v, err := a.svc.CreateVisit(r.Context(), actor, nv)
		if err != nil {
			return nil, err
		}
		w.Header().Set("Location", "/api/v1/visits/"+v.ID.String())
		writeJSON(w, http.StatusCreated, v)
		return nil, errWritten
	})
}

func (a *API) getVisit() http.HandlerFunc { return a.transition((*visits.Service).GetVisit) }
func (a *API) cancel() http.HandlerFunc   { return a.transition((*visits.Service).Cancel) }
func (a *API) admit() http.HandlerFunc    { return a.transition((*visits.Service).Admit) }
func (a *API) sendBack() http.HandlerFunc { return a.transition((*visits.Service).SendBack) }
func (a *API) complete() http.HandlerFunc { return a.transition((*visits.Service).Complete) }
func (a *API) noShow() http.HandlerFunc   { return a.transition((*visits.Service).MarkNoShow) }
func (a *API) take() http.HandlerFunc     { return a.transition((*visits.Service).Take) }

func (a *API) reschedule() http.HandlerFunc {
	return withBody(a, func(r *http.Request, actor visits.Actor, id uuid.UUID, body *visits.Reschedule) (any, error) {
		return a.svc.Reschedule(r.Context(), actor, id, *body)
	})
}

type handOffBody struct {
	ClinicianID uuid.UUID `json:"clinician_id"`
}

func (a *API) handOff() http.HandlerFunc {
	return withBody(a, func(r *http.Request, actor visits.Actor, id uuid.UUID, body *handOffBody) (any, error) {
		if body.ClinicianID == uuid.Nil {
			return nil, &jsonError{msg: "clinician_id is required", field: "clinician_id"}
		}
		return a.svc.HandOff(r.Context(), actor, id, body.ClinicianID)
	})
}

func (a *API) issueLink() http.HandlerFunc {
	return withBody(a, func(r *http.Request, actor visits.Actor, id uuid.UUID, body *visits.IssueLinkRequest) (any, error) {
		return a.svc.IssueLink(r.Context(), actor, id, *body)
	})
}

func (a *API) revokeLink() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		return nil, a.svc.RevokeLink(r.Context(), actor, id)
	})
}

func (a *API) listVisits() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		clinic, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		f := visits.ListFilter{ClinicID: clinic, Date: q.Get("date"), PoolOnly: q.Get("pool") == "true"}
		if c := q.Get("clinician_id"); c != "" {
			id, err := uuid.Parse(c)
			if err != nil {
				return nil, &jsonError{msg: "clinician_id must be a UUID", field: "clinician_id"}
			}
			f.ClinicianID = &id
		}
		vs, err := a.svc.ListVisits(r.Context(), actor, f)
		return listOf(vs), err
	})
}

func (a *API) waitingRoom() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		clinic, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		q, err := a.svc.WaitingRoom(r.Context(), actor, clinic)
		return listOf(q), err
	})
}

// list is the envelope of every collection response.
type list[T any] struct {
	Items []T `json:"items"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}
