package recording

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

func TestMain(m *testing.M) { pgtest.Main(m, visits.Migrate) }

// recFixture is a visit in progress with a real visits service, MinIO
// store and SFU, and a recorder Manager.
type recFixture struct {
	svc      *visits.Service
	srv      *miniotest.Server
	st       *store.Store
	ring     *sealbox.Keyring
	sfu      *sfu.SFU
	m        *Manager
	spoolDir string
	visit    uuid.UUID
	clin     visits.Actor
	patient  visits.Actor
	log      *slog.Logger
	logs     *lockedBuffer
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newRecFixture(t *testing.T) *recFixture {
	t.Helper()
	ctx := context.Background()
	f := &recFixture{logs: &lockedBuffer{}}
	f.log = slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, f.logs), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := miniotest.Start(t)
	f.srv = srv
	cfg := store.Config{Endpoint: srv.Endpoint, Region: miniotest.Region, Bucket: "recordings",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CAFile: srv.CAFile,
		SSE: store.SSEKMS, KMSKeyID: miniotest.KMSKeyName, RetentionMode: store.Governance, RetentionDays: 1,
		PartSize: store.MinPartSize, MaxRetries: 1}
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.st, err = store.Open(ctx, cfg, f.log); err != nil {
		t.Fatal(err)
	}
	spec, _ := sealbox.GenerateSpec("rec1")
	if f.ring, err = sealbox.ParseKeyring(spec); err != nil {
		t.Fatal(err)
	}
	if f.svc, err = visits.NewService(visits.Config{PublicURL: "https://visits.test"}, pgtest.NewDB(t), f.ring, f.log); err != nil {
		t.Fatal(err)
	}
	if f.sfu, err = sfu.New(sfu.Config{IncludeLoopback: true}, f.log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.sfu.Close() })
	f.visit, f.clin, f.patient = inProgressVisit(t, f.svc)
	f.spoolDir = t.TempDir()
	f.m = f.newManager(t)
	return f
}

func (f *recFixture) newManager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewManager(Config{SpoolDir: f.spoolDir, FlushEvery: 100 * time.Millisecond,
		Upload: UploadConfig{Poll: 20 * time.Millisecond, RetryMin: 100 * time.Millisecond, RetryMax: time.Second}},
		f.sfu, f.st, f.svc, f.ring, f.log)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// clinicRetention sets the visit's clinic's retention policy (as an
// admin) and has the manager follow it.
func (f *recFixture) clinicRetention(t *testing.T, mode string, days int) {
	t.Helper()
	ctx := context.Background()
	recs, err := visits.NewRecordings(visits.RecordingsConfig{}, f.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	clinic := f.clin.ClinicIDs[0]
	id, err := f.svc.EnsureStaff(ctx, "https://idp.test", "admin", "Admin", []string{string(visits.RoleAdmin)}, []uuid.UUID{clinic})
	if err != nil {
		t.Fatal(err)
	}
	admin := visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id, Roles: []visits.Role{visits.RoleAdmin}, ClinicIDs: []uuid.UUID{clinic}}
	if _, err := recs.SetRecordingRetention(ctx, admin, clinic, visits.RecordingRetentionSettings{Mode: mode, Days: days}); err != nil {
		t.Fatal(err)
	}
	f.m.SetRetentionPolicy(recs)
}

