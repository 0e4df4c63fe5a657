package notify_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/notify"
)

func TestMain(m *testing.M) { pgtest.Main(m, visits.Migrate) }

// Test PHI. Every test checks that none of it reaches logs or last_error.
const (
	patientEmail = "jane.patient@example.org"
	patientPhone = "+15555550123"
	linkToken    = "tok_SECRET_7f3a9c2e"
	linkBody     = "Your video visit is today at 3 PM.\nJoin: https://tv.example.org/join#" + linkToken + "\nThis link is personal."
)

func newKeys(t testing.TB, id string) *sealbox.Keyring {
	t.Helper()
	spec, err := sealbox.GenerateSpec(id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newVisit inserts the clinic and visit rows an outbox row refers to.
func newVisit(t testing.TB, pool *pgxpool.Pool) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var clinic, visit uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO clinics (slug, name) VALUES ($1, 'Test clinic') RETURNING id`,
		"c-"+uuid.NewString()[:8]).Scan(&clinic); err != nil {
		t.Fatalf("insert clinic: %v", err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO visits (clinic_id, starts_at, duration_minutes,
		patient_name_enc, patient_dob_enc, patient_contact_enc, created_by)
		VALUES ($1, now(), 30, '\x00', '\x00', '\x00', 'test') RETURNING id`, clinic).Scan(&visit); err != nil {
		t.Fatalf("insert visit: %v", err)
	}
	return visit
}

// enqueue commits the messages in one transaction and returns their ids.
func enqueue(t testing.TB, pool *pgxpool.Pool, keys *sealbox.Keyring, msgs ...notify.Message) []int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var ids []int64
	for _, m := range msgs {
		id, err := notify.Enqueue(ctx, tx, keys, m)
		if err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

func emailMsg(visit uuid.UUID) notify.Message {
	return notify.Message{VisitID: visit, Channel: notify.ChannelEmail, Recipient: patientEmail,
		Subject: "Your video visit with Test clinic", Body: linkBody}
}

func smsMsg(visit uuid.UUID) notify.Message {
	return notify.Message{VisitID: visit, Channel: notify.ChannelSMS, Recipient: patientPhone, Body: linkBody}
}

type outboxRow struct {
	Status    string
	Attempts  int
	LastError string
	Sent      bool
	Due       bool // next_attempt_at <= now()
}

func readRow(t testing.TB, pool *pgxpool.Pool, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := pool.QueryRow(context.Background(), `SELECT status, attempts, last_error, sent_at IS NOT NULL,
		next_attempt_at <= now() FROM notification_outbox WHERE id = $1`, id).
		Scan(&r.Status, &r.Attempts, &r.LastError, &r.Sent, &r.Due)
	if err != nil {
		t.Fatalf("read outbox row %d: %v", id, err)
	}
	return r
}

// fastConfig keeps retries and polls short so that tests do not sleep.
func fastConfig() notify.WorkerConfig {
	return notify.WorkerConfig{Poll: 20 * time.Millisecond, BaseBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond, SendTimeout: 5 * time.Second}
}

func newWorker(t testing.TB, cfg notify.WorkerConfig, pool *pgxpool.Pool, keys *sealbox.Keyring,
	senders map[notify.Channel]notify.Sender, log *slog.Logger) *notify.Worker {
	t.Helper()
	w, err := notify.NewWorker(cfg, pool, keys, senders, log)
	if err != nil {
		t.Fatalf("new worker: %v", err)
	}
	return w
}

// logBuffer collects output written from many goroutines.
type logBuffer = syncbuf.Buffer

// newLog returns a debug-level logger whose output is checked for PHI when
// the test ends.
func newLog(t testing.TB) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	t.Cleanup(func() { assertNoPHI(t, "log", b.String()) })
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func assertNoPHI(t testing.TB, where, s string) {
	t.Helper()
	for _, phi := range []string{patientEmail, "jane.patient", patientPhone, "5555550123", linkToken} {
		if strings.Contains(s, phi) {
			t.Errorf("%s contains PHI %q: %s", where, phi, s)
		}
	}
}

// eventually polls cond every 5ms until it holds or 10s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
