package visits

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
)

// fixture is a service on a fresh database with two clinics and their staff.
type fixture struct {
	svc                                  *Service
	pool                                 *pgxpool.Pool
	clinic, other                        Clinic
	sched, clin, clin2, otherClin, admin Actor
	clock                                time.Time
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testKeys(t testing.TB) *sealbox.Keyring {
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pool: pgtest.NewDB(t)}
	svc, err := NewService(Config{PublicURL: "https://visits.test"}, f.pool, testKeys(t), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	if f.clinic, err = svc.EnsureClinic(ctx, "north", "North Clinic", "America/New_York"); err != nil {
		t.Fatal(err)
	}
	if f.other, err = svc.EnsureClinic(ctx, "south", "South Clinic", "America/Chicago"); err != nil {
		t.Fatal(err)
	}
	f.sched = f.staff(t, "sched", RoleScheduler, f.clinic)
	f.clin = f.staff(t, "clin", RoleClinician, f.clinic)
	f.clin2 = f.staff(t, "clin2", RoleClinician, f.clinic)
	f.otherClin = f.staff(t, "other", RoleClinician, f.other)
	f.admin = f.staff(t, "admin", RoleAdmin)
	return f
}

func (f *fixture) staff(t testing.TB, subject string, role Role, clinics ...Clinic) Actor {
	t.Helper()
	ids := make([]uuid.UUID, len(clinics))
	for i, c := range clinics {
		ids[i] = c.ID
	}
	id, err := f.svc.EnsureStaff(context.Background(), "https://idp.test", subject, "Dr "+subject, []string{string(role)}, ids)
	if err != nil {
		t.Fatal(err)
	}
	return Actor{Kind: ActorStaff, ID: id.String(), StaffID: id, Roles: []Role{role}, ClinicIDs: ids,
		ClientAddr: "192.0.2.1", UserAgent: "test"}
}

// setClock fixes the service's clock at t.
func (f *fixture) setClock(at time.Time) {
	f.clock = at
	f.svc.SetClock(func() time.Time { return f.clock })
}

func (f *fixture) newVisit(t testing.TB, clinician *uuid.UUID) Visit {
	t.Helper()
	v, err := f.svc.CreateVisit(context.Background(), f.sched, NewVisit{
		ClinicID: f.clinic.ID, ClinicianID: clinician, StartsAt: time.Now().Add(10 * time.Minute),
		DurationMinutes: 20, Reason: "Follow-up on rash",
		Patient: Patient{Name: "Ada Lovelace", DateOfBirth: "1985-12-10", Email: "ada@example.com", Phone: "+15555550123"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// linkToken issues a link and returns its token.
func (f *fixture) linkToken(t testing.TB, visit uuid.UUID) string {
	t.Helper()
	l, err := f.svc.IssueLink(context.Background(), f.sched, visit, IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, ok := strings.Cut(l.URL, "#")
	if !ok {
		t.Fatalf("link has no token fragment")
	}
	return token
}

var anon = Actor{Kind: ActorAnonymous, ID: "anonymous", ClientAddr: "198.51.100.7"}

// checkedIn takes a visit through the link, the knowledge check and
// check-in, and returns the patient's actor.
func (f *fixture) checkedIn(t testing.TB, visit uuid.UUID) Actor {
	t.Helper()
	ctx := context.Background()
	ps, err := f.svc.VerifyPatient(ctx, anon, f.linkToken(t, visit), "1985-12-10")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticatePatient(ctx, ps.Token, "198.51.100.7", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckIn(ctx, p, goodCheckIn); err != nil {
		t.Fatal(err)
	}
	return p
}

var goodCheckIn = CheckIn{LocationState: "NY", RecordingConsent: "yes",
	DeviceTest: DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"}}

func ptr[T any](v T) *T { return &v }
