package pglisten

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/syncbuf"
)

func TestMain(m *testing.M) { pgtest.Main(m, nil) }

// Notifications reach OnNotify; when the database ends the listening
// connection, Run listens again (OnListen with first false, a warning in
// the log) and later notifications arrive.
func TestListenReconnects(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pool := pgtest.NewDB(t)
	var logs syncbuf.Buffer
	got := make(chan string, 16)
	listens := make(chan bool, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, pool, Config{Channel: "pglisten_test", MinBackoff: 10 * time.Millisecond,
			OnListen: func(_ context.Context, first bool) { listens <- first },
			OnNotify: func(_ context.Context, p string) { got <- p }},
			slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })

	notifyAndWait := func(payload string) {
		t.Helper()
		if _, err := pool.Exec(ctx, "SELECT pg_notify('pglisten_test', $1)", payload); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != payload {
				t.Fatalf("payload %q, want %q", p, payload)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("notification %q not delivered", payload)
		}
	}
	if first := waitListen(t, listens); !first {
		t.Fatal("the first LISTEN was not reported as first")
	}
	notifyAndWait("one")

	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN pglisten_test'`); err != nil {
		t.Fatal(err)
	}
	if first := waitListen(t, listens); first {
		t.Fatal("a reconnect was reported as the first LISTEN")
	}
	notifyAndWait("two")
	if !strings.Contains(logs.String(), "listener lost its connection") {
		t.Errorf("the lost connection was not logged: %s", logs.String())
	}
}

func waitListen(t *testing.T, listens <-chan bool) bool {
	t.Helper()
	select {
	case first := <-listens:
		return first
	case <-time.After(5 * time.Second):
		t.Fatal("no LISTEN within 5s")
		return false
	}
}
