package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// waitListening waits until a backend LISTENs on Channel.
func (f *fixture) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN '||$1::text`, Channel).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no listener on " + Channel)
}

func TestOnLostWhenAnotherNodeTakesOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A 60 s lease: a's first renewal is 20 s away, so expiring it by hand
	// below stays expired for the whole test.
	a, err := New(ctx, f.pool, Config{NodeID: "node-a", AdvertiseURL: "http://a.test", Lease: time.Minute}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	b := f.node(t, "node-b")
	lostA := watchLost(a)
	v, kept := f.visit(t), f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Place(ctx, kept); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	f.waitListening(t)
	f.expireLease(t, "node-a")
	start := time.Now()
	if p, err := b.Place(ctx, v); err != nil || !p.Local || p.Epoch != 2 {
		t.Fatalf("b.Place = %+v, %v", p, err)
	}
	c := lostA.wait(t, time.Second)
	if c.visit != v || c.owner != "node-b" {
		t.Fatalf("OnLost(%s, %q), want (%s, node-b)", c.visit, c.owner, v)
	}
	t.Logf("OnLost %s after the take-over", c.at.Sub(start))
	lostA.none(t, 300*time.Millisecond)
	if held := a.Held(); len(held) != 1 || held[0] != kept {
		t.Fatalf("a holds %v, want only %s", held, kept)
	}
}

func TestOnLostWhenPlacementVanishes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.node(t, "node-a")
	lostA := watchLost(a)
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	if _, err := f.pool.Exec(ctx, `DELETE FROM room_placements WHERE visit_id = $1`, v); err != nil {
		t.Fatal(err)
	}
	if c := lostA.wait(t, 2*time.Second); c.visit != v || c.owner != "" {
		t.Fatalf("OnLost(%s, %q), want (%s, \"\")", c.visit, c.owner, v)
	}
}

func TestNoOnLostForOwnMoveOrRelease(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.node(t, "node-a")
	f.node(t, "node-b")
	lostA := watchLost(a)
	moved, released := f.visit(t), f.visit(t)
	if _, err := a.Place(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Place(ctx, released); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	f.waitListening(t)
	if to, err := a.Move(ctx, moved); err != nil || to != "node-b" {
		t.Fatalf("Move = %q, %v", to, err)
	}
	if err := a.Release(ctx, released); err != nil {
		t.Fatal(err)
	}
	lostA.none(t, time.Second) // a heartbeat (333 ms) reconciles meanwhile
}

// Stalled renewals (a database outage) keep the rooms; once renewals go
// through again, a room another node took over meanwhile is reported lost
// and the other stays.
func TestLeaseRenewalFailureKeepsRooms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.node(t, "node-a") // 1 s lease, renewal every 333 ms
	f.node(t, "node-b")
	lostA := watchLost(a)
	v1, v2 := f.visit(t), f.visit(t)
	if _, err := a.Place(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Place(ctx, v2); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	time.Sleep(500 * time.Millisecond) // at least one renewal succeeds
	lostA.none(t, 0)
	// Stall the renewals: hold a's row lock, as a stuck database would.
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM cluster_nodes WHERE id = 'node-a' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	lostA.none(t, 2*time.Second) // twice the lease: nothing is given up
	// Meanwhile a's lease ran out and b took v1 over.
	if _, err := f.pool.Exec(ctx, `UPDATE room_placements SET node_id = 'node-b', epoch = epoch + 1 WHERE visit_id = $1`, v1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	c := lostA.wait(t, 3*time.Second)
	if c.visit != v1 || c.owner != "node-b" {
		t.Fatalf("OnLost(%v, %q), want v1 lost to node-b", c.visit, c.owner)
	}
	lostA.none(t, 700*time.Millisecond)
	if held := a.Held(); len(held) != 1 || held[0] != v2 {
		t.Fatalf("a holds %v, want only v2", held)
	}
}

func TestRunEndExpiresLease(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	stop := run(t, a)
	time.Sleep(400 * time.Millisecond)
	var alive bool
	if err := f.pool.QueryRow(ctx, `SELECT lease_until > now() FROM cluster_nodes WHERE id = 'node-a'`).Scan(&alive); err != nil || !alive {
		t.Fatalf("lease alive while running = %v, %v", alive, err)
	}
	stop()
	if err := f.pool.QueryRow(ctx, `SELECT lease_until > now() FROM cluster_nodes WHERE id = 'node-a'`).Scan(&alive); err != nil || alive {
		t.Fatalf("lease alive after Run ended = %v, %v", alive, err)
	}
	if p, err := b.Place(ctx, v); err != nil || p != (Placement{Node: "node-b", Local: true, Epoch: 2}) {
		t.Fatalf("b.Place after a stopped = %+v, %v; want an immediate take-over", p, err)
	}
}

// A node whose row was forgotten registers again at its next heartbeat,
// with no rooms; New forgets nodes gone for more than a day.
func TestForgottenNodeRegistersAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.node(t, "node-a")
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	lost := make(chan uuid.UUID, 1)
	a.OnLost(func(visit uuid.UUID, _ string) { lost <- visit })
	stop := run(t, a)
	defer stop()
	if _, err := f.pool.Exec(ctx, `DELETE FROM cluster_nodes WHERE id = 'node-a'`); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-lost:
		if got != v {
			t.Fatalf("lost %v, want %v", got, v)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the room of a forgotten node was not reported lost")
	}
	// The room may be reported lost (its placement went with the row)
	// before the heartbeat that registers the node again.
	deadline := time.Now().Add(3 * time.Second)
	for {
		var alive bool
		err := f.pool.QueryRow(ctx, `SELECT lease_until > now() FROM cluster_nodes WHERE id = 'node-a'`).Scan(&alive)
		if err == nil && alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node-a registered again = %v, %v", alive, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if _, err := f.pool.Exec(ctx, `INSERT INTO cluster_nodes (id, advertise_url, lease_until) VALUES
		('old', 'http://old.test:8080', now() - interval '25 hours'), ('recent', 'http://recent.test:8080', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	f.node(t, "node-b")
	var ids []string
	rows, err := f.pool.Query(ctx, `SELECT id FROM cluster_nodes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if got := strings.Join(ids, ","); got != "node-a,node-b,recent" {
		t.Fatalf("nodes after New = %s, want node-a,node-b,recent", got)
	}
}
