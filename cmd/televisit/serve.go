package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/internal/server"
)

func runServe(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("serve", "serve [--config FILE] [--migrate]",
		"Serves the API, staff sign-in, WebSockets and web pages, and runs the event\n"+
			"hub and the notification worker. Stops gracefully on SIGINT or SIGTERM.\n\n"+configHelp(), io.err)
	file := fs.String("config", "", "YAML configuration `file` (see internal/config/example.yaml)")
	doMigrate := fs.Bool("migrate", false, "apply database migrations before serving (or database.migrate: true)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, io, config.ForServe)
	if err != nil {
		return err
	}
	log := newLogger(io.err, cfg.Log.Level, true)
	ctx, stop := signalContext(ctx, log)
	defer stop()
	keys, err := sealbox.ParseKeyring(cfg.Keys.PHI.Value())
	if err != nil {
		return fmt.Errorf("keys.phi: %w", err)
	}
	pool, err := openPool(ctx, cfg.Database.URL.Value())
	if err != nil {
		return err
	}
	defer pool.Close()
	if *doMigrate || cfg.Database.Migrate {
		if err := migrate(ctx, pool, log); err != nil {
			return err
		}
	}
	snd, err := senders(cfg.Notify, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	a, err := buildApp(ctx, appDeps{cfg: cfg, pool: pool, keys: keys, senders: snd, log: log}, mux)
	if err != nil {
		return err
	}
	srv, err := server.New(serverConfig(cfg.Server), mux, log)
	if err != nil {
		return err
	}
	if err := serveMetrics(ctx, cfg.Server.MetricsAddr, a, log.With("component", "metrics")); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	ln, err := srv.Listen(ctx)
	if err != nil {
		return err
	}
	log.Info("televisit serving", "addr", ln.Addr().String(), "public_url", cfg.Server.PublicURL,
		"tls", cfg.Server.TLS(), "version", version)
	return serveUntilDone(ctx, a, srv, ln, cfg.Cluster.WithDefaults().DrainTimeout)
}

// signalContext ends on SIGINT or SIGTERM. After the first signal the
// default handling returns, so a second one stops the process at once.
func signalContext(ctx context.Context, log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
		log.Info("shutting down")
	}()
	return ctx, stop
}

// serveUntilDone serves and runs the background work until ctx ends (the
// first SIGTERM or SIGINT), drains the node for up to drainTimeout, then
// shuts everything down and waits for it. A second signal stops the
// process at once (see signalContext).
func serveUntilDone(ctx context.Context, a *app, srv *server.Server, ln net.Listener, drainTimeout time.Duration) error {
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	wait := a.runBackground(run)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(run, ln) }() // returns after run ends, or when serving fails
	select {
	case err := <-served:
		cancel()
		return errors.Join(err, wait())
	case <-ctx.Done():
	}
	a.drain(run, drainTimeout)
	cancel()
	return errors.Join(<-served, wait())
}

func serverConfig(s config.Server) server.Config {
	var proxies []netip.Prefix
	for _, p := range s.TrustedProxies {
		if pf, err := config.ParsePrefix(p); err == nil { // validated by the config
			proxies = append(proxies, pf)
		}
	}
	return server.Config{Addr: s.Addr, TLSCertFile: s.TLSCertFile, TLSKeyFile: s.TLSKeyFile, TrustedProxies: proxies}
}
