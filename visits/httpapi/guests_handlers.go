package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// GuestCookie holds a guest session token. It is separate from the patient
// cookie: one browser holding both stays two different callers.
const GuestCookie = "tv_guest"

func (a *API) inviteGuest() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		var in visits.GuestInvite
		if err := a.decode(w, r, &in); err != nil {
			return nil, err
		}
		l, err := a.svc.InviteGuest(r.Context(), actor, id, in)
		if err != nil {
			return nil, err
		}
		writeJSON(w, http.StatusCreated, l)
		return nil, errWritten
	})
}

func (a *API) listGuests() http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		gs, err := a.svc.ListGuests(r.Context(), actor, id)
		return listOf(gs), err
	})
}

func (a *API) admitGuest() http.HandlerFunc  { return a.guestChange((*visits.Service).AdmitGuest) }
func (a *API) removeGuest() http.HandlerFunc { return a.guestChange((*visits.Service).RemoveGuest) }

// guestChange adapts a service method that changes one guest of one visit
// to a handler of /visits/{visitID}/guests/{guestID}/...
func (a *API) guestChange(m func(*visits.Service, context.Context, visits.Actor, uuid.UUID, uuid.UUID) (visits.Guest, error)) http.HandlerFunc {
	return a.staff(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		visit, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		guest, err := pathID(r, "guestID")
		if err != nil {
			return nil, err
		}
		return m(a.svc, r.Context(), actor, visit, guest)
	})
}

func (a *API) startGuestSession() http.HandlerFunc {
	return a.limited(func(w http.ResponseWriter, r *http.Request) {
		var b linkBody
		if err := a.decode(w, r, &b); err != nil {
			a.writeProblem(w, r, err)
			return
		}
		gs, err := a.svc.StartGuestSession(r.Context(), anonymous(r), b.Token)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		a.setGuestCookie(w, gs)
		writeJSON(w, http.StatusOK, gs)
	})
}

func (a *API) endGuestSession() http.HandlerFunc {
	return a.guest(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		if err := a.svc.EndGuestSession(r.Context(), actor); err != nil {
			return nil, err
		}
		a.clearGuestCookie(w)
		return nil, nil
	})
}

func (a *API) guestVisit() http.HandlerFunc {
	return a.guest(func(_ http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		return a.svc.GuestView(r.Context(), actor)
	})
}

// guest runs fn for an authenticated guest session.
func (a *API) guest(fn func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.guestActor(r)
		if err != nil {
			a.writeProblem(w, r, err)
			return
		}
		a.respond(w, r, fn, actor)
	}
}

// guestActor authenticates a guest-only route: staff and patients get 403.
func (a *API) guestActor(r *http.Request) (visits.Actor, error) {
	c, err := r.Cookie(GuestCookie)
	if err != nil {
		if _, aerr := a.Authenticate(r); aerr != nil {
			return visits.Actor{}, aerr
		}
		return visits.Actor{}, visits.ErrForbidden
	}
	return a.svc.AuthenticateGuest(r.Context(), c.Value, clientIP(r), r.UserAgent())
}

func (a *API) setGuestCookie(w http.ResponseWriter, gs visits.GuestSession) {
	http.SetCookie(w, &http.Cookie{Name: GuestCookie, Value: gs.Token, Path: "/", Expires: gs.ExpiresAt,
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (a *API) clearGuestCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: GuestCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}
