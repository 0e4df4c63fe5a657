package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/televisit/televisit/internal/metrics"
)

// buildMetrics registers every component's collectors and hooks.
func buildMetrics(a *app, log *slog.Logger) (*metrics.Metrics, error) {
	m := metrics.New(log)
	errs := []error{
		m.WatchSFU(a.media),
		m.WatchSignaling(a.sig),
		m.WatchCluster(a.node),
		m.WatchDatabase(a.svc, metrics.OpsConfig{}),
	}
	if a.rec != nil {
		errs = append(errs, m.WatchRecording(a.rec))
	}
	a.media.OnConnected(m.ObserveJoin)
	a.svc.OnAdmitted(m.ObserveWait)
	return m, errors.Join(errs...)
}

// serveMetrics serves GET /metrics on its own plain-HTTP listener at addr
// (server.metrics_addr), never on the public one, until ctx ends. An
// empty addr serves nothing.
func serveMetrics(ctx context.Context, addr string, a *app, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	m, err := buildMetrics(a, log)
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("metrics serving", "addr", ln.Addr().String())
	return nil
}
