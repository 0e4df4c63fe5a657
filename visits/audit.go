package visits

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The audit trail is one hash chain over the table audit_events. Row seq
// carries prev_hash, the hash of row seq-1 (32 zero bytes for seq 1), and
// hash = SHA-256(prev_hash || canonical encoding of the row). Appends are
// serialised by a transaction-scoped advisory lock, so seq has no gaps and
// rows become visible in seq order. Triggers reject UPDATE, DELETE and
// TRUNCATE; VerifyAudit finds what someone with the power to disable them
// changed, unless they also rewrote every later hash (anchor the head hash
// outside the database to catch that).

// Outcome is how an audited attempt ended.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeDenied  Outcome = "denied"
	OutcomeFailure Outcome = "failure"
)

// AuditEvent is what a caller says happened.
type AuditEvent struct {
	Action       string // "visit.read", "visit.create", "link.issue", ...
	ResourceType string // "visit", "visit_link", "waiting_room", "staff_session", "audit", ...
	ResourceID   string
	VisitID      uuid.UUID      // uuid.Nil when none
	Outcome      Outcome        // empty means success
	Detail       map[string]any // never PHI; numbers keep float64 precision only
}

const (
	// auditLockKey is the pg_advisory_xact_lock key that serialises appends
	// ("TVAUDIT1"; goose's migration lock uses another key).
	auditLockKey int64 = 0x5456_4155_4449_5431
	// auditHashTag starts every hashed encoding, so a change of encoding can
	// be told apart.
	auditHashTag  = "televisit.audit.v1"
	maxUserAgent  = 256 // characters
	auditAloneMax = 10 * time.Second
)

var genesisHash = make([]byte, sha256.Size)

// auditRow is one row of audit_events as stored and hashed.
type auditRow struct {
	Seq                              int64
	At                               time.Time
	ActorType, ActorID, ActorRole    string
	Action, ResourceType, ResourceID string
	VisitID                          uuid.NullUUID
	Outcome                          string
	ClientAddr, UserAgent            string
	Detail                           []byte // canonical JSON, also what is stored
	PrevHash, Hash                   []byte
}

// Audit appends ev to the trail inside tx, the transaction that reads or
// changes the PHI, so the event and the change commit or roll back together.
// Call it as the last statement before commit: it takes the chain's lock,
// which is held until tx ends. It may be called several times in one
// transaction. tx must be READ COMMITTED (the default), so that it sees the
// row the previous lock holder committed.
func Audit(ctx context.Context, tx pgx.Tx, a Actor, ev AuditEvent) error {
	return AuditMany(ctx, tx, a, []AuditEvent{ev})
}

// AuditMany appends several events of one actor as Audit does, taking the
// chain's lock and reading its head once and inserting in one round trip:
// a day list of many visits costs about as much as one event.
func AuditMany(ctx context.Context, tx pgx.Tx, a Actor, evs []AuditEvent) error {
	if len(evs) == 0 {
		return nil
	}
	rows := make([]*auditRow, len(evs))
	for i, ev := range evs {
		row, err := newAuditRow(a, ev)
		if err != nil {
			return fmt.Errorf("audit %s: %w", ev.Action, err)
		}
		rows[i] = row
	}
	if err := appendAudit(ctx, tx, rows); err != nil {
		return fmt.Errorf("audit %s: %w", evs[0].Action, err)
	}
	return nil
}

// AuditAlone writes one event in its own transaction: for denied or failed
// attempts whose main transaction rolls back. It outlives the cancellation
// of ctx (a client that went away is no reason to lose the record), bounded
// by its own timeout.
func AuditAlone(ctx context.Context, pool *pgxpool.Pool, a Actor, ev AuditEvent) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditAloneMax)
	defer cancel()
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return Audit(ctx, tx, a, ev)
	})
	if err != nil {
		return fmt.Errorf("audit alone: %w", err)
	}
	return nil
}

// newAuditRow checks ev and fills everything but seq, at and the hashes.
func newAuditRow(a Actor, ev AuditEvent) (*auditRow, error) {
	if ev.Action == "" || ev.ResourceType == "" {
		return nil, errors.New("action and resource type are required")
	}
	if ev.Outcome == "" {
		ev.Outcome = OutcomeSuccess
	}
	switch ev.Outcome {
	case OutcomeSuccess, OutcomeDenied, OutcomeFailure:
	default:
		return nil, fmt.Errorf("unknown outcome %q", ev.Outcome)
	}
	detail, err := canonicalDetail(ev.Detail)
	if err != nil {
		return nil, err
	}
	return &auditRow{
		ActorType:    cleanText(string(a.Kind), 0),
		ActorID:      cleanText(a.ID, 0),
		ActorRole:    a.PrimaryRole(),
		Action:       cleanText(ev.Action, 0),
		ResourceType: cleanText(ev.ResourceType, 0),
		ResourceID:   cleanText(ev.ResourceID, 0),
		VisitID:      uuid.NullUUID{UUID: ev.VisitID, Valid: ev.VisitID != uuid.Nil},
		Outcome:      string(ev.Outcome),
		ClientAddr:   cleanText(a.ClientAddr, 0),
		UserAgent:    cleanText(a.UserAgent, maxUserAgent),
		Detail:       detail,
	}, nil
}

