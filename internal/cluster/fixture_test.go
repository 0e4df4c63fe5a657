package cluster

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
)

// fixture is a fresh database with a clinic, a scheduler and helpers to make
// visits (the placement's foreign key) and nodes.
type fixture struct {
	pool   *pgxpool.Pool
	svc    *visits.Service
	clinic visits.Clinic
	sched  visits.Actor
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pool: pgtest.NewDB(t)}
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	if f.svc, err = visits.NewService(visits.Config{PublicURL: "https://visits.test"}, f.pool, keys, testLogger()); err != nil {
		t.Fatal(err)
	}
	if f.clinic, err = f.svc.EnsureClinic(ctx, "north", "North Clinic", "America/New_York"); err != nil {
		t.Fatal(err)
	}
	id, err := f.svc.EnsureStaff(ctx, "https://idp.test", "sched", "Sam Scheduler",
		[]string{string(visits.RoleScheduler)}, []uuid.UUID{f.clinic.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.sched = visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id,
		Roles: []visits.Role{visits.RoleScheduler}, ClinicIDs: []uuid.UUID{f.clinic.ID},
		ClientAddr: "192.0.2.1", UserAgent: "test"}
	return f
}

func (f *fixture) visit(t *testing.T) uuid.UUID {
	t.Helper()
	v, err := f.svc.CreateVisit(context.Background(), f.sched, visits.NewVisit{
		ClinicID: f.clinic.ID, StartsAt: time.Now().Add(10 * time.Minute), DurationMinutes: 20,
		Patient: visits.Patient{Name: "Ada Lovelace", DateOfBirth: "1985-12-10", Email: "ada@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// node registers a node with a 1 s lease (heartbeat 333 ms).
func (f *fixture) node(t *testing.T, id string) *Node {
	t.Helper()
	return f.nodeURL(t, id, "http://"+id+".test:8080")
}

func (f *fixture) nodeURL(t *testing.T, id, advertise string) *Node {
	t.Helper()
	n, err := New(context.Background(), f.pool, Config{NodeID: id, AdvertiseURL: advertise, Lease: time.Second}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// expireLease ends id's lease now, as a crashed node's lease ends.
func (f *fixture) expireLease(t *testing.T, id string) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), `UPDATE cluster_nodes SET lease_until = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) owner(t *testing.T, visit uuid.UUID) (string, int64) {
	t.Helper()
	var node string
	var epoch int64
	err := f.pool.QueryRow(context.Background(), `SELECT node_id, epoch FROM room_placements WHERE visit_id = $1`, visit).Scan(&node, &epoch)
	if err != nil {
		t.Fatalf("read placement: %v", err)
	}
	return node, epoch
}

func (f *fixture) placed(t *testing.T, visit uuid.UUID) bool {
	t.Helper()
	var ok bool
	if err := f.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM room_placements WHERE visit_id = $1)`, visit).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// run starts n.Run and returns a function that stops it and waits.
func run(t *testing.T, n *Node) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// lost records OnLost calls.
type lost struct {
	ch chan lostCall
}

type lostCall struct {
	visit uuid.UUID
	owner string
	at    time.Time
}

func watchLost(n *Node) *lost {
	l := &lost{ch: make(chan lostCall, 16)}
	n.OnLost(func(v uuid.UUID, owner string) { l.ch <- lostCall{v, owner, time.Now()} })
	return l
}

func (l *lost) wait(t *testing.T, within time.Duration) lostCall {
	t.Helper()
	select {
	case c := <-l.ch:
		return c
	case <-time.After(within):
		t.Fatalf("OnLost not called within %s", within)
		return lostCall{}
	}
}

func (l *lost) none(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case c := <-l.ch:
		t.Fatalf("unexpected OnLost(%s, %q)", c.visit, c.owner)
	case <-time.After(within):
	}
}
