package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/televisit/televisit/internal/sealbox"
)

// deliver sends one leased row and records the outcome. It reports whether
// the message was sent; err is only a failure to record the outcome.
func (w *Worker) deliver(ctx context.Context, row claimed) (sent bool, err error) {
	m := Message{ID: row.id, VisitID: row.visitID, Channel: row.channel, Subject: row.subject}
	if row.attempts > w.cfg.MaxAttempts {
		// Earlier leases ran out without a recorded outcome (crashes).
		return false, w.fail(ctx, row, reasonMaxAttempts)
	}
	sender := w.senders[row.channel]
	if sender == nil {
		return false, w.fail(ctx, row, reasonNoSender)
	}
	if err := openMessage(w.keys, &m, row.rcptEnc, row.bodyEnc); err != nil {
		if errors.Is(err, sealbox.ErrUnknownKey) {
			// This process may lack a key that others have (a rotation
			// rolling out): retry, perhaps elsewhere.
			return false, w.retry(ctx, row, reasonUnknownKey)
		}
		return false, w.fail(ctx, row, reasonCorrupt)
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	sendErr := sender.Send(sendCtx, m)
	cancel()
	switch {
	case sendErr == nil:
		return true, w.sent(ctx, row)
	case ctx.Err() != nil:
		return false, w.release(ctx, []claimed{row}) // shutting down: not a real attempt
	case IsPermanent(sendErr) || row.attempts >= w.cfg.MaxAttempts:
		return false, w.fail(ctx, row, safeReason(sendErr, m))
	}
	return false, w.retry(ctx, row, safeReason(sendErr, m))
}

func (w *Worker) sent(ctx context.Context, row claimed) error {
	w.log.LogAttrs(ctx, slog.LevelInfo, "notification sent", w.attrs(row)...)
	return w.record(ctx, row, "sent", sqlMarkSent, row.id, row.attempts)
}

func (w *Worker) fail(ctx context.Context, row claimed, reason string) error {
	w.log.LogAttrs(ctx, slog.LevelWarn, "notification failed for good", append(w.attrs(row), slog.String("reason", reason))...)
	return w.record(ctx, row, "failed", sqlMarkFailed, row.id, row.attempts, reason)
}

func (w *Worker) retry(ctx context.Context, row claimed, reason string) error {
	if row.attempts >= w.cfg.MaxAttempts {
		return w.fail(ctx, row, reason)
	}
	delay := retryDelay(row.attempts, w.cfg.BaseBackoff, w.cfg.MaxBackoff, defaultJitter)
	w.log.LogAttrs(ctx, slog.LevelInfo, "notification send failed; will retry",
		append(w.attrs(row), slog.String("reason", reason), slog.Duration("retry_in", delay))...)
	return w.record(ctx, row, "retry", sqlMarkRetry, row.id, row.attempts, delay.Microseconds(), reason)
}

// record runs a fenced mark, even if ctx has ended, and logs a lost lease.
// It retries for up to markTimeout, so that a short database blip after a
// successful send does not cause a second delivery when the lease lapses.
func (w *Worker) record(ctx context.Context, row claimed, step, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	held, err := mark(ctx, w.pool, step, sql, args...)
	for pause := 50 * time.Millisecond; err != nil; pause = min(2*pause, time.Second) {
		select {
		case <-ctx.Done():
			// The lease will lapse and the row be sent again: at least once.
			return fmt.Errorf("notify: outbox %d: %w", row.id, err)
		case <-time.After(pause):
		}
		held, err = mark(ctx, w.pool, step, sql, args...)
	}
	if !held {
		w.log.LogAttrs(ctx, slog.LevelWarn, "notification lease lost before its outcome was recorded", w.attrs(row)...)
	}
	return nil
}

// attrs identify a row in logs: outbox id, channel, attempt. Never the
// recipient, subject, body or visit.
func (w *Worker) attrs(row claimed) []slog.Attr {
	return []slog.Attr{slog.Int64("outbox_id", row.id), slog.String("channel", string(row.channel)), slog.Int("attempt", row.attempts)}
}
