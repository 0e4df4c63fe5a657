package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/docs"
	"github.com/televisit/televisit/visits"
)

func (a *API) healthz() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// readyz answers 200 only while PostgreSQL answers and the node is not
// draining.
func (a *API) readyz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Draining != nil && a.cfg.Draining() {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"type":"` + problemTypeURI + `not-ready","title":"Not ready","status":503,"detail":"This node is draining."}`))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.svc.Pool().Ping(ctx); err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"type":"` + problemTypeURI + `not-ready","title":"Not ready","status":503,"detail":"The database does not answer."}`))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

func (a *API) openapi() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(docs.OpenAPI)
	}
}

// Me describes the caller.
type Me struct {
	Kind      visits.ActorKind `json:"kind"`
	StaffID   *uuid.UUID       `json:"staff_id,omitempty"`
	Roles     []visits.Role    `json:"roles"`
	ClinicIDs []uuid.UUID      `json:"clinic_ids"`
	VisitID   *uuid.UUID       `json:"visit_id,omitempty"`
}

func (a *API) me() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.Authenticate(r)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		m := Me{Kind: actor.Kind, Roles: actor.Roles, ClinicIDs: actor.ClinicIDs}
		if actor.IsStaff() {
			m.StaffID = &actor.StaffID
		} else {
			m.VisitID = &actor.VisitID
		}
		if m.Roles == nil {
			m.Roles = []visits.Role{}
		}
		if m.ClinicIDs == nil {
			m.ClinicIDs = []uuid.UUID{}
		}
		writeJSON(w, http.StatusOK, m)
	}
}

func (a *API) listClinics() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		cs, err := a.svc.ListClinics(r.Context(), actor)
		return listOf(cs), err
	})
}

func (a *API) listClinicians() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		clinic, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		cs, err := a.svc.ListClinicians(r.Context(), actor, clinic)
		return listOf(cs), err
	})
}

func (a *API) listAudit() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		f, err := auditFilter(r)
		if err != nil {
			return nil, err
		}
		recs, err := visits.ListAudit(r.Context(), a.svc.Pool(), actor, f)
		return listOf(recs), err
	})
}

func auditFilter(r *http.Request) (visits.AuditFilter, error) {
	q := r.URL.Query()
	f := visits.AuditFilter{ActorID: q.Get("actor_id"), Limit: 100}
	var err error
	if v := q.Get("visit_id"); v != "" {
		if f.VisitID, err = uuid.Parse(v); err != nil {
			return f, &jsonError{msg: "visit_id must be a UUID", field: "visit_id"}
		}
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				return f, &jsonError{msg: name + " must be an RFC 3339 time", field: name}
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, &jsonError{msg: "limit must be between 1 and 1000", field: "limit"}
		}
		f.Limit = n
	}
	return f, nil
}
