package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// listen keeps a LISTEN connection open for as long as ctx lives and turns
// every notification into a non-blocking wake-up. When the connection
// breaks it reconnects with backoff; meanwhile Run still polls.
func (w *Worker) listen(ctx context.Context, wake chan<- struct{}) {
	delay := time.Second
	for {
		listened, err := w.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = time.Second
		}
		w.log.LogAttrs(ctx, slog.LevelWarn, "notification listener lost its connection; polling until it is back",
			slog.String("err", err.Error()), slog.Duration("retry_in", delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, maxOutageDelay)
	}
}

// listenOnce takes a connection out of the pool for good (it is closed,
// never returned, so no pooled connection stays subscribed), LISTENs, and
// waits for notifications until the connection or ctx fails.
func (w *Worker) listenOnce(ctx context.Context, wake chan<- struct{}) (listened bool, err error) {
	pc, err := w.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("listen: acquire: %w", err)
	}
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	notify(wake) // catch up on whatever was enqueued while we were away
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, fmt.Errorf("listen: wait: %w", err)
		}
		notify(wake)
	}
}

func notify(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
