package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// staff runs fn for an authenticated staff member and writes its result.
func (a *API) staff(fn func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.staffActor(r)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		a.respond(w, r, fn, actor)
	}
}

// patient runs fn for an authenticated patient session.
func (a *API) patient(fn func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.patientActor(r)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		a.respond(w, r, fn, actor)
	}
}

func (a *API) respond(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request, visits.Actor) (any, error), actor visits.Actor) {
	out, err := fn(w, r, actor)
	if errors.Is(err, errWritten) {
		return
	}
	if err != nil {
		a.writeProblem(w, r, err)
		return
	}
	if out == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pathID parses a UUID path value; a malformed id is simply not found.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, visits.ErrNotFound
	}
	return id, nil
}

// transition adapts a service method that changes one visit, such as
// (*visits.Service).Admit, to a handler of /visits/{visitID}/...
func (a *API) transition(m func(*visits.Service, context.Context, visits.Actor, uuid.UUID) (visits.Visit, error)) http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		return m(a.svc, r.Context(), actor, id)
	})
}
