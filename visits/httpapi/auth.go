package httpapi

import (
	"errors"
	"net/http"

	"github.com/televisit/televisit/visits"
)

// Authenticate returns the caller: staff (bearer or session cookie) first,
// then a patient session cookie, then a guest session cookie. The WebSocket
// endpoint uses it too (signaling decides which kinds it accepts).
func (a *API) Authenticate(r *http.Request) (visits.Actor, error) {
	actor, err := a.staffAuth.Authenticate(r)
	if !errors.Is(err, visits.ErrUnauthorized) {
		return actor, err
	}
	if c, cerr := r.Cookie(PatientCookie); cerr == nil {
		return a.svc.AuthenticatePatient(r.Context(), c.Value, clientIP(r), r.UserAgent())
	}
	if c, cerr := r.Cookie(GuestCookie); cerr == nil {
		return a.svc.AuthenticateGuest(r.Context(), c.Value, clientIP(r), r.UserAgent())
	}
	return visits.Actor{}, visits.ErrUnauthorized
}

// staffActor authenticates a staff-only route: a patient gets 403.
func (a *API) staffActor(r *http.Request) (visits.Actor, error) {
	actor, err := a.Authenticate(r)
	if err != nil {
		return actor, err
	}
	if !actor.IsStaff() {
		return actor, visits.ErrForbidden
	}
	return actor, nil
}

// patientActor authenticates a patient-only route: staff and guests get 403.
func (a *API) patientActor(r *http.Request) (visits.Actor, error) {
	c, err := r.Cookie(PatientCookie)
	if err != nil {
		if _, aerr := a.Authenticate(r); aerr == nil {
			return visits.Actor{}, visits.ErrForbidden
		}
		return visits.Actor{}, visits.ErrUnauthorized
	}
	return a.svc.AuthenticatePatient(r.Context(), c.Value, clientIP(r), r.UserAgent())
}

// anonymous is the actor of a request nobody has proven yet.
func anonymous(r *http.Request) visits.Actor {
	return visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous", ClientAddr: clientIP(r), UserAgent: r.UserAgent()}
}

func (a *API) setPatientCookie(w http.ResponseWriter, ps visits.PatientSession) {
	http.SetCookie(w, &http.Cookie{Name: PatientCookie, Value: ps.Token, Path: "/", Expires: ps.ExpiresAt,
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (a *API) clearPatientCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: PatientCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}
