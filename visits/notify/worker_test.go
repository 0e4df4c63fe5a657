package notify_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits/notify"
)

// senderFunc adapts a function to notify.Sender.
type senderFunc func(context.Context, notify.Message) error

func (f senderFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

// runWorker runs w.Run until the test ends and checks that it returns nil
// only after its context is cancelled.
func runWorker(t *testing.T, w *notify.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			select {
			case err := <-done:
				t.Errorf("Run returned early: %v", err)
				return
			default:
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v; want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	url := pgtest.NewDBURL(t)
	ctx := context.Background()
	pools := make([]*pgxpool.Pool, 2)
	for i := range pools {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools[i] = p
	}
	keys := newKeys(t, "k1")
	log, _ := newLog(t)
	g := &gateway{delay: 2 * time.Millisecond}
	_, sender := startGateway(t, g)
	visit := newVisit(t, pools[0])
	msgs := make([]notify.Message, 60)
	for i := range msgs {
		msgs[i] = smsMsg(visit)
	}
	ids := enqueue(t, pools[0], keys, msgs...)

	cfg := fastConfig()
	cfg.Batch = 4
	var perWorker [2]atomic.Int64
	for i, p := range pools {
		counting := senderFunc(func(ctx context.Context, m notify.Message) error {
			perWorker[i].Add(1)
			return sender.Send(ctx, m)
		})
		runWorker(t, newWorker(t, cfg, p, keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: counting}, log))
	}
	eventually(t, "all messages", func() bool { return len(g.delivered()) == len(ids) })
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
	got := g.delivered()
	for _, id := range ids {
		if n := len(got[strconv.FormatInt(id, 10)]); n != 1 {
			t.Errorf("message %d delivered %d times", id, n)
		}
		if r := readRow(t, pools[1], id); r.Status != "sent" || r.Attempts != 1 {
			t.Errorf("row %d = %+v", id, r)
		}
	}
	if n := g.count(); n != len(ids) {
		t.Errorf("gateway saw %d requests for %d messages", n, len(ids))
	}
	for i := range perWorker {
		if perWorker[i].Load() == 0 {
			t.Errorf("worker %d sent nothing: the test did not run workers side by side", i)
		}
	}
}

// listenerPID finds the worker's LISTEN connection.
func listenerPID(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var pid int
	err := pool.QueryRow(context.Background(), `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN televisit_notify'`).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestRunWakesOnNotifyAndSurvivesListenerLoss(t *testing.T) {
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, logs := newLog(t)
	g := &gateway{}
	_, sender := startGateway(t, g)
	visit := newVisit(t, pool)
	cfg := fastConfig()
	cfg.Poll = time.Hour // only NOTIFY can wake the worker
	runWorker(t, newWorker(t, cfg, pool, keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: sender}, log))

	deliver := func(what string) {
		t.Helper()
		time.Sleep(50 * time.Millisecond) // let earlier wake-ups drain
		id := strconv.FormatInt(enqueue(t, pool, keys, smsMsg(visit))[0], 10)
		eventually(t, what, func() bool { return len(g.delivered()[id]) == 1 })
	}
	var pid int
	eventually(t, "LISTEN", func() bool { pid = listenerPID(t, pool); return pid != 0 })
	deliver("first message")
	deliver("message woken by NOTIFY")

	var ok bool
	if err := pool.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate listener: %v", err)
	}
	eventually(t, "a new LISTEN connection", func() bool { p := listenerPID(t, pool); return p != 0 && p != pid })
	deliver("message after reconnect")
	deliver("message woken by NOTIFY after reconnect")
	if !strings.Contains(logs.String(), "listener lost its connection") {
		t.Errorf("listener loss not logged: %s", logs.String())
	}
}

func TestNoSenderForChannelFails(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	m := emailMsg(newVisit(t, pool))
	m.Channel = notify.ChannelConsole
	id := enqueue(t, pool, keys, m)[0]
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{
		notify.ChannelEmail: senderFunc(func(context.Context, notify.Message) error { t.Error("sent"); return nil })}, log)
	if sent, err := w.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("RunOnce = %d, %v", sent, err)
	}
	if r := readRow(t, pool, id); r.Status != "failed" || r.LastError != "no sender configured for channel" {
		t.Fatalf("row = %+v", r)
	}
}

