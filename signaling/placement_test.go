package signaling

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/cluster"
)

// clusterNode registers a node on the stack's database and makes the
// stack's server place rooms through it.
func clusterNode(t *testing.T, st *stack, id string) *cluster.Node {
	t.Helper()
	n, err := cluster.New(context.Background(), st.pool, cluster.Config{NodeID: id,
		AdvertiseURL: st.ts.URL, Lease: time.Minute}, st.srv.log)
	if err != nil {
		t.Fatal(err)
	}
	st.srv.EnablePlacement(testPlacer{n})
	n.OnLost(func(visit uuid.UUID, owner string) { st.srv.RoomLost(visit, owner, MovedLeaseLost) })
	return n
}

type testPlacer struct{ n *cluster.Node }

func (p testPlacer) Place(ctx context.Context, visit uuid.UUID) (string, bool, error) {
	pl, err := p.n.Place(ctx, visit)
	return pl.Node, pl.Local, err
}

func (p testPlacer) Release(ctx context.Context, visit uuid.UUID) error {
	return p.n.Release(ctx, visit)
}

// owner is the node room_placements names for visit, or "".
func owner(t *testing.T, st *stack, visit uuid.UUID) string {
	t.Helper()
	var node string
	err := st.pool.QueryRow(context.Background(), `SELECT coalesce(max(node_id), '') FROM room_placements WHERE visit_id = $1`, visit).Scan(&node)
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// Two servers on one database: the first join places the room on its
// node; a join that reaches the other node is told to move there, with
// CloseMoved. A drain moves the room (and everyone in it) to the other
// node, and the emptied room's placement is released.
func TestJoinFollowsRoomPlacement(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.start(testConfig(), nil)
	b := w.start(testConfig(), nil)
	startMedia(t, w, a)
	startMedia(t, w, b)
	nodeA := clusterNode(t, a, "node-a")
	clusterNode(t, b, "node-b")
	_, p := w.admittedPatient(t, a, "Grace Hopper", b)

	pat := connect(t, a.ts, patientHeaders(p.token))
	pat.hello(nil)
	pat.send(map[string]any{"v": 1, "type": "join", "id": "j1"})
	pat.expect(5*time.Second, "joined on node A", func(m msg) bool { return m.Type == "joined" })
	if got := owner(t, a, p.visitID); got != "node-a" {
		t.Fatalf("room placed on %q, want node-a", got)
	}

	clin := connect(t, b.ts, staffHeaders("clin"))
	clin.hello(nil)
	clin.send(map[string]any{"v": 1, "type": "join", "id": "j1", "visit_id": p.visitID})
	code, msgs := clin.expectClose(5 * time.Second)
	if code != CloseMoved || len(msgs) == 0 || msgs[len(msgs)-1].Type != "moved" {
		t.Fatalf("join on node B: close %d after %+v; want moved then %d", code, msgs, CloseMoved)
	}
	if m := msgs[len(msgs)-1]; m.Node != "node-a" || m.Reason != MovedRoomElsewhere {
		t.Fatalf("moved: %+v", m)
	}
	if n := b.srv.LocalRooms(); n != 0 {
		t.Fatalf("node B holds %d rooms after sending the joiner away", n)
	}
	if n := b.srv.Stats().Moved[MovedRoomElsewhere]; n != 1 {
		t.Fatalf("node B counted %d room_elsewhere moves, want 1", n)
	}

	// Drain node A: the room goes to B and the patient is told to follow.
	if err := nodeA.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.srv.MoveRooms(mctx, nodeA.Move); err != nil {
		t.Fatal(err)
	}
	code, msgs = pat.expectClose(5 * time.Second)
	if code != CloseMoved || len(msgs) == 0 {
		t.Fatalf("drained patient: close %d after %+v", code, msgs)
	}
	if m := msgs[len(msgs)-1]; m.Type != "moved" || m.Node != "node-b" || m.Reason != MovedDraining {
		t.Fatalf("drained patient got %+v", m)
	}
	if got := owner(t, a, p.visitID); got != "node-b" {
		t.Fatalf("room placed on %q after the drain, want node-b", got)
	}
	if n := a.srv.LocalRooms(); n != 0 {
		t.Fatalf("node A holds %d rooms after moving them", n)
	}
	if n := a.srv.Stats().Moved[MovedDraining]; n != 1 {
		t.Fatalf("node A counted %d draining moves, want 1", n)
	}

	// The patient rejoins on B, which holds the room now; when the last
	// one leaves, B releases it.
	pat = connect(t, b.ts, patientHeaders(p.token))
	pat.hello(nil)
	pat.send(map[string]any{"v": 1, "type": "join", "id": "j2"})
	if m := pat.expect(5*time.Second, "joined on node B", func(m msg) bool { return m.Type == "joined" || m.Type == "moved" }); m.Type != "joined" {
		t.Fatalf("rejoin on node B: %+v", m)
	}
	pat.send(map[string]any{"v": 1, "type": "leave", "id": "l1"})
	eventually(t, 5*time.Second, "node B to release the emptied room", func() bool { return owner(t, b, p.visitID) == "" })
}

// A room whose placement another node takes over (this node's lease was
// judged expired) is given up here: everyone in it is told to move to the
// new owner.
func TestLostRoomMovesEveryone(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.start(testConfig(), nil)
	startMedia(t, w, a)
	nodeA := clusterNode(t, a, "node-a")
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- nodeA.Run(rctx) }()
	t.Cleanup(func() { stop(); <-done })
	_, p := w.admittedPatient(t, a, "Alan Turing")
	pat := connect(t, a.ts, patientHeaders(p.token))
	pat.hello(nil)
	pat.send(map[string]any{"v": 1, "type": "join", "id": "j1"})
	pat.expect(5*time.Second, "joined", func(m msg) bool { return m.Type == "joined" })
	clin := connect(t, a.ts, staffHeaders("clin"))
	clin.hello(nil)
	clin.send(map[string]any{"v": 1, "type": "join", "id": "j1", "visit_id": p.visitID})
	clin.expect(5*time.Second, "joined", func(m msg) bool { return m.Type == "joined" })

	// Another node takes the room over, as it would after our lease expired.
	if _, err := cluster.New(ctx, a.pool, cluster.Config{NodeID: "node-z", AdvertiseURL: "http://127.0.0.1:1", Lease: time.Minute}, a.srv.log); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, `UPDATE room_placements SET node_id = 'node-z', epoch = epoch + 1 WHERE visit_id = $1`, p.visitID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, cluster.Channel, p.visitID.String()+" node-z"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{pat, clin} {
		code, msgs := c.expectClose(5 * time.Second)
		if code != CloseMoved || len(msgs) == 0 {
			t.Fatalf("close %d after %+v", code, msgs)
		}
		if m := msgs[len(msgs)-1]; m.Type != "moved" || m.Node != "node-z" || m.Reason != MovedLeaseLost {
			t.Fatalf("got %+v, want moved to node-z (lease_lost)", m)
		}
	}
	eventually(t, 5*time.Second, "the room to close here", func() bool {
		return a.srv.LocalRooms() == 0 && a.srv.media.sfu.Room(p.visitID.String()).Len() == 0
	})
	if got := owner(t, a, p.visitID); got != "node-z" {
		t.Fatalf("placement %q after the loss, want node-z untouched", got)
	}
}

// A room whose participants all dropped (their places wait out the resume
// grace) still holds its place here but is not a connected room: a drain
// does not wait for it.
func TestConnectedRoomsLeaveOutDroppedPlaces(t *testing.T) {
	w := newWorld(t)
	a := w.start(testConfig(), nil)
	startMedia(t, w, a)
	clusterNode(t, a, "node-a")
	_, p := w.admittedPatient(t, a, "Mary Jackson")
	pat := connect(t, a.ts, patientHeaders(p.token))
	pat.hello(nil)
	pat.send(map[string]any{"v": 1, "type": "join", "id": "j1"})
	pat.expect(5*time.Second, "joined", func(m msg) bool { return m.Type == "joined" })
	if got := a.srv.ConnectedRooms(); got != 1 {
		t.Fatalf("connected rooms %d, want 1", got)
	}
	pat.conn.Close()
	eventually(t, 5*time.Second, "the dropped place to stop counting", func() bool { return a.srv.ConnectedRooms() == 0 })
	if got := a.srv.LocalRooms(); got != 1 {
		t.Fatalf("local rooms %d during the resume grace, want 1", got)
	}
}
