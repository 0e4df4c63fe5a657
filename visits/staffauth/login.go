package staffauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	loginTTL       = 10 * time.Minute
	maxReturnTo    = 1024
	loginCookieSfx = "_login"
)

// handleLogin starts a sign-in: it stores state, nonce and PKCE verifier
// and sends the browser to the provider.
func (a *Auth) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !a.limiter.allow(clientAddr(r)) {
		errorPage(w, http.StatusTooManyRequests, msgTooMany)
		return
	}
	binding := a.loginBinding(w, r)
	state, nonce, verifier := newToken(), newToken(), oauth2.GenerateVerifier()
	returnTo := sanitizeReturnTo(r.URL.Query().Get("return_to"))
	if err := a.storeLogin(r.Context(), loginKey(binding, state), nonce, verifier, returnTo); err != nil {
		a.log.Error("staff sign-in: store login state", "err", err)
		errorPage(w, http.StatusInternalServerError, msgFailed)
		return
	}
	noStore(w)
	target := a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// loginBinding returns the browser's login cookie value, creating it when
// absent. It is reused across tabs so parallel sign-ins all work.
func (a *Auth) loginBinding(w http.ResponseWriter, r *http.Request) string {
	binding := ""
	if c, err := r.Cookie(a.cfg.CookieName + loginCookieSfx); err == nil && validToken(c.Value) {
		binding = c.Value
	} else {
		binding = newToken()
	}
	// Lax, not Strict: the cookie must come back on the top-level redirect
	// from the provider to the callback.
	http.SetCookie(w, &http.Cookie{Name: a.cfg.CookieName + loginCookieSfx, Value: binding, Path: a.loginCookiePath,
		MaxAge: int(loginTTL / time.Second), HttpOnly: true, Secure: a.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
	return binding
}

func (a *Auth) storeLogin(ctx context.Context, key []byte, nonce, verifier, returnTo string) error {
	now := a.now()
	if _, err := a.pool.Exec(ctx, `DELETE FROM oidc_logins WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("purge expired logins: %w", err)
	}
	_, err := a.pool.Exec(ctx, `INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, return_to, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, key, nonce, verifier, returnTo, now.Add(loginTTL))
	if err != nil {
		return fmt.Errorf("insert login: %w", err)
	}
	return nil
}

// loginCookiePath is the directory of the redirect URL's path as the
// browser sees it ("/auth/" for https://host/auth/callback), so the login
// cookie also reaches a callback behind a path prefix.
func loginCookiePath(redirectURL string) string {
	u, err := url.Parse(redirectURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return path.Dir(u.Path) + "/"
}

// sanitizeReturnTo keeps a relative path on this site ("/visits?day=1") and
// turns anything else (absolute or scheme-relative URLs, backslashes,
// spaces, control or non-ASCII characters) into "/".
func sanitizeReturnTo(s string) string {
	if s == "" || len(s) > maxReturnTo || s[0] != '/' || strings.HasPrefix(s, "//") {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return s
}
