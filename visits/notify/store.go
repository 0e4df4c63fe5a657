package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every statement below is a single autocommit statement: no transaction
// or row lock outlives it, and none is held while a message is sent.

// sqlClaim leases up to $1 due rows for $2 microseconds and counts the
// attempt. SKIP LOCKED lets concurrent workers claim disjoint rows; a row
// another worker leased a moment ago fails the re-checked WHERE clause.
const sqlClaim = `UPDATE notification_outbox o
SET attempts = o.attempts + 1,
    next_attempt_at = now() + $2::bigint * interval '1 microsecond'
FROM (
    SELECT id FROM notification_outbox
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE o.id = due.id
RETURNING o.id, o.visit_id, o.channel, o.recipient_enc, o.subject, o.body_enc, o.attempts`

// The marks are fenced on (id, attempts, pending): attempts identifies the
// lease, so a worker whose lease lapsed cannot overwrite its successor.
const (
	// A sent message's body (it holds the link token) is no longer needed:
	// it is blanked so a stolen database holds no usable link.
	sqlMarkSent = `UPDATE notification_outbox
SET status = 'sent', sent_at = now(), last_error = '', body_enc = ''::bytea
WHERE id = $1 AND attempts = $2 AND status = 'pending'`
	sqlMarkRetry = `UPDATE notification_outbox
SET next_attempt_at = now() + $3::bigint * interval '1 microsecond', last_error = $4
WHERE id = $1 AND attempts = $2 AND status = 'pending'`
	sqlMarkFailed = `UPDATE notification_outbox
SET status = 'failed', last_error = $3
WHERE id = $1 AND attempts = $2 AND status = 'pending'`
	sqlRelease = `UPDATE notification_outbox
SET attempts = attempts - 1, next_attempt_at = now()
WHERE id = $1 AND attempts = $2 AND status = 'pending'`
)

// claimed is one leased outbox row, still sealed.
type claimed struct {
	id        int64
	visitID   uuid.UUID
	channel   Channel
	rcptEnc   []byte
	subject   string
	bodyEnc   []byte
	attempts  int
	leaseEnds time.Time // local monotonic estimate, never later than the database's
}

func claim(ctx context.Context, pool *pgxpool.Pool, batch int, lease time.Duration) ([]claimed, error) {
	start := time.Now()
	rows, err := pool.Query(ctx, sqlClaim, batch, lease.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(&c.id, &c.visitID, &c.channel, &c.rcptEnc, &c.subject, &c.bodyEnc, &c.attempts)
		c.leaseEnds = start.Add(lease)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// mark runs one fenced update and reports whether it still held the lease.
// A lost lease (no row matched) is not an error: another worker took the
// row over after the lease lapsed.
func mark(ctx context.Context, pool *pgxpool.Pool, step, sql string, args ...any) (held bool, err error) {
	tag, err := pool.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("mark %s: %w", step, err)
	}
	return tag.RowsAffected() == 1, nil
}
