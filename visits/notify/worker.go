package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/sealbox"
)

// Reasons stored in last_error by the worker itself.
const (
	reasonNoSender    = "no sender configured for channel"
	reasonMaxAttempts = "max attempts exceeded"
	reasonUnknownKey  = "decrypt: sealed with a key this process lacks"
	reasonCorrupt     = "decrypt: sealed value is corrupt or belongs to another row"
)

// Bounds on recording an outcome (with retries) and on handing rows back
// (one try). Both run even when the Run context has ended, so that a
// message sent during shutdown is still recorded.
const (
	markTimeout    = 10 * time.Second
	releaseTimeout = 2 * time.Second
)

// Worker delivers pending outbox messages. Run it in every process that
// should send; workers coordinate through the database alone (see the
// package documentation for the lease protocol and its at-least-once
// guarantee).
type Worker struct {
	cfg     WorkerConfig
	pool    *pgxpool.Pool
	keys    *sealbox.Keyring
	senders map[Channel]Sender
	log     *slog.Logger
}

// Sender delivers one message. Implementations return a *PermanentError for
// failures that must not be retried; any other error is retried. Errors
// should be free of PHI; the worker redacts them anyway before logging or
// storing them.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// NewWorker checks cfg and returns a worker that sends each channel's
// messages with senders[channel]. A channel without a sender fails its
// messages. A nil log discards.
func NewWorker(cfg WorkerConfig, pool *pgxpool.Pool, keys *sealbox.Keyring, senders map[Channel]Sender, log *slog.Logger) (*Worker, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("notify: worker config: %w", err)
	}
	if pool == nil || keys == nil {
		return nil, errors.New("notify: worker: nil pool or keyring")
	}
	for ch, s := range senders {
		if !ch.Valid() || s == nil {
			return nil, fmt.Errorf("notify: worker: bad sender for channel %q", ch)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, pool: pool, keys: keys, senders: maps.Clone(senders),
		log: log.With("component", "notify")}, nil
}

// RunOnce claims one batch of due messages and delivers it. It returns how
// many were sent; err joins the errors of the database steps (send failures
// are recorded on their rows, not returned).
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	sent, _, err = w.runBatch(ctx)
	return sent, err
}

// runBatch also reports how many rows it claimed, so that Run can go again
// at once after a full batch.
func (w *Worker) runBatch(ctx context.Context) (sent, claimedN int, err error) {
	rows, err := claim(ctx, w.pool, w.cfg.Batch, w.cfg.Lease)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: %w", err)
	}
	for i, row := range rows {
		if ctx.Err() != nil || time.Until(row.leaseEnds) < w.cfg.SendTimeout*3/2 {
			return sent, len(rows), w.release(ctx, rows[i:])
		}
		ok, err := w.deliver(ctx, row)
		if ok {
			sent++
		}
		if err != nil {
			// The database is failing: sending more now would only make
			// more messages whose outcome cannot be recorded.
			return sent, len(rows), errors.Join(err, w.release(ctx, rows[i+1:]))
		}
	}
	return sent, len(rows), nil
}

// release hands leased rows back unsent, without counting the attempt. It
// tries once: rows it cannot hand back return when their lease lapses.
func (w *Worker) release(ctx context.Context, rows []claimed) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	var errs []error
	for _, r := range rows {
		if _, err := mark(ctx, w.pool, "released", sqlRelease, r.id, r.attempts); err != nil {
			errs = append(errs, fmt.Errorf("notify: outbox %d: %w", r.id, err))
		}
	}
	return errors.Join(errs...)
}