func appendAudit(ctx context.Context, tx pgx.Tx, rows []*auditRow) error {
	lastSeq, prev, err := lockChainHead(ctx, tx)
	if err != nil {
		return err
	}
	// The time is taken under the lock so that at follows seq.
	at := time.Now().UTC().Truncate(time.Microsecond)
	batch := &pgx.Batch{}
	for i, row := range rows {
		row.Seq, row.At, row.PrevHash = lastSeq+int64(i)+1, at, prev
		row.Hash = row.computeHash()
		prev = row.Hash
		batch.Queue(`INSERT INTO audit_events (seq, at, actor_type, actor_id, actor_role, action,
			resource_type, resource_id, visit_id, outcome, client_addr, user_agent, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::jsonb, $14, $15)`,
			row.Seq, row.At, row.ActorType, row.ActorID, row.ActorRole, row.Action,
			row.ResourceType, row.ResourceID, row.VisitID, row.Outcome, row.ClientAddr, row.UserAgent,
			string(row.Detail), row.PrevHash, row.Hash)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// lockChainHead takes the chain's lock and returns the last seq and hash.
func lockChainHead(ctx context.Context, tx pgx.Tx) (int64, []byte, error) {
	var iso string
	err := tx.QueryRow(ctx, "SELECT pg_advisory_xact_lock($1), current_setting('transaction_isolation')",
		auditLockKey).Scan(nil, &iso)
	if err != nil {
		return 0, nil, fmt.Errorf("lock chain: %w", err)
	}
	if iso != "read committed" {
		return 0, nil, fmt.Errorf("transaction isolation is %s; the audit chain needs read committed", iso)
	}
	var lastSeq int64
	prev := genesisHash
	err = tx.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&lastSeq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, fmt.Errorf("read chain head: %w", err)
	}
	return lastSeq, prev, nil
}

// computeHash is SHA-256(prev_hash || encoding), where the encoding is the
// tag, seq and at (UnixMicro) as 8 bytes big-endian, then every other field
// as a 4-byte big-endian length and its bytes (visit_id: 16 bytes, or none
// when NULL).
func (r *auditRow) computeHash() []byte {
	h := sha256.New()
	h.Write(r.PrevHash)
	var buf [8]byte
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(buf[:0], uint32(len(b))))
		h.Write(b)
	}
	field([]byte(auditHashTag))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(r.Seq)))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(r.At.UnixMicro())))
	for _, s := range []string{r.ActorType, r.ActorID, r.ActorRole, r.Action, r.ResourceType, r.ResourceID} {
		field([]byte(s))
	}
	if r.VisitID.Valid {
		field(r.VisitID.UUID[:])
	} else {
		field(nil)
	}
	for _, s := range []string{r.Outcome, r.ClientAddr, r.UserAgent} {
		field([]byte(s))
	}
	field(r.Detail)
	return h.Sum(nil)
}

// canonicalDetail is the JSON that is both hashed and stored. PostgreSQL's
// jsonb reorders keys, respaces and rewrites numbers (1e+21 becomes
// 1000000000000000000000), so the hash cannot cover the text it returns.
// Instead the text is decoded into map[string]any and encoded again, on
// append and on verify: encoding/json sorts keys, and a float64 printed by
// Go, stored exactly by jsonb's numeric and parsed back, is the same
// float64, so the second encoding equals the first.
func canonicalDetail(d map[string]any) ([]byte, error) {
	if len(d) == 0 {
		return []byte("{}"), nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode detail: %w", err)
	}
	return canonicalJSON(raw)
}

// canonicalJSON re-encodes a JSON object as described at canonicalDetail.
func canonicalJSON(raw []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode detail: %w", err)
	}
	if m == nil { // JSON null: never written, so never equal to "{}"
		return nil, errors.New("decode detail: not a JSON object")
	}
	out, err := json.Marshal(cleanJSON(m))
	if err != nil {
		return nil, fmt.Errorf("encode detail: %w", err)
	}
	return out, nil
}

// cleanJSON replaces NUL characters in keys and strings, which jsonb cannot
// store (encoding/json has already made the text valid UTF-8), and turns -0
// into 0, as jsonb's numeric does.
func cleanJSON(v any) any {
	switch v := v.(type) {
	case float64:
		if v == 0 {
			return 0.0
		}
		return v
	case string:
		return cleanText(v, 0)
	case []any:
		for i := range v {
			v[i] = cleanJSON(v[i])
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[cleanText(k, 0)] = cleanJSON(x)
		}
		return out
	}
	return v
}

// cleanText makes s storable in a text column unchanged: valid UTF-8, no
// NUL, and at most max characters when max > 0.
func cleanText(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if max > 0 && utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
