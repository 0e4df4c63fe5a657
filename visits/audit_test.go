package visits

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
)

var (
	auditClinician = Actor{Kind: ActorStaff, ID: "staff-7", Roles: []Role{RoleClinician},
		ClientAddr: "203.0.113.7", UserAgent: "Mozilla/5.0 test"}
	auditAdmin = Actor{Kind: ActorStaff, ID: "admin-1", Roles: []Role{RoleAdmin, RoleClinician}, ClientAddr: "198.51.100.2"}
)

// auditInTx appends ev in its own committed transaction.
func auditInTx(t *testing.T, pool *pgxpool.Pool, a Actor, ev AuditEvent) {
	t.Helper()
	ctx := context.Background()
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return Audit(ctx, tx, a, ev) }); err != nil {
		t.Fatalf("Audit: %v", err)
	}
}

// appendAuditEvents appends n events, each in its own transaction.
func appendAuditEvents(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for i := range n {
		auditInTx(t, pool, auditClinician, AuditEvent{Action: "visit.read", ResourceType: "visit",
			ResourceID: strconv.Itoa(i), VisitID: uuid.New(), Detail: map[string]any{"i": i}})
	}
}

func verifyChain(t *testing.T, pool *pgxpool.Pool) AuditReport {
	t.Helper()
	r, err := VerifyAudit(context.Background(), pool)
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return r
}

func wantChainIntact(t *testing.T, pool *pgxpool.Pool, n int64) {
	t.Helper()
	if r := verifyChain(t, pool); !r.OK || r.Checked != n || r.FirstBroken != 0 || r.Reason != "" {
		t.Fatalf("VerifyAudit = %+v, want OK with %d rows", r, n)
	}
}

func wantChainBroken(t *testing.T, r AuditReport, seq, checked int64, reason string) {
	t.Helper()
	if r.OK || r.FirstBroken != seq || r.Checked != checked || r.Reason != reason {
		t.Fatalf("VerifyAudit = %+v, want broken at seq %d after %d rows: %q", r, seq, checked, reason)
	}
}

// auditSeqs returns every seq in order.
func auditSeqs(t *testing.T, pool *pgxpool.Pool) []int64 {
	t.Helper()
	rows, _ := pool.Query(context.Background(), "SELECT seq FROM audit_events ORDER BY seq")
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantAuditSeqs(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	got := auditSeqs(t, pool)
	if len(got) != n {
		t.Fatalf("%d events, want %d", len(got), n)
	}
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("seq %d at position %d: the chain has a gap", s, i)
		}
	}
}