func TestSealedValuesAreBoundToTheirRow(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	visit := newVisit(t, pool)
	ids := enqueue(t, pool, keys, emailMsg(visit), emailMsg(visit))
	// Move one message's body to the other row and back: same visit, same
	// column, other row.
	if _, err := pool.Exec(ctx, `UPDATE notification_outbox o SET body_enc = p.body_enc
		FROM notification_outbox p WHERE o.id = $1 AND p.id = $2 OR o.id = $2 AND p.id = $1`, ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{
		notify.ChannelEmail: senderFunc(func(context.Context, notify.Message) error { t.Error("sent"); return nil })}, log)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if r := readRow(t, pool, id); r.Status != "failed" || !strings.HasPrefix(r.LastError, "decrypt:") {
			t.Errorf("row %d = %+v; want failed on decrypt", id, r)
		}
	}
}

func TestUnknownKeyIsRetried(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	log, _ := newLog(t)
	oldSpec, _ := sealbox.GenerateSpec("old")
	newSpec, _ := sealbox.GenerateSpec("new")
	oldKeys, _ := sealbox.ParseKeyring(oldSpec)
	newOnly, _ := sealbox.ParseKeyring(newSpec)
	both, err := sealbox.ParseKeyring(newSpec + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, pool, oldKeys, emailMsg(newVisit(t, pool)))[0]
	var got []notify.Message
	sender := senderFunc(func(_ context.Context, m notify.Message) error { got = append(got, m); return nil })
	senders := map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}

	if _, err := newWorker(t, fastConfig(), pool, newOnly, senders, log).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r := readRow(t, pool, id); r.Status != "pending" || r.Attempts != 1 || !strings.Contains(r.LastError, "key this process lacks") {
		t.Fatalf("row = %+v; want a retry", r)
	}
	w := newWorker(t, fastConfig(), pool, both, senders, log)
	eventually(t, "delivery with the full ring", func() bool { n, _ := w.RunOnce(ctx); return n == 1 })
	if len(got) != 1 || got[0].Recipient != patientEmail || got[0].Body != linkBody || got[0].ID != id {
		t.Fatalf("sent %+v", got)
	}
}

func TestShutdownHandsLeasedRowBack(t *testing.T) {
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	entered := make(chan struct{})
	blocking := senderFunc(func(ctx context.Context, _ notify.Message) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	})
	stop := runWorker(t, newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: blocking}, log))
	<-entered
	stop()
	if r := readRow(t, pool, id); r.Status != "pending" || r.Attempts != 0 || !r.Due || r.LastError != "" {
		t.Fatalf("row = %+v; want pending, due, attempt not counted", r)
	}
	var sent int
	ok := senderFunc(func(context.Context, notify.Message) error { sent++; return nil })
	if n, err := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: ok}, log).
		RunOnce(context.Background()); err != nil || n != 1 || sent != 1 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
}

func TestBatchStopsBeforeLeaseRunsOut(t *testing.T) {
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	visit := newVisit(t, pool)
	ids := enqueue(t, pool, keys, emailMsg(visit), emailMsg(visit), emailMsg(visit))
	slow := senderFunc(func(ctx context.Context, _ notify.Message) error {
		select {
		case <-time.After(600 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	cfg := fastConfig()
	cfg.SendTimeout, cfg.Lease = time.Second, 2*time.Second
	w := newWorker(t, cfg, pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: slow}, log)
	if n, err := w.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1 sent and the rest handed back", n, err)
	}
	if r := readRow(t, pool, ids[0]); r.Status != "sent" {
		t.Errorf("first row = %+v", r)
	}
	for _, id := range ids[1:] {
		if r := readRow(t, pool, id); r.Status != "pending" || r.Attempts != 0 || !r.Due {
			t.Errorf("row %d = %+v; want handed back", id, r)
		}
	}
}

func TestLostLeaseDoesNotOverwrite(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, logs := newLog(t)
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	taken := senderFunc(func(ctx context.Context, _ notify.Message) error {
		// Meanwhile the lease lapsed and another worker claimed the row.
		_, err := pool.Exec(ctx, "UPDATE notification_outbox SET attempts = attempts + 1 WHERE id = $1", id)
		return err
	})
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: taken}, log)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r := readRow(t, pool, id); r.Status != "pending" || r.Attempts != 2 {
		t.Fatalf("row = %+v; the stale worker overwrote its successor", r)
	}
	if !strings.Contains(logs.String(), "lease lost") {
		t.Errorf("lost lease not logged")
	}
}

