// Package devoidctest runs the development OpenID provider in-process over
// real HTTP for tests, and drives its login page with plain net/http the
// way a browser would.
package devoidctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/televisit/televisit/internal/devoidc"
)

// Server is a devoidc provider served by an httptest server under /oidc.
type Server struct {
	*httptest.Server
	Provider *devoidc.Provider
	Issuer   string         // Server.URL + "/oidc"
	Config   devoidc.Config // what the provider was built from, secrets included
}

// Start serves the provider that cfg builds for the issuer it is given,
// until the test ends.
func Start(t testing.TB, cfg func(issuer string) devoidc.Config) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String() + "/oidc"
	c := cfg(issuer)
	p, err := devoidc.New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		srv.Close()
		t.Fatalf("devoidctest: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", p.Handler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &Server{Server: srv, Provider: p, Issuer: issuer, Config: c}
}

// StartDemo serves devoidc.DemoConfig with the given client redirect URL.
func StartDemo(t testing.TB, redirectURL string) *Server {
	return Start(t, func(issuer string) devoidc.Config { return devoidc.DemoConfig(issuer, redirectURL) })
}

// Client returns the configured client with id, or fails the test.
func (s *Server) Client(t testing.TB, id string) devoidc.Client {
	t.Helper()
	for _, c := range s.Config.Clients {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("devoidctest: no client %q", id)
	return devoidc.Client{}
}

var (
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	idRE     = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]+)"`)
)

// ErrNoLoginForm means the page reached from the start URL had no login form.
var ErrNoLoginForm = errors.New("devoidctest: no login form on the page")

// Login GETs start with c (an application's login URL or the provider's
// authorization URL), following redirects to the login page, fills in the
// form and POSTs it. It returns the response to the POST after c's own
// redirect policy; the caller closes its body.
func Login(ctx context.Context, c *http.Client, start, username, password string) (*http.Response, error) {
	page, err := get(ctx, c, start)
	if err != nil {
		return nil, err
	}
	action, id, err := parseForm(page.body)
	if err != nil {
		return nil, err
	}
	target, err := page.url.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("devoidctest: form action: %w", err)
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

type page struct {
	url  *url.URL
	body string
}

func get(ctx context.Context, c *http.Client, u string) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return page{}, fmt.Errorf("devoidctest: open login page: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return page{}, fmt.Errorf("devoidctest: read login page: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return page{}, fmt.Errorf("devoidctest: login page: status %d: %w", resp.StatusCode, ErrNoLoginForm)
	}
	return page{url: resp.Request.URL, body: string(b)}, nil
}

func parseForm(body string) (action, id string, err error) {
	a, i := actionRE.FindStringSubmatch(body), idRE.FindStringSubmatch(body)
	if a == nil || i == nil {
		return "", "", ErrNoLoginForm
	}
	return a[1], i[1], nil
}