// bypassAuditTriggers runs sql as the superuser with the append-only trigger
// disabled, as an attacker with full database access could.
func bypassAuditTriggers(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errors.New("tampering touched " + strconv.FormatInt(tag.RowsAffected(), 10) + " rows")
		}
		_, err = tx.Exec(ctx, "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
		return err
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func TestAuditChainVerifies(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	wantChainIntact(t, pool, 0)
	appendAuditEvents(t, pool, 20)
	if err := AuditAlone(context.Background(), pool, auditClinician,
		AuditEvent{Action: "visit.read", ResourceType: "visit", Outcome: OutcomeDenied}); err != nil {
		t.Fatal(err)
	}
	wantAuditSeqs(t, pool, 21)
	wantChainIntact(t, pool, 21)
}

func TestAuditStoresWhatItHashed(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	visit := uuid.New()
	a := auditClinician
	a.UserAgent = strings.Repeat("é", 300)
	a.ClientAddr = "bad\x00addr"
	before := time.Now()
	auditInTx(t, pool, a, AuditEvent{Action: "visit.update", ResourceType: "visit", ResourceID: visit.String(),
		VisitID: visit, Detail: map[string]any{"fields": []string{"starts_at"}}})
	auditInTx(t, pool, SystemActor("dev-seed"), AuditEvent{Action: "clinic.create", ResourceType: "clinic",
		Outcome: OutcomeFailure})

	recs, err := ListAudit(ctx, pool, auditAdmin, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	first := recs[len(recs)-1]
	if first.Seq != 1 || first.ActorType != "staff" || first.ActorID != "staff-7" || first.ActorRole != "clinician" ||
		first.Action != "visit.update" || first.ResourceID != visit.String() || first.VisitID == nil ||
		*first.VisitID != visit || first.Outcome != "success" || first.ClientAddr != "bad\uFFFDaddr" {
		t.Fatalf("stored event: %+v", first)
	}
	if first.UserAgent != strings.Repeat("é", 256) {
		t.Fatalf("user agent not cut to 256 characters: %d", len([]rune(first.UserAgent)))
	}
	if first.At.Before(before.Truncate(time.Microsecond)) || first.At.After(time.Now()) || first.At.Nanosecond()%1000 != 0 {
		t.Fatalf("at = %v", first.At)
	}
	if fields, _ := first.Detail["fields"].([]any); len(fields) != 1 || fields[0] != "starts_at" {
		t.Fatalf("detail = %v", first.Detail)
	}
	second := recs[len(recs)-2]
	if second.ActorType != "system" || second.ActorRole != "" || second.VisitID != nil || second.Outcome != "failure" {
		t.Fatalf("system event: %+v", second)
	}
	var prev []byte
	if err := pool.QueryRow(ctx, "SELECT prev_hash FROM audit_events WHERE seq = 1").Scan(&prev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(prev, make([]byte, 32)) {
		t.Fatalf("genesis prev_hash = %x", prev)
	}
	wantChainIntact(t, pool, 3) // two events and the read
}

func TestAuditConcurrentAppendsFormOneChain(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDBURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	const workers, txs = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := Actor{Kind: ActorStaff, ID: "worker-" + strconv.Itoa(w), Roles: []Role{RoleScheduler}}
			for i := range txs {
				// Two events per transaction, as a list read does.
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					ev := AuditEvent{Action: "visit.list", ResourceType: "visit", Detail: map[string]any{"i": i}}
					if err := Audit(ctx, tx, a, ev); err != nil {
						return err
					}
					return Audit(ctx, tx, a, ev)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantAuditSeqs(t, pool, workers*txs*2)
	wantChainIntact(t, pool, workers*txs*2)
}

func TestAuditRollbackLeavesNoEventAndNoGap(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	appendAuditEvents(t, pool, 3)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Audit(ctx, tx, auditClinician, AuditEvent{Action: "visit.cancel", ResourceType: "visit"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'visit.cancel'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled-back event stored: %d, %v", n, err)
	}
	appendAuditEvents(t, pool, 1)
	wantAuditSeqs(t, pool, 4)
	wantChainIntact(t, pool, 4)
}

func TestAuditTableIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	appendAuditEvents(t, pool, 2)
	for _, sql := range []string{
		"UPDATE audit_events SET action = 'x' WHERE seq = 1",
		"UPDATE audit_events SET hash = prev_hash",
		"DELETE FROM audit_events WHERE seq = 2",
		"TRUNCATE audit_events",
	} {
		_, err := pool.Exec(context.Background(), sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: err = %v, want the append-only trigger (42501)", sql, err)
		}
	}
	wantAuditSeqs(t, pool, 2)
	wantChainIntact(t, pool, 2)
}

func TestAuditTamperingIsFound(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		sql     string
		args    func(t *testing.T, pool *pgxpool.Pool) []any
		seq     int64
		checked int64
		reason  string
	}{
		{name: "action changed", sql: "UPDATE audit_events SET action = 'visit.list' WHERE seq = 5",
			seq: 5, checked: 4, reason: "hash mismatch"},
		{name: "actor changed", sql: "UPDATE audit_events SET actor_id = 'staff-8' WHERE seq = 1",
			seq: 1, checked: 0, reason: "hash mismatch"},
		{name: "time moved by 1µs", sql: "UPDATE audit_events SET at = at + interval '1 microsecond' WHERE seq = 7",
			seq: 7, checked: 6, reason: "hash mismatch"},
		{name: "detail changed", sql: `UPDATE audit_events SET detail = '{"i": 99}' WHERE seq = 3`,
			seq: 3, checked: 2, reason: "hash mismatch"},
		{name: "empty detail nulled", sql: `UPDATE audit_events SET detail = 'null' WHERE seq = 11`,
			seq: 11, checked: 10, reason: "detail is not a JSON object"},
		{name: "visit cleared", sql: "UPDATE audit_events SET visit_id = NULL WHERE seq = 10",
			seq: 10, checked: 9, reason: "hash mismatch"},
		{name: "row deleted", sql: "DELETE FROM audit_events WHERE seq = 5",
			seq: 5, checked: 4, reason: "gap after seq 4"},
		{name: "first row deleted", sql: "DELETE FROM audit_events WHERE seq = 1",
			seq: 1, checked: 0, reason: "gap after seq 0"},
		{name: "row rewritten with a fresh hash", sql: "UPDATE audit_events SET action = 'visit.list', hash = $1 WHERE seq = 5",
			args: rehashedAudit(5, "visit.list"), seq: 6, checked: 5, reason: "prev_hash does not match seq 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.NewDB(t)
			appendAuditEvents(t, pool, 10)
			auditInTx(t, pool, auditClinician, AuditEvent{Action: "visit.read", ResourceType: "visit"}) // detail {}
			var args []any
			if c.args != nil {
				args = c.args(t, pool)
			}
			bypassAuditTriggers(t, pool, c.sql, args...)
			wantChainBroken(t, verifyChain(t, pool), c.seq, c.checked, c.reason)
		})
	}
}

// rehashedAudit computes the hash row seq would have with another action, as an
// attacker who knows the algorithm would.
func rehashedAudit(seq int64, action string) func(*testing.T, *pgxpool.Pool) []any {
	return func(t *testing.T, pool *pgxpool.Pool) []any {
		rows, _ := pool.Query(context.Background(), "SELECT "+auditColumns+" FROM audit_events WHERE seq = $1", seq)
		r, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (*auditRow, error) { return scanAuditRow(row) })
		if err != nil {
			t.Fatal(err)
		}
		r.Action = action
		if r.Detail, err = canonicalJSON(r.Detail); err != nil {
			t.Fatal(err)
		}
		return []any{r.computeHash()}
	}
}

func TestAuditVerifyCarriesTheChainAcrossBatches(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	appendAuditEvents(t, pool, 20)
	for _, size := range []int{1, 7, 10, 20, 21} {
		r, err := verifyAudit(context.Background(), pool, size)
		if err != nil || !r.OK || r.Checked != 20 {
			t.Fatalf("batch %d: %+v, %v", size, r, err)
		}
	}
	bypassAuditTriggers(t, pool, "DELETE FROM audit_events WHERE seq = 15")
	r, err := verifyAudit(context.Background(), pool, 7)
	if err != nil {
		t.Fatal(err)
	}
	wantChainBroken(t, r, 15, 14, "gap after seq 14")
}

// auditDetailCases are awkward values that must hash the same after a trip
// through jsonb.
var auditDetailCases = map[string]map[string]any{
	"nil":          nil,
	"empty":        {},
	"ints":         {"zero": 0, "neg": -42, "big": int64(1) << 53, "bigger": int64(1)<<60 + 1, "u": uint64(math.MaxUint64)},
	"floats":       {"tenth": 0.1, "exp": 1e21, "tiny": 1e-7, "min": math.SmallestNonzeroFloat64, "max": math.MaxFloat64, "neg0": math.Copysign(0, -1)},
	"json numbers": {"n": json.Number("1.50"), "e": json.Number("1E+2"), "x": json.Number("-0.000")},
	"strings":      {"html": "<a&b>", "nul": "a\x00b", "bad utf8": "\xff\xfe", "sep": "\u2028\u2029", "ctl": "\t\n\x1f", "emoji": "🩺", "quote": `"\`},
	"keys":         {"z": 1, "a": 2, "é": 3, "A": 4, "aa": 5, "\x00k": 6},
	"nested":       {"list": []any{1, "two", nil, true, map[string]any{"b": 1, "a": []int{}}}, "map": map[string]any{}},
	"typed":        {"at": time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), "id": uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "dur": time.Second},
}

func TestAuditDetailSurvivesJSONB(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	n := int64(0)
	for name, d := range auditDetailCases {
		want, err := canonicalDetail(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		auditInTx(t, pool, auditClinician, AuditEvent{Action: "test.detail", ResourceType: "test", ResourceID: name, Detail: d})
		n++
		var stored string
		if err := pool.QueryRow(ctx, "SELECT detail::text FROM audit_events WHERE seq = $1", n).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		again, err := canonicalJSON([]byte(stored))
		if err != nil || !bytes.Equal(again, want) {
			t.Fatalf("%s: hashed %s, stored %s, re-encoded %s (%v)", name, want, stored, again, err)
		}
	}
	wantChainIntact(t, pool, n)
}

func TestCanonicalDetailIsStable(t *testing.T) {
	for name, d := range auditDetailCases {
		once, err := canonicalDetail(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		twice, err := canonicalJSON(once)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("%s: %s re-encodes to %s (%v)", name, once, twice, err)
		}
		if bytes.Contains(once, []byte(`\u0000`)) {
			t.Fatalf("%s: NUL survives: %s", name, once)
		}
	}
}

func TestCanonicalJSONWantsAnObject(t *testing.T) {
	for _, raw := range []string{"null", "[]", "1", `"x"`, "", "{"} {
		if out, err := canonicalJSON([]byte(raw)); err == nil {
			t.Errorf("canonicalJSON(%q) = %s, want an error", raw, out)
		}
	}
}

func TestAuditRejectsBadEvents(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	for name, ev := range map[string]AuditEvent{
		"no action":   {ResourceType: "visit"},
		"no resource": {Action: "visit.read"},
		"bad outcome": {Action: "visit.read", ResourceType: "visit", Outcome: "maybe"},
		"NaN detail":  {Action: "visit.read", ResourceType: "visit", Detail: map[string]any{"x": math.NaN()}},
		"huge number": {Action: "visit.read", ResourceType: "visit", Detail: map[string]any{"x": json.Number("1e400")}},
		"unencodable": {Action: "visit.read", ResourceType: "visit", Detail: map[string]any{"x": make(chan int)}},
	} {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return Audit(ctx, tx, auditClinician, ev) })
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := AuditAlone(ctx, pool, auditClinician, AuditEvent{Action: "x"}); err == nil {
		t.Error("AuditAlone accepted an event without resource type")
	}
	wantAuditSeqs(t, pool, 0)
}

func TestAuditNeedsReadCommitted(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	for _, iso := range []pgx.TxIsoLevel{pgx.RepeatableRead, pgx.Serializable} {
		err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: iso}, func(tx pgx.Tx) error {
			return Audit(ctx, tx, auditClinician, AuditEvent{Action: "visit.read", ResourceType: "visit"})
		})
		if err == nil || !strings.Contains(err.Error(), "read committed") {
			t.Errorf("%s: err = %v", iso, err)
		}
	}
}

func TestAuditAloneOutlivesCancelledContext(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := AuditAlone(ctx, pool, auditClinician, AuditEvent{Action: "visit.read", ResourceType: "visit",
		Outcome: OutcomeFailure}); err != nil {
		t.Fatal(err)
	}
	wantAuditSeqs(t, pool, 1)
}

func TestListAuditIsForAdminsAndIsAudited(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	patient := Actor{Kind: ActorPatient, ID: "psess-1", VisitID: uuid.New()}
	apiAdmin := Actor{Kind: ActorAPIClient, ID: "client-1", Roles: []Role{RoleAdmin}}
	for _, a := range []Actor{auditClinician, patient, {Kind: ActorAnonymous}} {
		if _, err := ListAudit(ctx, pool, a, AuditFilter{}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s %s: err = %v, want ErrForbidden", a.Kind, a.ID, err)
		}
	}
	recs, err := ListAudit(ctx, pool, apiAdmin, AuditFilter{ActorID: auditClinician.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "audit.read" || recs[0].Outcome != "denied" || recs[0].ActorID != auditClinician.ID {
		t.Fatalf("denied read not audited: %+v", recs)
	}
	latest, err := ListAudit(ctx, pool, auditAdmin, AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The newest event is the previous successful read by apiAdmin.
	r := latest[0]
	if r.Seq != 4 || r.ActorID != "client-1" || r.ActorRole != "admin" || r.Outcome != "success" ||
		r.Detail["actor_id"] != auditClinician.ID || r.Detail["count"] != 1.0 || r.Detail["limit"] != 100.0 {
		t.Fatalf("admin read audited as %+v", r)
	}
	wantAuditSeqs(t, pool, 5)
	wantChainIntact(t, pool, 5)
}

func TestListAuditFilters(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	visit := uuid.New()
	for i := range 6 {
		a := auditClinician
		if i%2 == 1 {
			a.ID = "staff-9"
		}
		ev := AuditEvent{Action: "visit.read", ResourceType: "visit", Detail: map[string]any{"i": i}}
		if i < 4 {
			ev.VisitID = visit
		}
		auditInTx(t, pool, a, ev)
	}
	var mid time.Time
	if err := pool.QueryRow(ctx, "SELECT at FROM audit_events WHERE seq = 3").Scan(&mid); err != nil {
		t.Fatal(err)
	}
	list := func(f AuditFilter) []int64 {
		t.Helper()
		recs, err := ListAudit(ctx, pool, auditAdmin, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range recs {
			if r.Action == "visit.read" {
				out = append(out, r.Seq)
			}
		}
		return out
	}
	same := func(got []int64, want ...int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got auditSeqs %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got auditSeqs %v, want %v", got, want)
			}
		}
	}
	same(list(AuditFilter{VisitID: visit}), 4, 3, 2, 1)
	same(list(AuditFilter{VisitID: visit, ActorID: "staff-9"}), 4, 2)
	same(list(AuditFilter{ActorID: "staff-9", Limit: 2}), 6, 4)
	same(list(AuditFilter{Since: mid, Until: mid.Add(time.Microsecond)}), 3)
	same(list(AuditFilter{VisitID: visit, Since: mid}), 4, 3)
	same(list(AuditFilter{VisitID: visit, Until: mid}), 2, 1)
	for _, f := range []AuditFilter{{Limit: -1}, {Since: mid, Until: mid}} {
		if _, err := ListAudit(ctx, pool, auditAdmin, f); !errors.Is(err, ErrInvalid) {
			t.Fatalf("filter %+v: err = %v, want ErrInvalid", f, err)
		}
	}
	wantChainIntact(t, pool, int64(len(auditSeqs(t, pool))))
}

// BenchmarkAudit measures one append in its own transaction and, for list
// reads that audit every row, one more append in an open transaction.
func BenchmarkAudit(b *testing.B) {
	pool := pgtest.NewDB(b)
	ctx := context.Background()
	ev := AuditEvent{Action: "visit.read", ResourceType: "visit", VisitID: uuid.New(), Detail: map[string]any{"n": 1}}
	b.Run("own_tx", func(b *testing.B) {
		for b.Loop() {
			if err := AuditAlone(ctx, pool, auditClinician, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("same_tx", func(b *testing.B) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for b.Loop() {
				if err := Audit(ctx, tx, auditClinician, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkAuditDayList compares auditing a 50-visit day list one event at
// a time with one AuditMany batch, each in its own transaction.
func BenchmarkAuditDayList(b *testing.B) {
	pool := pgtest.NewDB(b)
	ctx := context.Background()
	evs := make([]AuditEvent, 50)
	for i := range evs {
		evs[i] = AuditEvent{Action: "visit.list", ResourceType: "visit", VisitID: uuid.New()}
	}
	run := func(b *testing.B, fn func(pgx.Tx) error) {
		for b.Loop() {
			if err := pgx.BeginFunc(ctx, pool, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("one_by_one", func(b *testing.B) {
		run(b, func(tx pgx.Tx) error {
			for _, ev := range evs {
				if err := Audit(ctx, tx, auditClinician, ev); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("batch", func(b *testing.B) {
		run(b, func(tx pgx.Tx) error { return AuditMany(ctx, tx, auditClinician, evs) })
	})
}
