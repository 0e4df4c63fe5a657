package visits

import (
	"context"
	"log/slog"
	"time"
)

// runPolling calls once until ctx ends: again at once after a round that
// claimed work, else after poll. A round's error is logged (what names the
// round) and retried after poll; it never ends the loop.
func runPolling(ctx context.Context, poll time.Duration, log *slog.Logger, what string,
	once func(context.Context) (int, error)) error {
	for {
		n, err := once(ctx)
		if err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, what+" failed", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}
