package devoidc

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Provider is a running development OpenID provider.
type Provider struct {
	cfg   Config
	log   *slog.Logger
	store *storage
	op    *op.Provider
	path  string // the issuer's path without a trailing slash, "" at the root
}

// New checks cfg, generates an RSA 2048 signing key and builds the provider.
// It copies cfg: later changes to the caller's slices have no effect.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	cfg = cloneConfig(cfg)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Issuer) // validated above
	p := &Provider{cfg: cfg, log: log, path: strings.TrimSuffix(u.Path, "/")}
	p.store = newStorage(&p.cfg, key, p.path+"/login", cfg.Issuer+"/logged-out")
	p.op, err = op.NewProvider(p.opConfig(), p.store, op.StaticIssuer(cfg.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("devoidc: create provider: %w", err)
	}
	log.Info("development OpenID provider ready", "issuer", cfg.Issuer,
		"users", len(cfg.Users), "clients", len(cfg.Clients))
	return p, nil
}

func (p *Provider) opConfig() *op.Config {
	c := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		DefaultLogoutRedirectURI: p.cfg.Issuer + "/logged-out",
		SupportedClaims:          append(append([]string{}, op.DefaultSupportedClaims...), p.cfg.RolesClaim, p.cfg.ClinicsClaim),
	}
	rand.Read(c.CryptoKey[:]) // never fails (crypto/rand, Go 1.24+)
	return c
}

// Issuer is the issuer URL, without a trailing slash.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Handler serves the provider: discovery, JWKS, authorize, token,
// userinfo, introspection, revocation, end_session and the login page. It
// expects the full request path, prefix NOT stripped: for the issuer
// http://host/oidc mount it with mux.Handle("/oidc/", p.Handler()); for an
// issuer without a path, at "/".
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.loginSubmit)
	mux.HandleFunc("GET /logged-out", p.loggedOut)
	mux.Handle("/", p.op)
	if p.path == "" {
		return mux
	}
	return http.StripPrefix(p.path, mux)
}

func cloneConfig(c Config) Config {
	c.Users = append([]User(nil), c.Users...)
	for i := range c.Users {
		u := &c.Users[i]
		u.Roles, u.Clinics = append([]string(nil), u.Roles...), append([]string(nil), u.Clinics...)
	}
	c.Clients = append([]Client(nil), c.Clients...)
	for i := range c.Clients {
		cl := &c.Clients[i]
		cl.RedirectURIs = append([]string(nil), cl.RedirectURIs...)
		cl.PostLogoutRedirectURIs = append([]string(nil), cl.PostLogoutRedirectURIs...)
		cl.Roles, cl.Clinics = append([]string(nil), cl.Roles...), append([]string(nil), cl.Clinics...)
		cl.Audience = append([]string(nil), cl.Audience...)
	}
	return c
}
