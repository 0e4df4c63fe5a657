package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestPlaceConcurrentExactlyOneOwner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	for i := 0; i < 10; i++ {
		v := f.visit(t)
		var pa, pb Placement
		var ea, eb error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; pa, ea = a.Place(ctx, v) }()
		go func() { defer wg.Done(); <-start; pb, eb = b.Place(ctx, v) }()
		close(start)
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatalf("Place: %v, %v", ea, eb)
		}
		if pa.Node != pb.Node || pa.Local == pb.Local || pa.Epoch != 1 || pb.Epoch != 1 {
			t.Fatalf("placements disagree: a=%+v b=%+v", pa, pb)
		}
		if owner, epoch := f.owner(t, v); owner != pa.Node || epoch != 1 {
			t.Fatalf("row names %s epoch %d, placements %+v", owner, epoch, pa)
		}
	}
}

func TestPlaceKeepsLiveOwner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	v := f.visit(t)
	if p, err := a.Place(ctx, v); err != nil || p != (Placement{Node: "node-a", Local: true, Epoch: 1}) {
		t.Fatalf("a.Place = %+v, %v", p, err)
	}
	if p, err := b.Place(ctx, v); err != nil || p != (Placement{Node: "node-a", Local: false, Epoch: 1}) {
		t.Fatalf("b.Place = %+v, %v", p, err)
	}
	if p, err := a.Place(ctx, v); err != nil || p != (Placement{Node: "node-a", Local: true, Epoch: 1}) {
		t.Fatalf("a.Place again = %+v, %v", p, err)
	}
}

func TestPlaceExpiredLeaseTakesOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	f.expireLease(t, "node-a")
	p, err := b.Place(ctx, v)
	if err != nil || p != (Placement{Node: "node-b", Local: true, Epoch: 2}) {
		t.Fatalf("b.Place after a's lease expired = %+v, %v", p, err)
	}
	if owner, epoch := f.owner(t, v); owner != "node-b" || epoch != 2 {
		t.Fatalf("row = %s/%d, want node-b/2", owner, epoch)
	}
	// a comes back: the room stays with b.
	if _, err := New(ctx, f.pool, a.Config(), testLogger()); err != nil {
		t.Fatal(err)
	}
	if p, err := a.Place(ctx, v); err != nil || p != (Placement{Node: "node-b", Local: false, Epoch: 2}) {
		t.Fatalf("a.Place after take-over = %+v, %v", p, err)
	}
}

func TestDrainingNodePlacesElsewhere(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b, c := f.node(t, "node-a"), f.node(t, "node-b"), f.node(t, "node-c")
	if _, err := b.Place(ctx, f.visit(t)); err != nil { // b now has one room, c none
		t.Fatal(err)
	}
	if a.Draining() {
		t.Fatal("new node is draining")
	}
	if err := a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.Draining() {
		t.Fatal("Draining() false after Drain")
	}
	var draining bool
	if err := f.pool.QueryRow(ctx, `SELECT draining FROM cluster_nodes WHERE id = 'node-a'`).Scan(&draining); err != nil || !draining {
		t.Fatalf("db draining = %v, %v", draining, err)
	}
	v := f.visit(t)
	if p, err := a.Place(ctx, v); err != nil || p != (Placement{Node: "node-c", Local: false, Epoch: 1}) {
		t.Fatalf("draining a.Place = %+v, %v; want node-c (fewest rooms)", p, err)
	}
	if p, err := c.Place(ctx, v); err != nil || p != (Placement{Node: "node-c", Local: true, Epoch: 1}) {
		t.Fatalf("c.Place = %+v, %v", p, err)
	}
	if len(a.Held()) != 0 {
		t.Fatalf("draining node holds %v", a.Held())
	}
}

func TestDrainingAloneStillPlaces(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	if err := a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	f.node(t, "node-c")
	f.expireLease(t, "node-c")
	p, err := a.Place(ctx, f.visit(t))
	if err != nil || p != (Placement{Node: "node-a", Local: true, Epoch: 1}) {
		t.Fatalf("a.Place with no live non-draining node = %+v, %v; want a itself", p, err)
	}
}

func TestReleaseOnlyByOwner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.node(t, "node-a"), f.node(t, "node-b")
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, v); err != nil {
		t.Fatal(err)
	}
	if !f.placed(t, v) {
		t.Fatal("b released a's room")
	}
	if err := a.Release(ctx, v); err != nil {
		t.Fatal(err)
	}
	if f.placed(t, v) {
		t.Fatal("placement still there after the owner's Release")
	}
	if err := a.Release(ctx, v); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if len(a.Held()) != 0 {
		t.Fatalf("a still holds %v", a.Held())
	}
}

func TestMovePicksLiveNonDrainingNodeWithFewestRooms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b, c := f.node(t, "node-a"), f.node(t, "node-b"), f.node(t, "node-c")
	d, _ := f.node(t, "node-d"), f.node(t, "node-e")
	for _, n := range []*Node{b, b, c} {
		if _, err := n.Place(ctx, f.visit(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Drain(ctx); err != nil { // d: no rooms but draining
		t.Fatal(err)
	}
	f.expireLease(t, "node-e") // e: no rooms but dead
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := a.Move(ctx, v)
	if err != nil || got != "node-c" {
		t.Fatalf("Move = %q, %v; want node-c", got, err)
	}
	if owner, epoch := f.owner(t, v); owner != "node-c" || epoch != 2 {
		t.Fatalf("row = %s/%d, want node-c/2", owner, epoch)
	}
	if len(a.Held()) != 0 {
		t.Fatalf("a still holds %v after Move", a.Held())
	}
	if _, err := a.Move(ctx, v); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Move of a room placed elsewhere: %v, want ErrNotOwner", err)
	}
	if _, err := a.Move(ctx, f.visit(t)); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Move of an unplaced room: %v, want ErrNotOwner", err)
	}
}

func TestMoveWithNoOtherNodeDeletesPlacement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.node(t, "node-a")
	f.node(t, "node-b")
	f.expireLease(t, "node-b")
	v := f.visit(t)
	if _, err := a.Place(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := a.Move(ctx, v)
	if err != nil || got != "" {
		t.Fatalf("Move = %q, %v; want \"\"", got, err)
	}
	if f.placed(t, v) {
		t.Fatal("placement kept")
	}
}
