package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits"
)

// TestMigrateAndAuditVerify runs `migrate` twice on an empty database, then
// `audit verify` on an intact chain and on one whose second event was
// altered behind the triggers' back.
func TestMigrateAndAuditVerify(t *testing.T) {
	url := pgtest.NewDBURL(t)
	env := []string{"TELEVISIT_DATABASE_URL=" + url}
	for range 2 {
		if code, _, stderr := runCLI(t, env, "migrate"); code != 0 {
			t.Fatalf("migrate: exit %d: %s", code, stderr)
		}
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for i := range 3 {
		ev := visits.AuditEvent{Action: "test.event", ResourceType: "test", ResourceID: string(rune('a' + i))}
		if err := visits.AuditAlone(ctx, pool, visits.SystemActor("test"), ev); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := runCLI(t, env, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain OK: 3 events checked") {
		t.Fatalf("audit verify on an intact chain: exit %d, %q %q", code, out, stderr)
	}
	tamper(t, pool)
	code, out, _ = runCLI(t, env, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "seq 2") || !strings.Contains(out, "1 events intact") {
		t.Fatalf("audit verify on a tampered chain: exit %d, %q", code, out)
	}
}

// tamper changes event 2 with the append-only trigger switched off, as
// someone with superuser rights could.
func tamper(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, sql := range []string{
		"ALTER TABLE audit_events DISABLE TRIGGER USER",
		"UPDATE audit_events SET action = 'test.forged' WHERE seq = 2",
		"ALTER TABLE audit_events ENABLE TRIGGER USER",
	} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
