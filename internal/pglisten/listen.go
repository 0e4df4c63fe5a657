// Package pglisten holds a PostgreSQL LISTEN connection for as long as a
// context lives, reconnecting with backoff when the database goes away.
// The event hub, the notification worker and the cluster node each listen
// on their own channel through it.
package pglisten

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config says what to listen to and what to do.
type Config struct {
	// Channel is the NOTIFY channel (a plain identifier, never user input).
	Channel string
	// MinBackoff and MaxBackoff bound the wait before a reconnect; it
	// doubles after each failure and starts again at MinBackoff once a
	// LISTEN succeeded. Defaults 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// OnListen runs each time the LISTEN is in place: first is true the
	// first time. Notifications sent while the connection was down are
	// lost, so a caller catches up here.
	OnListen func(ctx context.Context, first bool)
	// OnNotify runs for each notification's payload, on Run's goroutine.
	OnNotify func(ctx context.Context, payload string)
}

// Run listens until ctx ends. The connection is taken out of the pool for
// good (closed, never returned), so no pooled connection stays subscribed.
func Run(ctx context.Context, pool *pgxpool.Pool, cfg Config, log *slog.Logger) {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	backoff := cfg.MinBackoff
	for first := true; ; first = false {
		listened, err := listenOnce(ctx, pool, cfg, first)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = cfg.MinBackoff
		}
		log.LogAttrs(ctx, slog.LevelWarn, "listener lost its connection; reconnecting",
			slog.String("channel", cfg.Channel), slog.String("err", err.Error()), slog.Duration("in", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, cfg.MaxBackoff)
	}
}

// listenOnce LISTENs on one connection until it or ctx fails; listened
// reports whether the LISTEN was in place.
func listenOnce(ctx context.Context, pool *pgxpool.Pool, cfg Config, first bool) (listened bool, err error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("pglisten: acquire: %w", err)
	}
	conn := c.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+cfg.Channel); err != nil {
		return false, fmt.Errorf("pglisten: listen: %w", err)
	}
	if cfg.OnListen != nil {
		cfg.OnListen(ctx, first)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("pglisten: wait: %w", err)
		}
		if cfg.OnNotify != nil {
			cfg.OnNotify(ctx, n.Payload)
		}
	}
}
