package httpapi

import (
	"net/http"

	"github.com/televisit/televisit/visits"
)

type linkBody struct {
	Token string `json:"token"`
}

type verifyBody struct {
	Token       string `json:"token"`
	DateOfBirth string `json:"date_of_birth"`
}

// limited applies the check-in rate limit per client address.
func (a *API) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.checkIn.allow(r) {
			a.writeProblem(w, r, visits.ErrRateLimited)
			return
		}
		h(w, r)
	}
}

func (a *API) openLink() http.HandlerFunc {
	return a.limited(func(w http.ResponseWriter, r *http.Request) {
		var b linkBody
		if err := a.decode(w, r, &b); err != nil {
			a.writeProblem(w, r, err)
			return
		}
		info, err := a.svc.OpenLink(r.Context(), anonymous(r), b.Token)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
}

func (a *API) verifyPatient() http.HandlerFunc {
	return a.limited(func(w http.ResponseWriter, r *http.Request) {
		var b verifyBody
		if err := a.decode(w, r, &b); err != nil {
			a.writeProblem(w, r, err)
			return
		}
		ps, err := a.svc.VerifyPatient(r.Context(), anonymous(r), b.Token, b.DateOfBirth)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		a.setPatientCookie(w, ps)
		writeJSON(w, http.StatusOK, ps)
	})
}

func (a *API) endPatientSession() http.HandlerFunc {
	return a.patient(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		if err := a.svc.EndPatientSession(r.Context(), actor); err != nil {
			return nil, err
		}
		a.clearPatientCookie(w)
		return nil, nil
	})
}

func (a *API) patientVisit() http.HandlerFunc {
	return a.patient(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		return a.svc.PatientView(r.Context(), actor)
	})
}

func (a *API) patientCheckIn() http.HandlerFunc {
	return a.patient(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		var ci visits.CheckIn
		if err := a.decode(w, r, &ci); err != nil {
			return nil, err
		}
		return a.svc.CheckIn(r.Context(), actor, ci)
	})
}
