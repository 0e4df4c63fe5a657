package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/visits"
)

// TestServeRecoversRecordingSpool: a recording's spool that a crash left
// unfinished is uploaded by the next `televisit serve` at start: the
// object appears in MinIO, decodes with ffprobe, its checksum is recorded
// and the recording is stopped (reason error).
func TestServeRecoversRecordingSpool(t *testing.T) {
	ctx := context.Background()
	srv, sc := recordingMinIO(t)
	spec, err := sealbox.GenerateSpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealbox.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDBURL(t)
	pool, err := openPool(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := visits.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	svc, err := visits.NewService(visits.Config{PublicURL: "http://127.0.0.1"}, pool, keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	visit, rec := activeRecording(t, svc)

	spoolDir := t.TempDir()
	obj := uuid.New()
	path := filepath.Join(spoolDir, obj.String()+".spool")
	crashedSpool(t, path, keys, 3*time.Second)
	key := store.Key{Visit: visit, Recording: obj}
	if err := svc.AddRecordingObject(ctx, visits.SystemActor("test"), visits.RecordingObject{ID: obj, RecordingID: rec,
		ParticipantID: "patient", Key: key.String(), SpoolPath: path}); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	idp := devoidctest.StartDemo(t, "http://127.0.0.1:"+port+"/auth/callback")
	keyFile := filepath.Join(t.TempDir(), "phi")
	if err := os.WriteFile(keyFile, []byte(spec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveInProcess(t, "http://127.0.0.1:"+port, append(serveEnv(t, port, dbURL, keyFile, idp), recordingEnv(srv, spoolDir)...))

	var stored visits.RecordingObject
	deadline := time.Now().Add(60 * time.Second)
	for stored.State != "stored" {
		if time.Now().After(deadline) {
			t.Fatal("serve did not upload the crashed spool within 60s")
		}
		time.Sleep(200 * time.Millisecond)
		objs, err := svc.RecordingObjects(ctx, visits.SystemActor("test"), rec)
		if err != nil || len(objs) != 1 {
			t.Fatalf("objects: %v %+v", err, objs)
		}
		stored = objs[0]
	}
	st, err := store.Open(ctx, sc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || int64(len(body)) != stored.Size {
		t.Fatalf("object: %d bytes, %d recorded (%v)", len(body), stored.Size, err)
	}
	file := filepath.Join(t.TempDir(), "r.webm")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file).Output()
	if err != nil || !strings.Contains(string(out), "vp8") {
		t.Fatalf("ffprobe: %q %v", out, err)
	}
	r, err := svc.RecordingByID(ctx, visits.SystemActor("test"), rec)
	if err != nil || r.State != visits.RecordingStopped || r.StopReason != visits.StopError {
		t.Fatalf("recording after recovery: %v %+v", err, r)
	}
}

// activeRecording makes an in-progress visit whose recording everyone
// accepted.
func activeRecording(t *testing.T, svc *visits.Service) (visit, rec uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	clinic, err := svc.EnsureClinic(ctx, "north", "North Clinic", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	id, err := svc.EnsureStaff(ctx, "https://idp.test", "clin", "Dr Clin", []string{string(visits.RoleClinician), string(visits.RoleScheduler)}, []uuid.UUID{clinic.ID})
	if err != nil {
		t.Fatal(err)
	}
	clin := visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id,
		Roles: []visits.Role{visits.RoleClinician, visits.RoleScheduler}, ClinicIDs: []uuid.UUID{clinic.ID}}
	v, err := svc.CreateVisit(ctx, clin, visits.NewVisit{ClinicID: clinic.ID, ClinicianID: &id, StartsAt: time.Now().Add(time.Hour),
		DurationMinutes: 20, Reason: "Follow-up", Patient: visits.Patient{Name: "Ada Lovelace", DateOfBirth: "1985-12-10",
			Email: "ada@example.com", Phone: "+15555550123"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.IssueLink(ctx, clin, v.ID, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(l.URL, "#")
	ps, err := svc.VerifyPatient(ctx, visits.Actor{Kind: visits.ActorAnonymous, ID: "anonymous"}, token, "1985-12-10")
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
	r, err := svc.RequestRecording(ctx, clin, v.ID, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Consents {
		a := clin
		if c.ParticipantID == "patient" {
			a = patient
		}
		if r, err = svc.AnswerConsent(ctx, a, c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	return v.ID, r.ID
}

// crashedSpool writes d of VP8 + Opus into a spool that is sealed but
// never closed, as a crash of the recorder leaves it.
func crashedSpool(t *testing.T, path string, keys *sealbox.Keyring, d time.Duration) {
	t.Helper()
	sp, err := spool.Create(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	w, err := webm.New(sp, webm.Config{Audio: true, Video: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0x00, 0x00}
	start := time.Now()
	for at := time.Duration(0); at < d; at += 20 * time.Millisecond {
		kind, ts, payload := webm.Audio, uint32(at/time.Millisecond*48), []byte{0xfc, 0xff, 0xfe}
		if at%(40*time.Millisecond) == 0 {
			if err := w.WriteRTP(webm.Video, &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true,
				SequenceNumber: uint16(at / (40 * time.Millisecond)), Timestamp: uint32(at / time.Millisecond * 90)},
				Payload: key}, start.Add(at)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteRTP(kind, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(at / (20 * time.Millisecond)),
			Timestamp: ts}, Payload: payload}, start.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // the muxer writes from its goroutine
	if err := sp.Sync(); err != nil {
		t.Fatal(err)
	}
}
