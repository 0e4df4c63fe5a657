package visits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AuditFilter narrows ListAudit. Zero fields do not filter. Since is
// inclusive, Until exclusive. Limit defaults to 100 and is capped at 1000.
type AuditFilter struct {
	VisitID      uuid.UUID
	ActorID      string
	Since, Until time.Time
	Limit        int
}

// AuditRecord is one audit event as an administrator sees it.
type AuditRecord struct {
	Seq          int64          `json:"seq"`
	At           time.Time      `json:"at"`
	ActorType    string         `json:"actor_type"`
	ActorID      string         `json:"actor_id"`
	ActorRole    string         `json:"actor_role"`
	Action       string         `json:"action"`
	ResourceType string         `json:"resource_type"`
	ResourceID   string         `json:"resource_id"`
	VisitID      *uuid.UUID     `json:"visit_id"`
	Outcome      string         `json:"outcome"`
	ClientAddr   string         `json:"client_addr"`
	UserAgent    string         `json:"user_agent"`
	Detail       map[string]any `json:"detail"`
}

const (
	auditListDefault = 100
	auditListMax     = 1000
)

// ListAudit returns the newest events that match f, for administrators;
// anyone else gets ErrForbidden. Both the read and a refused attempt are
// audited ("audit.read").
func ListAudit(ctx context.Context, pool *pgxpool.Pool, a Actor, f AuditFilter) ([]AuditRecord, error) {
	ev := AuditEvent{Action: "audit.read", ResourceType: "audit", VisitID: f.VisitID, Detail: f.detail()}
	if !a.IsStaff() || !a.Has(RoleAdmin) {
		ev.Outcome = OutcomeDenied
		if err := AuditAlone(ctx, pool, a, ev); err != nil {
			return nil, errors.Join(ErrForbidden, err)
		}
		return nil, ErrForbidden
	}
	if err := f.normalise(); err != nil {
		return nil, err
	}
	ev.Detail["limit"] = f.Limit
	var out []AuditRecord
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var err error
		if out, err = queryAudit(ctx, tx, f); err != nil {
			return err
		}
		ev.Detail["count"] = len(out)
		return Audit(ctx, tx, a, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

func (f *AuditFilter) normalise() error {
	switch {
	case f.Limit < 0:
		return invalid("limit", "must not be negative")
	case f.Limit == 0:
		f.Limit = auditListDefault
	case f.Limit > auditListMax:
		f.Limit = auditListMax
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return invalid("until", "must be after since")
	}
	return nil
}

// detail describes the filter for the audit event of the read.
func (f AuditFilter) detail() map[string]any {
	d := map[string]any{}
	if f.ActorID != "" {
		d["actor_id"] = f.ActorID
	}
	if !f.Since.IsZero() {
		d["since"] = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		d["until"] = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return d
}

func queryAudit(ctx context.Context, tx pgx.Tx, f AuditFilter) ([]AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.VisitID != uuid.Nil {
		add("visit_id = $?", f.VisitID)
	}
	if f.ActorID != "" {
		add("actor_id = $?", f.ActorID)
	}
	if !f.Since.IsZero() {
		add("at >= $?", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < $?", f.Until)
	}
	sql := "SELECT " + auditColumns + " FROM audit_events"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	rows, err := tx.Query(ctx, sql+" ORDER BY seq DESC LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		row, err := scanAuditRow(r)
		if err != nil {
			return AuditRecord{}, err
		}
		return row.record()
	})
}

func (r *auditRow) record() (AuditRecord, error) {
	rec := AuditRecord{Seq: r.Seq, At: r.At, ActorType: r.ActorType, ActorID: r.ActorID, ActorRole: r.ActorRole,
		Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID, Outcome: r.Outcome,
		ClientAddr: r.ClientAddr, UserAgent: r.UserAgent}
	if r.VisitID.Valid {
		id := r.VisitID.UUID
		rec.VisitID = &id
	}
	if err := json.Unmarshal(r.Detail, &rec.Detail); err != nil {
		return AuditRecord{}, fmt.Errorf("decode detail of seq %d: %w", r.Seq, err)
	}
	return rec, nil
}
