package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/internal/pgcluster"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/internal/server"
	"github.com/televisit/televisit/visits/notify"
)

// devEnv is a running `televisit dev`: everything it started, and what the
// banner prints.
type devEnv struct {
	opts    devOptions
	log     *slog.Logger
	base    string // http://127.0.0.1:8080
	oidc    devoidc.Config
	demo    demoResult
	serving chan error // the HTTP server's result
	closers []func(context.Context) error
}

// startDev starts PostgreSQL, the HTTP server with the development OpenID
// provider, and every component, then seeds the demo clinic. On error it
// stops what it started. It does not block; wait does.
func startDev(ctx context.Context, opts devOptions, io stdio, log *slog.Logger) (env *devEnv, err error) {
	env = &devEnv{opts: opts, log: log}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	keys, spec, pool, err := env.startDatabase(ctx)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	srv, ln, err := env.listen(ctx, mux)
	if err != nil {
		return nil, err
	}
	if err := env.mountOIDC(mux); err != nil {
		return nil, err
	}
	env.serve(ctx, srv, ln) // the app's staff sign-in reads the provider's discovery document
	cfg := env.config(pool, spec)
	if cfg.EHR, err = loadEHRSection(opts.ehrConfig); err != nil {
		return nil, err
	}
	if cfg.Recording, err = env.startMinIO(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Validate(config.ForServe); err != nil {
		return nil, err
	}
	consoles := map[notify.Channel]notify.Sender{
		notify.ChannelEmail: notify.ConsoleSender{W: io.out},
		notify.ChannelSMS:   notify.ConsoleSender{W: io.out},
	}
	a, err := buildApp(ctx, appDeps{cfg: cfg, pool: pool, keys: keys, senders: consoles, log: log}, mux)
	if err != nil {
		return nil, err
	}
	env.startBackground(ctx, a)
	env.demo, err = seedDemo(ctx, a.svc, pool, env.oidc, log)
	return env, err
}

// startDatabase prepares the data directory and key, starts PostgreSQL and
// migrates the "televisit" database.
func (e *devEnv) startDatabase(ctx context.Context) (*sealbox.Keyring, string, *pgxpool.Pool, error) {
	dir := e.opts.dataDir
	if e.opts.fresh {
		if err := os.Remove(filepath.Join(dir, "phi.key")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, "", nil, fmt.Errorf("--fresh: %w", err)
		}
	}
	// 0711: as root, the postgres user must pass through to DIR/pg.
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, "", nil, fmt.Errorf("create data directory: %w", err)
	}
	keys, spec, err := devKeyring(filepath.Join(dir, "phi.key"))
	if err != nil {
		return nil, "", nil, err
	}
	if err := pgcluster.EnsureInstalled(ctx, e.log); err != nil {
		return nil, "", nil, err
	}
	e.log.Info("starting PostgreSQL", "dir", filepath.Join(dir, "pg"))
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dir, "pg"), Fresh: e.opts.fresh}, e.log)
	if err != nil {
		return nil, "", nil, err
	}
	e.closers = append(e.closers, cluster.Stop)
	if err := cluster.CreateDatabase(ctx, "televisit"); err != nil {
		return nil, "", nil, err
	}
	pool, err := openPool(ctx, cluster.URL("televisit"))
	if err != nil {
		return nil, "", nil, err
	}
	e.closers = append(e.closers, func(context.Context) error { pool.Close(); return nil })
	return keys, spec, pool, migrate(ctx, pool, e.log)
}

// listen binds the address first, so that port 0 works and the URLs are
// known before anything is configured with them.
func (e *devEnv) listen(ctx context.Context, mux *http.ServeMux) (*server.Server, net.Listener, error) {
	srv, err := server.New(server.Config{Addr: e.opts.addr}, mux, e.log)
	if err != nil {
		return nil, nil, err
	}
	ln, err := srv.Listen(ctx)
	if err != nil {
		return nil, nil, err
	}
	host, _, _ := net.SplitHostPort(e.opts.addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	e.base = "http://" + net.JoinHostPort(host, port)
	return srv, ln, nil
}

func (e *devEnv) mountOIDC(mux *http.ServeMux) error {
	e.oidc = devoidc.DemoConfig(e.base+"/oidc", e.base+"/auth/callback")
	p, err := devoidc.New(e.oidc, e.log.With("component", "devoidc"))
	if err != nil {
		return err
	}
	mux.Handle("/oidc/", p.Handler())
	return nil
}

// serve runs the HTTP server until ctx ends or close is called.
func (e *devEnv) serve(ctx context.Context, srv *server.Server, ln net.Listener) {
	sctx, cancel := context.WithCancel(ctx)
	e.serving = make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(sctx, ln)
		e.serving <- err
		done <- err
	}()
	e.closers = append(e.closers, func(context.Context) error { cancel(); return <-done })
}

func (e *devEnv) startBackground(ctx context.Context, a *app) {
	bctx, cancel := context.WithCancel(ctx)
	wait := a.runBackground(bctx)
	e.closers = append(e.closers, func(context.Context) error { cancel(); return wait() })
}

// config is the configuration `serve` would need for this setup.
func (e *devEnv) config(pool *pgxpool.Pool, keySpec string) config.Config {
	cfg := config.Defaults()
	cfg.Server.Addr = e.opts.addr
	cfg.Server.PublicURL = e.base
	cfg.Server.AllowedOrigins = []string{e.base}
	cfg.Database.URL = config.Secret(pool.Config().ConnString())
	cfg.Keys.PHI = config.Secret(keySpec)
	cfg.Auth = config.Auth{
		Issuer:                e.oidc.Issuer,
		ClientID:              devoidc.DemoWebClient,
		ClientSecret:          config.Secret(webClientSecret(e.oidc)),
		RedirectURL:           e.base + "/auth/callback",
		PostLogoutRedirectURL: e.base + "/",
		RequireMFA:            true,
		APIAudience:           devoidc.DemoWebClient,
	}
	cfg.Visits.LinkGrace = time.Hour
	// Browsers on this machine reach the SFU over loopback, on a free port.
	cfg.Media.UDPPort, cfg.Media.IncludeLoopback = 0, true
	return cfg
}

func webClientSecret(c devoidc.Config) string {
	for _, cl := range c.Clients {
		if cl.ID == devoidc.DemoWebClient {
			return cl.Secret
		}
	}
	return ""
}

// wait blocks until ctx ends or the server fails, then stops everything,
// PostgreSQL last.
func (e *devEnv) wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-e.serving:
	}
	return errors.Join(err, e.close())
}

// close stops what was started, in reverse order.
func (e *devEnv) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i](ctx))
	}
	e.closers = nil
	if err := errors.Join(errs...); err != nil {
		return err
	}
	e.log.Info("stopped; PostgreSQL is down")
	return nil
}
