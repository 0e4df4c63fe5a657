package staffauth

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"
)

// Auth signs staff in and authenticates their requests.
type Auth struct {
	cfg           Config
	pool          *pgxpool.Pool
	log           *slog.Logger
	http          *http.Client // for the provider: discovery, JWKS, token exchange
	oauth         oauth2.Config
	idVerifier    *oidc.IDTokenVerifier // ID tokens: audience ClientID
	apiVerifier   *oidc.IDTokenVerifier // bearer access tokens: audience APIAudience
	endSessionURL string                // discovered end_session_endpoint, or ""
	limiter       *ipLimiter
	// loginCookiePath scopes the login-binding cookie to the callback.
	loginCookiePath string
	cache           *staffCache
	now             func() time.Time // injectable for tests
}

const providerTimeout = 15 * time.Second

// New checks cfg and discovers the provider at cfg.Issuer. ctx bounds the
// discovery only.
func New(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) (*Auth, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Auth{cfg: cfg, pool: pool, log: log, now: time.Now,
		http:            &http.Client{Timeout: providerTimeout},
		limiter:         newIPLimiter(cfg.LoginPerMinute, cfg.LoginBurst),
		cache:           newStaffCache(),
		loginCookiePath: loginCookiePath(cfg.RedirectURL),
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.http), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("staffauth: discover provider: %w", err)
	}
	var disc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&disc); err != nil {
		return nil, fmt.Errorf("staffauth: read discovery document: %w", err)
	}
	a.endSessionURL = disc.EndSession
	a.oauth = oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: cfg.RedirectURL, Endpoint: p.Endpoint(), Scopes: cfg.Scopes}
	clock := func() time.Time { return a.now() }
	a.idVerifier = p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: clock})
	a.apiVerifier = p.Verifier(&oidc.Config{ClientID: cfg.APIAudience, Now: clock})
	return a, nil
}

// Register adds the sign-in routes to mux: GET /auth/login?return_to=/path,
// GET /auth/callback and POST /auth/logout.
func (a *Auth) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /auth/login", a.handleLogin)
	mux.HandleFunc("GET /auth/callback", a.handleCallback)
	mux.HandleFunc("POST /auth/logout", a.handleLogout)
}

// providerContext carries the provider HTTP client for oauth2 and go-oidc.
func (a *Auth) providerContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, a.http)
}

// clientAddr is the host part of r.RemoteAddr.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type passiveKey struct{}

// WithoutActivity marks ctx as a check that is not user activity, such as
// the periodic re-authentication of a live WebSocket: Authenticate with a
// request carrying it still ends expired sessions but does not push the
// idle timeout back.
func WithoutActivity(ctx context.Context) context.Context {
	return context.WithValue(ctx, passiveKey{}, true)
}

func passive(ctx context.Context) bool {
	v, _ := ctx.Value(passiveKey{}).(bool)
	return v
}