// inProgressVisit makes a clinic, a clinician and a visit the patient has
// checked in to (consenting to recording at check-in) and been admitted to.
func inProgressVisit(t *testing.T, svc *visits.Service) (uuid.UUID, visits.Actor, visits.Actor) {
	t.Helper()
	ctx := context.Background()
	clinic, err := svc.EnsureClinic(ctx, "north", "North Clinic", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	staff := func(subject string, role visits.Role) visits.Actor {
		id, err := svc.EnsureStaff(ctx, "https://idp.test", subject, "Dr "+subject, []string{string(role)}, []uuid.UUID{clinic.ID})
		if err != nil {
			t.Fatal(err)
		}
		return visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id, Roles: []visits.Role{role}, ClinicIDs: []uuid.UUID{clinic.ID}}
	}
	sched, clin := staff("sched", visits.RoleScheduler), staff("clin", visits.RoleClinician)
	v, err := svc.CreateVisit(ctx, sched, visits.NewVisit{ClinicID: clinic.ID, ClinicianID: &clin.StaffID,
		StartsAt: time.Now().Add(10 * time.Minute), DurationMinutes: 20, Reason: "Follow-up",
		Patient: visits.Patient{Name: "Ada Lovelace", DateOfBirth: "1985-12-10", Email: "ada@example.com", Phone: "+15555550123"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.IssueLink(ctx, sched, v.ID, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(l.URL, "#")
	anon := visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous"}
	ps, err := svc.VerifyPatient(ctx, anon, token, "1985-12-10")
	if err != nil {
		t.Fatal(err)
	}
	patient, err := svc.AuthenticatePatient(ctx, ps.Token, "198.51.100.7", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckIn(ctx, patient, visits.CheckIn{LocationState: "NY", RecordingConsent: "yes",
		DeviceTest: visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Admit(ctx, clin, v.ID); err != nil {
		t.Fatal(err)
	}
	return v.ID, clin, patient
}

// consented requests a recording and has everyone say yes.
func (f *recFixture) consented(t *testing.T) visits.Recording {
	t.Helper()
	ctx := context.Background()
	rec, err := f.svc.RequestRecording(ctx, f.clin, f.visit, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Consents {
		a := f.clin
		if c.ParticipantID == "patient" {
			a = f.patient
		}
		if rec, err = f.svc.AnswerConsent(ctx, a, c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	if !rec.Active() {
		t.Fatalf("recording not active: %+v", rec)
	}
	return rec
}

// taps opens a participant's audio and video on the recorder's sink, as
// the SFU does when their tracks are published.
func (f *recFixture) taps(t *testing.T, m *Manager, rec uuid.UUID, participant string) map[webm.Kind]sfu.TrackWriter {
	t.Helper()
	m.mu.Lock()
	p := m.sessions[rec].parts[participant]
	m.mu.Unlock()
	out := map[webm.Kind]sfu.TrackWriter{}
	for kind, info := range map[webm.Kind]sfu.TrackInfo{
		webm.Audio: {ParticipantID: participant, TrackID: "a", Kind: "audio", MimeType: "audio/opus", ClockRate: 48000, Channels: 2},
		webm.Video: {ParticipantID: participant, TrackID: "v", Kind: "video", MimeType: "video/VP8", ClockRate: 90000},
	} {
		w, err := p.OpenTrack(info)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = w
	}
	return out
}

var (
	mediaOnce sync.Once
	mediaPkts []mediatest.Packet
)

// media is 12 s of real VP8 + Opus packets, encoded once.
func media(t *testing.T) []mediatest.Packet {
	mediaOnce.Do(func() {
		ivf, ogg := mediatest.Encode(t, os.TempDir(), 12*time.Second)
		mediaPkts = mediatest.FromFiles(t, ivf, ogg)
	})
	return mediaPkts
}

// play sends pkts to the taps in real time until d has passed or stop is
// closed; it returns how long it played.
func play(pkts []mediatest.Packet, d time.Duration, stop <-chan struct{}, taps ...map[webm.Kind]sfu.TrackWriter) time.Duration {
	start := time.Now()
	for _, p := range pkts {
		if p.At > d {
			break
		}
		if wait := time.Until(start.Add(p.At)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-stop:
				return time.Since(start)
			}
		}
		for _, tp := range taps {
			pk := *p.RTP
			_, _ = tp[p.Kind].WriteRTP(&pk.Header, pk.Payload)
		}
	}
	return time.Since(start)
}

// object downloads a recording object and writes it to a temp file.
func (f *recFixture) object(t *testing.T, key string) ([]byte, string) {
	t.Helper()
	k, err := store.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.st.Get(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, rc); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "obj.webm")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), path
}
