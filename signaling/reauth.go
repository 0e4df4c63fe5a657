package signaling

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"

	"github.com/televisit/televisit/visits"
)

// credentials is what the authenticator may look at in the upgrade request
// (headers, cookies, peer address, TLS state), kept to re-check the session
// later without keeping the request or its context.
type credentials struct {
	method, host, remoteAddr, requestURI string
	proto                                string
	protoMajor, protoMinor               int
	url                                  url.URL
	header                               http.Header
	tls                                  *tls.ConnectionState
}

func credentialsOf(r *http.Request) credentials {
	c := credentials{method: r.Method, host: r.Host, remoteAddr: r.RemoteAddr, requestURI: r.RequestURI,
		proto: r.Proto, protoMajor: r.ProtoMajor, protoMinor: r.ProtoMinor, header: r.Header.Clone(), tls: r.TLS}
	if r.URL != nil {
		c.url = *r.URL
	}
	return c
}

// request rebuilds the upgrade request on ctx.
func (c credentials) request(ctx context.Context) *http.Request {
	u := c.url
	r := &http.Request{Method: c.method, URL: &u, Proto: c.proto, ProtoMajor: c.protoMajor,
		ProtoMinor: c.protoMinor, Header: c.header.Clone(), Body: http.NoBody, Host: c.host,
		RemoteAddr: c.remoteAddr, RequestURI: c.requestURI, TLS: c.tls}
	return r.WithContext(ctx)
}

// onReauth re-checks the sign-in behind the session and refreshes what the
// session watches (wait times move; a lost event is made good).
func (s *session) onReauth(ctx context.Context) error {
	if err := s.reauthenticate(ctx); err != nil {
		return err
	}
	if s.greeted {
		s.refresh.request()
	}
	if s.greeted && s.actor.Kind == visits.ActorPatient {
		return s.catchUpPatientMessages(ctx)
	}
	return nil
}

// reauthenticate asks the authenticator again. A sign-in that has ended,
// or now names someone else, ends the session; a failure to check (say,
// the database is away) is logged and tried again next time.
func (s *session) reauthenticate(ctx context.Context) error {
	cctx, cancel := s.callCtx(withRecheck(ctx))
	defer cancel()
	a, err := s.srv.auth.Authenticate(s.creds.request(cctx))
	switch {
	case err == nil:
	case isEnded(err):
		return errSessionEnded
	case errors.Is(err, visits.ErrForbidden):
		return errForbiddenConn
	default:
		if ctx.Err() == nil {
			s.log.Warn("session re-check failed; will retry", "err", err)
		}
		return nil
	}
	if a.Kind != s.actor.Kind || a.ID != s.actor.ID || a.VisitID != s.actor.VisitID {
		return errSessionEnded
	}
	s.actor = a // roles and clinics may have changed
	return nil
}
