package visits

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AuditReport is the result of walking the audit chain.
type AuditReport struct {
	Checked     int64  // rows found intact before the first broken link
	OK          bool   // no broken link
	FirstBroken int64  // seq of the first broken link (for a gap: the first missing seq); 0 if none
	Reason      string // "hash mismatch", "prev_hash does not match seq N", "gap after seq N"
}

const verifyBatch = 5000

// auditColumns and scanAuditRow read whole rows for VerifyAudit and
// ListAudit. detail is read as text: it is re-canonicalised before hashing.
const auditColumns = `seq, at, actor_type, actor_id, actor_role, action, resource_type, resource_id,
	visit_id, outcome, client_addr, user_agent, detail::text, prev_hash, hash`

func scanAuditRow(rows pgx.Row) (*auditRow, error) {
	var r auditRow
	var detail string
	err := rows.Scan(&r.Seq, &r.At, &r.ActorType, &r.ActorID, &r.ActorRole, &r.Action, &r.ResourceType,
		&r.ResourceID, &r.VisitID, &r.Outcome, &r.ClientAddr, &r.UserAgent, &detail, &r.PrevHash, &r.Hash)
	r.Detail = []byte(detail)
	return &r, err
}

// VerifyAudit walks the whole chain in seq order, in batches so memory stays
// constant, and names the first broken link. Rows appended while it runs are
// checked too if it reaches them. It cannot see rows removed from the end of
// the chain, nor a chain whose every later hash was recomputed: compare the
// head with a copy kept elsewhere for that.
func VerifyAudit(ctx context.Context, pool *pgxpool.Pool) (AuditReport, error) {
	return verifyAudit(ctx, pool, verifyBatch)
}

func verifyAudit(ctx context.Context, pool *pgxpool.Pool, batchSize int) (AuditReport, error) {
	v := chainWalker{prevHash: genesisHash}
	for {
		n, err := v.batch(ctx, pool, batchSize)
		if err != nil {
			return AuditReport{}, fmt.Errorf("verify audit: %w", err)
		}
		if v.report.FirstBroken != 0 || n < batchSize {
			break
		}
	}
	v.report.OK = v.report.FirstBroken == 0
	return v.report, nil
}

type chainWalker struct {
	prevSeq  int64
	prevHash []byte
	report   AuditReport
}

// batch checks the next rows after prevSeq and returns how many it read.
func (v *chainWalker) batch(ctx context.Context, pool *pgxpool.Pool, size int) (int, error) {
	rows, err := pool.Query(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
		v.prevSeq, size)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		r, err := scanAuditRow(rows)
		if err != nil {
			return n, err
		}
		if !v.check(r) {
			return n, nil
		}
	}
	return n, rows.Err()
}

// check records r's link and reports whether it is intact.
func (v *chainWalker) check(r *auditRow) bool {
	broken := func(seq int64, reason string) bool {
		v.report.FirstBroken, v.report.Reason = seq, reason
		return false
	}
	if r.Seq != v.prevSeq+1 {
		return broken(v.prevSeq+1, fmt.Sprintf("gap after seq %d", v.prevSeq))
	}
	if !bytes.Equal(r.PrevHash, v.prevHash) {
		return broken(r.Seq, fmt.Sprintf("prev_hash does not match seq %d", v.prevSeq))
	}
	detail, err := canonicalJSON(r.Detail)
	if err != nil {
		return broken(r.Seq, "detail is not a JSON object")
	}
	r.Detail = detail
	if !bytes.Equal(r.computeHash(), r.Hash) {
		return broken(r.Seq, "hash mismatch")
	}
	v.prevSeq, v.prevHash = r.Seq, r.Hash
	v.report.Checked++
	return true
}