func TestCrashLoopEndsAtMaxAttempts(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	// Twelve leases ran out without an outcome (the process died each time).
	if _, err := pool.Exec(ctx, "UPDATE notification_outbox SET attempts = 12 WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{
		notify.ChannelEmail: senderFunc(func(context.Context, notify.Message) error { t.Error("sent"); return nil })}, log)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r := readRow(t, pool, id); r.Status != "failed" || r.LastError != "max attempts exceeded" {
		t.Fatalf("row = %+v", r)
	}
}

func TestForeignSenderErrorsAreRedacted(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	id := enqueue(t, pool, keys, smsMsg(newVisit(t, pool)))[0]
	leaky := senderFunc(func(_ context.Context, m notify.Message) error {
		return &notify.PermanentError{Reason: "gateway: number " + m.Recipient + " (555) 555-0123 opted out; body " + m.Body}
	})
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: leaky}, log)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	r := readRow(t, pool, id)
	assertNoPHI(t, "last_error", r.LastError)
	if r.Status != "failed" || !strings.HasPrefix(r.LastError, "gateway: number [redacted]") || strings.Contains(r.LastError, "555") {
		t.Fatalf("row = %+v", r)
	}
}

func TestWorkerConfigValidation(t *testing.T) {
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	if _, err := notify.NewWorker(notify.WorkerConfig{}, pool, keys, nil, nil); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, cfg := range map[string]notify.WorkerConfig{
		"negative poll":        {Poll: -time.Second},
		"huge batch":           {Batch: 5000},
		"negative attempts":    {MaxAttempts: -1},
		"max below base":       {BaseBackoff: time.Minute, MaxBackoff: time.Second},
		"lease below 2×send":   {SendTimeout: time.Minute, Lease: time.Minute},
		"negative sendTimeout": {SendTimeout: -1},
	} {
		if _, err := notify.NewWorker(cfg, pool, keys, nil, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := notify.NewWorker(notify.WorkerConfig{}, nil, keys, nil, nil); err == nil {
		t.Error("nil pool accepted")
	}
	if _, err := notify.NewWorker(notify.WorkerConfig{}, pool, keys, map[notify.Channel]notify.Sender{"fax": notify.ConsoleSender{}}, nil); err == nil {
		t.Error("unknown channel accepted")
	}
}

func TestEnqueueRejectsBadMessages(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	visit := newVisit(t, pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for name, mutate := range map[string]func(*notify.Message){
		"no visit":          func(m *notify.Message) { m.VisitID = [16]byte{} },
		"unknown channel":   func(m *notify.Message) { m.Channel = "fax" },
		"display name":      func(m *notify.Message) { m.Recipient = "Jane <" + patientEmail + ">" },
		"not an address":    func(m *notify.Message) { m.Recipient = "jane.patient at example.org" },
		"header injection":  func(m *notify.Message) { m.Recipient = patientEmail + "\r\nBcc: x@example.org" },
		"subject injection": func(m *notify.Message) { m.Subject = "Hi\r\nBcc: x@example.org" },
		"empty body":        func(m *notify.Message) { m.Body = "" },
		"NUL in body":       func(m *notify.Message) { m.Body = "a\x00b" },
		"sms not E.164":     func(m *notify.Message) { m.Channel, m.Recipient = notify.ChannelSMS, "555-0123-jane.patient" },
	} {
		m := emailMsg(visit)
		mutate(&m)
		_, err := notify.Enqueue(ctx, tx, keys, m)
		if !errors.Is(err, notify.ErrInvalid) {
			t.Errorf("%s: err = %v; want ErrInvalid", name, err)
			continue
		}
		assertNoPHI(t, name+" error", err.Error())
	}
	if _, err := notify.Enqueue(ctx, tx, nil, emailMsg(visit)); err == nil {
		t.Error("nil keyring accepted")
	}
	if _, err := notify.Enqueue(ctx, tx, keys, smsMsg(visit)); err != nil {
		t.Errorf("valid sms: %v", err)
	}
}
