package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxOutageDelay caps the pause between rounds while the database fails.
const maxOutageDelay = 30 * time.Second

// Run delivers messages until ctx ends, then returns nil. It polls every
// Poll, wakes at once on a NOTIFY from Enqueue, and goes again at once after
// a full batch. It takes one connection out of the pool for LISTEN (so it
// needs a session-mode connection, not a transaction-pooling PgBouncer) and
// closes it on return. When PostgreSQL is unreachable it logs, backs off (up
// to 30s between rounds) and keeps trying; it never returns early. On
// shutdown, rows it has leased but not yet sent are handed back.
func (w *Worker) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.listen(ctx, wake)
	}()
	defer wg.Wait()

	failures := 0
	for {
		_, claimedN, err := w.runBatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		delay := w.cfg.Poll
		switch {
		case err != nil:
			failures++
			delay = outageDelay(w.cfg.Poll, failures)
			w.log.LogAttrs(ctx, slog.LevelWarn, "notification round failed; retrying",
				slog.String("err", err.Error()), slog.Duration("retry_in", delay))
		case claimedN == w.cfg.Batch:
			failures, delay = 0, 0
		default:
			failures = 0
		}
		if !sleep(ctx, delay, wake) {
			return nil
		}
	}
}

// outageDelay doubles the poll interval with each failed round, up to
// maxOutageDelay (or Poll, if that is longer).
func outageDelay(poll time.Duration, failures int) time.Duration {
	d := poll
	for i := 1; i < failures && d < maxOutageDelay; i++ {
		d *= 2
	}
	return min(d, max(maxOutageDelay, poll))
}

// sleep waits for d or a wake-up; it reports false when ctx ended.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		return true
	case <-t.C:
		return true
	}
}
