package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/internal/sealbox"
)

// NotifyChannel is the PostgreSQL LISTEN/NOTIFY channel that Enqueue signals
// on commit; the payload is the outbox id.
const NotifyChannel = "televisit_notify"

const (
	sqlNextID = `SELECT nextval(pg_get_serial_sequence('notification_outbox', 'id'))`
	sqlInsert = `WITH ins AS (
    INSERT INTO notification_outbox (id, visit_id, channel, recipient_enc, subject, body_enc)
    OVERRIDING SYSTEM VALUE
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id
)
SELECT pg_notify('` + NotifyChannel + `', id::text) FROM ins`
)

// Enqueue writes m into notification_outbox inside the caller's transaction
// tx, so that the message commits or rolls back with the state change that
// produced it (for example the visit link it carries). Recipient and body are
// sealed with keys. It returns the outbox id. m.ID is ignored.
//
// Nothing is sent before tx commits; a listening Worker wakes on commit.
func Enqueue(ctx context.Context, tx pgx.Tx, keys *sealbox.Keyring, m Message) (int64, error) {
	if tx == nil || keys == nil {
		return 0, errors.New("notify: enqueue: nil transaction or keyring")
	}
	if err := m.validate(); err != nil {
		return 0, fmt.Errorf("notify: enqueue: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, sqlNextID).Scan(&id); err != nil {
		return 0, fmt.Errorf("notify: enqueue: reserve id: %w", err)
	}
	rcpt, body, err := sealMessage(keys, id, m)
	if err != nil {
		return 0, fmt.Errorf("notify: enqueue: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlInsert, id, m.VisitID, string(m.Channel), rcpt, m.Subject, body); err != nil {
		return 0, fmt.Errorf("notify: enqueue: insert: %w", err)
	}
	return id, nil
}

// aad is the additional data that binds a sealed column value to its
// column, visit and outbox row.
func aad(column string, visitID uuid.UUID, id int64) []byte {
	return []byte("notification_outbox/" + column + "/" + visitID.String() + "/" + strconv.FormatInt(id, 10))
}

func sealMessage(keys *sealbox.Keyring, id int64, m Message) (rcpt, body []byte, err error) {
	rcpt, err = keys.Seal([]byte(m.Recipient), aad("recipient", m.VisitID, id))
	if err != nil {
		return nil, nil, fmt.Errorf("seal recipient: %w", err)
	}
	body, err = keys.Seal([]byte(m.Body), aad("body", m.VisitID, id))
	if err != nil {
		return nil, nil, fmt.Errorf("seal body: %w", err)
	}
	return rcpt, body, nil
}

func openMessage(keys *sealbox.Keyring, m *Message, rcpt, body []byte) error {
	r, err := keys.Open(rcpt, aad("recipient", m.VisitID, m.ID))
	if err != nil {
		return fmt.Errorf("open recipient: %w", err)
	}
	b, err := keys.Open(body, aad("body", m.VisitID, m.ID))
	if err != nil {
		return fmt.Errorf("open body: %w", err)
	}
	m.Recipient, m.Body = string(r), string(b)
	return nil
}
