package signaling

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/syncbuf"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/visits"
)

const testOrigin = "https://app.televisit.test"

// syncBuffer collects output written from many goroutines.
type syncBuffer = syncbuf.Buffer

// world is one test database with its clinic data, seen by one or more
// televisit "processes" (stacks).
type world struct {
	t     *testing.T
	dbURL string
	keys  *sealbox.Keyring
	logs  *syncBuffer
	log   *slog.Logger
	names []string // patient names: PHI that must never reach the logs
}

// stack is one process: its own pool, service, hub and WebSocket server.
type stack struct {
	pool *pgxpool.Pool
	svc  *visits.Service
	hub  *visits.Hub
	auth *testAuth
	srv  *Server
	ts   *httptest.Server
}

func newWorld(t *testing.T) *world {
	t.Helper()
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, dbURL: pgtest.NewDBURL(t), keys: keys, logs: &syncBuffer{}}
	w.log = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(w.checkLogs)
	return w
}

// checkLogs fails the test if a patient's name reached the logs and shows
// the logs of a failed test.
func (w *world) checkLogs() {
	logs := w.logs.String()
	for _, n := range w.names {
		if strings.Contains(logs, n) {
			w.t.Errorf("a patient name reached the logs")
		}
	}
	if w.t.Failed() {
		w.t.Logf("server logs:\n%s", logs)
	}
}

// testConfig is small enough for tests to see timeouts happen.
func testConfig() Config {
	return Config{AllowedOrigins: []string{testOrigin}, ReauthInterval: 30 * time.Second}
}

// start runs a process on the world's database; with ts nil it makes a
// plain httptest server.
func (w *world) start(cfg Config, ts *httptest.Server) *stack {
	t := w.t
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	svc, err := visits.NewService(visits.Config{PublicURL: "http://127.0.0.1"}, pool, w.keys, w.log)
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{pool: pool, svc: svc, hub: visits.NewHub(pool, w.log), auth: newTestAuth(svc)}
	runHub(t, st)
	if st.srv, err = NewServer(cfg, st.auth, svc, st.hub, w.log); err != nil {
		t.Fatal(err)
	}
	if ts == nil {
		ts = httptest.NewUnstartedServer(nil)
	}
	ts.Config.Handler = st.srv
	ts.Start()
	st.ts = ts
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := st.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return st
}

// runHub runs the stack's hub for the test and waits until it listens: a
// notification sent through the database must come back through it.
func runHub(t *testing.T, st *stack) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = st.hub.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	events, unsubscribe := st.hub.Subscribe()
	defer unsubscribe()
	probe := uuid.New()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := st.pool.Exec(ctx, "SELECT pg_notify($1, $2)", visits.EventChannel,
			`{"kind":"test.probe","visit_id":"`+probe.String()+`"}`); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.VisitID == probe {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatal("the hub never started listening")
		}
	}
}

// clinicSetup is a clinic with a clinician and a scheduler.
type clinicSetup struct {
	clinic    visits.Clinic
	clinician visits.Actor
	scheduler visits.Actor
}

func staffActor(id uuid.UUID, role visits.Role, clinics ...uuid.UUID) visits.Actor {
	return visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id, Roles: []visits.Role{role},
		ClinicIDs: clinics, ClientAddr: "127.0.0.1", UserAgent: "signaling-test"}
}

func (st *stack) newClinic(t *testing.T, slug string) clinicSetup {
	t.Helper()
	ctx := context.Background()
	c, err := st.svc.EnsureClinic(ctx, slug, "Clinic "+slug, "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cid, err := st.svc.EnsureStaff(ctx, "https://idp.test", "clin-"+slug, "Clinician "+slug, []string{"clinician"}, []uuid.UUID{c.ID})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := st.svc.EnsureStaff(ctx, "https://idp.test", "sched-"+slug, "Scheduler "+slug, []string{"scheduler"}, []uuid.UUID{c.ID})
	if err != nil {
		t.Fatal(err)
	}
	return clinicSetup{clinic: c, clinician: staffActor(cid, visits.RoleClinician, c.ID),
		scheduler: staffActor(sid, visits.RoleScheduler, c.ID)}
}

// patient is a patient with a verified session for one visit.
type patient struct {
	visitID  uuid.UUID
	link     string // link token
	token    string // session token (the cookie)
	actor    visits.Actor
	clinicID uuid.UUID
}

const testDOB = "1980-02-03"

var anonymous = visits.Actor{Kind: visits.ActorAnonymous, ID: "signaling-test", ClientAddr: "127.0.0.1"}

// newVisit creates a visit with a fresh link and returns the link token.
func (w *world) newVisit(t *testing.T, st *stack, cs clinicSetup, name string) (uuid.UUID, string) {
	t.Helper()
	ctx := context.Background()
	w.names = append(w.names, name)
	v, err := st.svc.CreateVisit(ctx, cs.scheduler, visits.NewVisit{ClinicID: cs.clinic.ID,
		StartsAt: time.Now().Add(5 * time.Minute), DurationMinutes: 30,
		Patient: visits.Patient{Name: name, DateOfBirth: testDOB}})
	if err != nil {
		t.Fatal(err)
	}
	link, err := st.svc.IssueLink(ctx, cs.scheduler, v.ID, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(link.URL, "#")
	return v.ID, token
}

func (w *world) newPatient(t *testing.T, st *stack, cs clinicSetup, name string) patient {
	t.Helper()
	ctx := context.Background()
	id, link := w.newVisit(t, st, cs, name)
	ps, err := st.svc.VerifyPatient(ctx, anonymous, link, testDOB)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.svc.AuthenticatePatient(ctx, ps.Token, "127.0.0.1", "signaling-test")
	if err != nil {
		t.Fatal(err)
	}
	return patient{visitID: id, link: link, token: ps.Token, actor: a, clinicID: cs.clinic.ID}
}

// admittedPatient sets up a clinic whose clinician signs in as "clin" on
// every stack given, and a patient of it who checked in and was admitted.
func (w *world) admittedPatient(t *testing.T, st *stack, name string, also ...*stack) (clinicSetup, patient) {
	t.Helper()
	cs := st.newClinic(t, "north")
	for _, s := range append([]*stack{st}, also...) {
		s.auth.addStaff("clin", cs.clinician)
	}
	p := w.newPatient(t, st, cs, name)
	checkIn(t, st, p)
	if _, err := st.svc.Admit(context.Background(), cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	return cs, p
}

func checkIn(t *testing.T, st *stack, p patient) {
	t.Helper()
	_, err := st.svc.CheckIn(context.Background(), p.actor, visits.CheckIn{LocationState: "NY",
		DeviceTest:       visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"},
		RecordingConsent: "yes"})
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
