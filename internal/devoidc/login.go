package devoidc

import (
	_ "embed"
	"html/template"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

//go:embed login.html
var loginHTML string

var loginTemplate = template.Must(template.New("login").Parse(loginHTML))

const maxLoginForm = 16 << 10

// loginView is what the login page shows.
type loginView struct {
	Action   string // form target
	ID       string // auth request id; empty hides the form
	Username string
	Error    string
}

// loginPage shows the username and password form for auth request ?id=.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if !p.store.pendingRequest(id) {
		p.render(w, http.StatusBadRequest, loginView{Error: expiredMessage})
		return
	}
	p.render(w, http.StatusOK, loginView{Action: p.path + "/login", ID: id})
}

const expiredMessage = "This sign-in request is unknown or has expired. Go back to the application and sign in again."

// loginSubmit checks the password; on success it sends the browser to the
// op callback, which redirects to the client with a code.
func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		p.render(w, http.StatusBadRequest, loginView{Error: "The form could not be read."})
		return
	}
	id, username := r.PostForm.Get("id"), r.PostForm.Get("username")
	if !p.store.pendingRequest(id) {
		p.render(w, http.StatusBadRequest, loginView{Error: expiredMessage})
		return
	}
	u, ok := p.store.checkPassword(username, r.PostForm.Get("password"))
	if !ok {
		p.log.Info("dev provider: wrong username or password")
		p.render(w, http.StatusUnauthorized, loginView{
			Action: p.path + "/login", ID: id, Username: username,
			Error: "Wrong username or password.",
		})
		return
	}
	if err := p.store.completeLogin(id, u); err != nil {
		p.render(w, http.StatusBadRequest, loginView{Error: expiredMessage})
		return
	}
	p.log.Info("dev provider: signed in", "subject", u.Subject)
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(ctx, id), http.StatusSeeOther)
}

// loggedOut is where end_session sends the browser without a redirect.
func (p *Provider) loggedOut(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, loginView{Error: "You are signed out."})
}

func (p *Provider) render(w http.ResponseWriter, status int, v loginView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := loginTemplate.Execute(w, v); err != nil {
		p.log.Warn("dev provider: render login page", "err", err)
	}
}
