package staffauth

import (
	"net/http"
	"net/url"

	"github.com/televisit/televisit/visits"
)

// handleLogout ends the server-side session, clears the cookie and sends
// the browser (303) to the provider's end_session endpoint, or to "/" when
// the provider has none. The session cookie is SameSite=Strict, so a
// cross-site form cannot log anyone out.
func (a *Auth) handleLogout(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if c, err := r.Cookie(a.cfg.CookieName); err == nil && validToken(c.Value) {
		if err := a.logout(r, c.Value); err != nil {
			a.log.Error("staff logout", "err", err)
			errorPage(w, http.StatusInternalServerError, msgFailed)
			return
		}
	}
	a.clearSessionCookie(w)
	http.Redirect(w, r, a.afterLogoutURL(), http.StatusSeeOther)
}

// logout ends the open session of token, if any, and audits it.
func (a *Auth) logout(r *http.Request, token string) error {
	s, err := a.loadSession(r.Context(), hashToken(token))
	if err != nil {
		if err == visits.ErrUnauthorized {
			return nil
		}
		return err
	}
	if s.ended != nil {
		return nil
	}
	actor := visits.Actor{Kind: visits.ActorStaff, ID: s.staffID.String(), StaffID: s.staffID,
		Roles: rolesFrom(s.roles), ClinicIDs: s.clinicIDs, ClientAddr: clientAddr(r), UserAgent: r.UserAgent()}
	if err := a.endSession(r.Context(), s.id, actor, "logout"); err != visits.ErrSessionEnded {
		return err
	}
	return nil
}

func (a *Auth) afterLogoutURL() string {
	if a.endSessionURL == "" {
		return "/"
	}
	u, err := url.Parse(a.endSessionURL)
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Set("client_id", a.cfg.ClientID)
	if a.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
