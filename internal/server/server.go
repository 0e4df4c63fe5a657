package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Server is an http.Server with its configuration.
type Server struct {
	*http.Server
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a server whose every request passes the
// middleware (see Wrap) before handler.
func New(cfg Config, handler http.Handler, log *slog.Logger) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if handler == nil || log == nil {
		return nil, errors.New("server: handler and logger are required")
	}
	hs := &http.Server{
		Addr:              cfg.Addr,
		Handler:           Wrap(cfg, handler, log),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	if cfg.TLS() {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &Server{Server: hs, cfg: cfg, log: log}, nil
}

// Wrap puts the middleware around h, outermost first: security headers,
// client address, request log, deadlines, panic recovery. The request log
// sits next to the router so that it sees r.Pattern.
func Wrap(cfg Config, h http.Handler, log *slog.Logger) http.Handler {
	h = recoverPanics(h, log)
	h = deadlines(h, cfg.BodyTimeout, cfg.WriteTimeout)
	h = logRequests(h, log)
	h = clientAddr(h, cfg.TrustedProxies)
	return securityHeaders(h, cfg.TLS())
}

// Listen opens the listening socket, so that callers learn the address
// (Addr may use port 0) before serving.
func (s *Server) Listen(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully within
// ShutdownTimeout. It returns nil after a clean shutdown. Hijacked
// connections (WebSockets) are not waited for: their owner closes them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLS() {
			errc <- s.Server.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		} else {
			errc <- s.Server.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.Server.Shutdown(sctx); err != nil {
		s.Server.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
