package visits

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func waitEvent(t *testing.T, ch <-chan Event, kind string) Event {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 1 s", kind)
		}
	}
}

// waitListening waits until a LISTEN session is registered on the database.
func waitListening(t *testing.T, f *fixture) {
	t.Helper()
	for i := 0; i < 200; i++ {
		var n int
		f.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&n)
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("hub never started listening")
}

// A change made through one process's pool reaches a hub on another pool
// (another televisit process) within a second.
func TestHubSeesChangesFromAnotherProcess(t *testing.T) {
	f := newFixture(t)
	other, err := pgxpool.New(context.Background(), f.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	hub := NewHub(other, testLogger())
	events, stop := hub.Subscribe()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	waitListening(t, f)

	v := f.newVisit(t, nil)
	f.checkedIn(t, v.ID)
	ev := waitEvent(t, events, "patient.check_in")
	if ev.VisitID != v.ID || ev.ClinicID != f.clinic.ID || ev.Status != StatusWaiting {
		t.Fatalf("event %+v", ev)
	}
}
