package httpapi

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// EHR writeback administration, admins only: /api/v1/ehr/... and
// /api/v1/clinics/{clinicID}/ehr. The service checks the role and audits
// every call.

type practitionerBody struct {
	PractitionerID string `json:"practitioner_id"`
}

func (a *API) listEHRJobs() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		f, err := ehrJobFilter(r)
		if err != nil {
			return nil, err
		}
		return a.svc.ListEHRJobs(r.Context(), actor, f)
	})
}

func ehrJobFilter(r *http.Request) (visits.EHRJobFilter, error) {
	q := r.URL.Query()
	f := visits.EHRJobFilter{State: visits.EHRJobState(q.Get("state"))}
	var err error
	if v := q.Get("clinic_id"); v != "" {
		if f.ClinicID, err = uuid.Parse(v); err != nil {
			return f, &jsonError{msg: "clinic_id must be a UUID", field: "clinic_id"}
		}
	}
	for name, dst := range map[string]*int64{"before": &f.Before, "limit": nil} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, &jsonError{msg: name + " must be an integer", field: name}
		}
		if dst != nil {
			*dst = n
		} else if n < 1 || n > 500 {
			return f, &jsonError{msg: "limit must be between 1 and 500", field: "limit"}
		} else {
			f.Limit = int(n)
		}
	}
	return f, nil
}

func (a *API) retryEHRJob() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("jobID"), 10, 64)
		if err != nil || id < 1 {
			return nil, visits.ErrNotFound
		}
		return a.svc.RetryEHRJob(r.Context(), actor, id)
	})
}

func (a *API) getClinicEHR() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		return a.svc.GetClinicEHR(r.Context(), actor, id)
	})
}

func (a *API) setClinicEHR() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "clinicID")
		if err != nil {
			return nil, err
		}
		var body visits.ClinicEHRSettings
		if err := a.decode(w, r, &body); err != nil {
			return nil, err
		}
		return a.svc.SetClinicEHR(r.Context(), actor, id, body)
	})
}

func (a *API) setPractitioner() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "staffID")
		if err != nil {
			return nil, err
		}
		var body practitionerBody
		if err := a.decode(w, r, &body); err != nil {
			return nil, err
		}
		return a.svc.SetPractitionerID(r.Context(), actor, id, body.PractitionerID)
	})
}
