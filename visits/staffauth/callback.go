package staffauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/televisit/televisit/visits"
)

// pendingLogin is an oidc_logins row.
type pendingLogin struct {
	nonce, verifier, returnTo string
	expires                   time.Time
}

// signInError is a refused or failed callback: what the browser sees
// (status and a generic message) and what the audit trail records.
type signInError struct {
	status  int
	msg     string
	outcome visits.Outcome
	reason  string
	err     error // for the log; never shown
	id      *identity
}

func (e *signInError) Error() string { return e.reason + ": " + fmt.Sprint(e.err) }

func denied(reason string, err error) *signInError {
	return &signInError{status: http.StatusBadRequest, msg: msgFailed, outcome: visits.OutcomeDenied, reason: reason, err: err}
}

// handleCallback finishes a sign-in: it sets the session cookie on this
// response and redirects (303) to the page the sign-in started from.
func (a *Auth) handleCallback(w http.ResponseWriter, r *http.Request) {
	if !a.limiter.allow(clientAddr(r)) {
		errorPage(w, http.StatusTooManyRequests, msgTooMany)
		return
	}
	noStore(w)
	token, returnTo, serr := a.completeSignIn(r)
	if serr != nil {
		a.refuseSignIn(r, serr)
		errorPage(w, serr.status, serr.msg)
		return
	}
	a.setSessionCookie(w, token)
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

func (a *Auth) completeSignIn(r *http.Request) (token, returnTo string, serr *signInError) {
	ctx, q := r.Context(), r.URL.Query()
	login, serr := a.consumeLogin(ctx, r)
	if serr != nil {
		return "", "", serr
	}
	if code := q.Get("error"); code != "" {
		return "", "", &signInError{status: http.StatusBadGateway, msg: msgFailed, outcome: visits.OutcomeFailure,
			reason: "provider_error", err: fmt.Errorf("provider answered %q", oauthErrorCode(code))}
	}
	id, serr := a.exchange(ctx, q.Get("code"), login)
	if serr != nil {
		return "", "", serr
	}
	if a.cfg.RequireMFA && !mfaSatisfied(id.amr, a.cfg.MFAMethods) {
		return "", "", &signInError{status: http.StatusForbidden, msg: msgMFA, outcome: visits.OutcomeDenied,
			reason: "mfa_required", err: visits.ErrMFARequired, id: id}
	}
	token, err := a.openSession(ctx, r, id)
	if err != nil {
		return "", "", &signInError{status: http.StatusInternalServerError, msg: msgFailed,
			outcome: visits.OutcomeFailure, reason: "internal", err: err, id: id}
	}
	return token, login.returnTo, nil
}

// consumeLogin deletes and returns the login the state names, if this
// browser started it and it has not expired: a state works once.
func (a *Auth) consumeLogin(ctx context.Context, r *http.Request) (pendingLogin, *signInError) {
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(a.cfg.CookieName + loginCookieSfx)
	if state == "" || len(state) > 512 || err != nil || !validToken(c.Value) {
		return pendingLogin{}, denied("bad_state", errors.New("missing state or login cookie"))
	}
	var l pendingLogin
	err = a.pool.QueryRow(ctx, `DELETE FROM oidc_logins WHERE state_hash = $1
		RETURNING nonce, pkce_verifier, return_to, expires_at`, loginKey(c.Value, state)).
		Scan(&l.nonce, &l.verifier, &l.returnTo, &l.expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, denied("bad_state", errors.New("unknown or used state"))
	}
	if err != nil {
		return l, &signInError{status: http.StatusInternalServerError, msg: msgFailed,
			outcome: visits.OutcomeFailure, reason: "internal", err: fmt.Errorf("consume login: %w", err)}
	}
	if a.now().After(l.expires) {
		return l, denied("expired_state", errors.New("login expired"))
	}
	return l, nil
}

// exchange trades the code (with the PKCE verifier) for tokens and
// verifies the ID token, its nonce and its authorized party.
func (a *Auth) exchange(ctx context.Context, code string, l pendingLogin) (*identity, *signInError) {
	if code == "" || len(code) > 4096 {
		return nil, denied("bad_code", errors.New("missing code"))
	}
	ctx = a.providerContext(ctx)
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		return nil, &signInError{status: http.StatusBadGateway, msg: msgFailed, outcome: visits.OutcomeFailure,
			reason: "code_exchange", err: exchangeError(err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.idVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, denied("invalid_id_token", fmt.Errorf("verify ID token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.nonce)) != 1 {
		return nil, denied("invalid_id_token", errors.New("nonce mismatch"))
	}
	id, err := a.identityFromIDToken(idt)
	if err != nil {
		return nil, denied("invalid_id_token", err)
	}
	if len(idt.Audience) > 1 && id.azp != a.cfg.ClientID {
		return nil, denied("invalid_id_token", errors.New("azp is not this client"))
	}
	return id, nil
}

// exchangeError keeps only the OAuth error code of a failed exchange.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("exchange code: provider answered %d %q", status, oauthErrorCode(re.ErrorCode))
	}
	return fmt.Errorf("exchange code: %w", err)
}

// oauthErrorCode passes an OAuth error code through only when it looks like
// one (RFC 6749 error codes are short and plain), so nothing the query
// carried reaches the log or the trail.
func oauthErrorCode(s string) string {
	if len(s) > 64 {
		return "other"
	}
	for _, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z')) {
			return "other"
		}
	}
	return s
}

// refuseSignIn logs and audits a refused or failed callback.
func (a *Auth) refuseSignIn(r *http.Request, e *signInError) {
	a.log.Warn("staff sign-in refused", "reason", e.reason, "err", e.err)
	actor := visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous", ClientAddr: clientAddr(r), UserAgent: r.UserAgent()}
	detail := map[string]any{"reason": e.reason}
	if e.id != nil {
		detail["subject"], detail["amr"] = e.id.subject, slices.Clone(e.id.amr)
		if staffID, ok := a.knownStaff(r.Context(), e.id); ok {
			actor.Kind, actor.ID, actor.StaffID = visits.ActorStaff, staffID.String(), staffID
		}
	}
	ev := visits.AuditEvent{Action: "staff.sign_in", ResourceType: "staff_session", Outcome: e.outcome, Detail: detail}
	if err := visits.AuditAlone(r.Context(), a.pool, actor, ev); err != nil {
		a.log.Error("staff sign-in: audit refusal", "err", err)
	}
}
