package main

// Server and object checks of the recording consent test
// (recording_consent_e2e_test.go): televisit recording to a real MinIO,
// and what its objects hold, asked of MinIO, the database, ffprobe and
// ffmpeg.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// recServer is a running televisit that records to MinIO.
type recServer struct {
	*consoleServer
	minio *miniotest.Server
	store *store.Store
}

// startRecordingServer starts MinIO, creates the bucket (object lock,
// governance retention) and serves televisit with the media settings of
// startSeededServer plus the recording section, then seeds the demo clinic.
func startRecordingServer(t *testing.T) *recServer {
	t.Helper()
	mio, sc := recordingMinIO(t)
	st, err := store.Open(context.Background(), sc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cs := startServer(t, serverOptions{env: recordingEnv(mio, t.TempDir())})
	return &recServer{consoleServer: cs, minio: mio, store: st}
}

// checkRecordedObjects: the recording stopped as withdrawn, and each
// consenting participant (the patient, the clinician) has a stored WebM.
func checkRecordedObjects(t *testing.T, srv *recServer, visit, recID uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	sys := visits.SystemActor("test")
	rec, err := srv.svc.RecordingByID(ctx, sys, recID)
	if err != nil || rec.VisitID != visit || rec.StopReason != visits.StopWithdrawn || rec.StartedAt == nil || rec.StoppedAt == nil {
		t.Fatalf("recording %v: %+v", err, rec)
	}
	recorded := rec.StoppedAt.Sub(*rec.StartedAt)
	objs := storedObjects(t, srv, recID, 3) // the patient's, the clinician's, the manifest
	seen := map[string]bool{}
	for _, o := range objs {
		who := o.ParticipantID
		if who == "" {
			checkManifest(t, srv, visit, recID, objs)
			continue
		}
		if strings.HasPrefix(who, "clinician:") {
			who = "clinician"
		}
		seen[who] = true
		p := probeObject(t, srv, o)
		t.Logf("%s: %d bytes, streams %v, %s long; %s recorded", who, o.Size, p.streams, p.duration.Round(time.Millisecond), recorded.Round(time.Millisecond))
		if !p.has("vp8") || !p.has("opus") {
			t.Errorf("%s: streams %v, want vp8 and opus", who, p.streams)
		}
		if diff := (p.duration - recorded).Abs(); diff > recorded/10 {
			t.Errorf("%s: the file lasts %s, the recording %s: more than 10%% apart", who, p.duration, recorded)
		}
		if p.decodeErrors != "" {
			t.Errorf("%s: ffmpeg decode errors: %s", who, tail(p.decodeErrors, 600))
		}
	}
	if !seen["patient"] || !seen["clinician"] {
		t.Errorf("objects of %v, want the patient and the clinician", seen)
	}
}

// checkManifest: the manifest lists both participants with what they
// were shown (the patient with their check-in answer), their yes, the
// patient's withdrawal, and each object with its checksum.
func checkManifest(t *testing.T, srv *recServer, visit, recID uuid.UUID, objs []visits.RecordingObject) {
	t.Helper()
	body, err := srv.store.GetManifest(context.Background(), store.Key{Visit: visit, Recording: recID})
	if err != nil {
		t.Fatal(err)
	}
	var m recording.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.RecordingID != recID || m.StopReason != visits.StopWithdrawn || len(m.Participants) != 2 {
		t.Fatalf("manifest: %s", body)
	}
	sums := map[string]string{}
	for _, o := range objs {
		sums[o.Key] = hex.EncodeToString(o.SHA256)
	}
	for _, p := range m.Participants {
		c := p.Consent
		patient := p.ParticipantID == "patient"
		if c.Answer != "yes" || c.Text != visits.ConsentText || (patient != (c.WithdrawnAt != nil)) ||
			(patient && c.CheckinAnswer != "yes") {
			t.Errorf("manifest consent of %s: %+v", p.ParticipantID, c)
		}
		if p.Object == nil || sums[p.Object.Key] != p.Object.SHA256 {
			t.Errorf("manifest object of %s: %+v, want one of %v", p.ParticipantID, p.Object, sums)
		}
	}
}

// storedObjects waits (60 s) until recording rec has n objects (its
// media and its manifest), all stored.
func storedObjects(t *testing.T, srv *recServer, rec uuid.UUID, n int) []visits.RecordingObject {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		objs, err := srv.svc.RecordingObjects(context.Background(), visits.SystemActor("test"), rec)
		done := err == nil && len(objs) == n
		for _, o := range objs {
			done = done && o.State == "stored"
		}
		if done {
			return objs
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording objects after 60s: %+v (%v), want %d stored", objs, err, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// probed is what ffprobe and ffmpeg say about one object.
type probed struct {
	streams      []string
	duration     time.Duration
	decodeErrors string
}

func (p probed) has(codec string) bool {
	for _, s := range p.streams {
		if s == codec {
			return true
		}
	}
	return false
}

// probeObject downloads o, checks its SHA-256 against the database, and
// probes it: codecs, duration (the end of the last packet: a live WebM
// has no Duration element) and a full decode.
func probeObject(t *testing.T, srv *recServer, o visits.RecordingObject) probed {
	t.Helper()
	key, err := store.ParseKey(o.Key)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := srv.store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || int64(len(body)) != o.Size {
		t.Fatalf("object %s: %d bytes, %d recorded (%v)", o.Key, len(body), o.Size, err)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], o.SHA256) {
		t.Errorf("object %s: SHA-256 %x, %x recorded", o.Key, sum, o.SHA256)
	}
	file := filepath.Join(t.TempDir(), "r.webm")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return ffprobeFile(t, file)
}

// bucketObjects counts the objects under the visit's prefix in MinIO,
// asked directly (not through the recorder's store).
func bucketObjects(t *testing.T, srv *recServer, visit uuid.UUID) int {
	t.Helper()
	c, err := minio.New(srv.minio.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.minio.AccessKey, srv.minio.SecretKey, ""),
		Secure: true, Region: miniotest.Region, Transport: &http.Transport{TLSClientConfig: srv.minio.TLSConfig()}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for o := range c.ListObjects(context.Background(), recordingBucket, minio.ListObjectsOptions{Prefix: "recordings/" + visit.String() + "/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	return n
}

// checkGuestRecordedAfterYes: the third recording has the guest's object
// too, begun only after the guest's yes.
func checkGuestRecordedAfterYes(t *testing.T, srv *recServer, recID uuid.UUID) {
	t.Helper()
	objs := storedObjects(t, srv, recID, 4) // patient, clinician, guest, manifest
	rec, err := srv.svc.RecordingByID(context.Background(), visits.SystemActor("test"), recID)
	if err != nil || rec.StopReason != visits.StopStopped {
		t.Fatalf("third recording: %v %+v", err, rec)
	}
	var guest *visits.Consent
	for i, c := range rec.Consents {
		if strings.HasPrefix(c.ParticipantID, "guest:") {
			guest = &rec.Consents[i]
		}
	}
	if guest == nil || guest.Answer != "yes" || guest.AnsweredAt == nil {
		t.Fatalf("guest consent: %+v", rec.Consents)
	}
	for _, o := range objs {
		if o.ParticipantID == guest.ParticipantID {
			if o.StartedAt.Before(*guest.AnsweredAt) {
				t.Errorf("the guest's object began at %s, before their yes at %s", o.StartedAt, guest.AnsweredAt)
			}
			return
		}
	}
	t.Errorf("no object of the guest among %+v", objs)
}

// ffprobeFile asks Debian's ffprobe for the streams and packets of a
// recorded file (the duration is the end of the last packet: a WebM
// written live has no Duration element) and decodes every frame with
// ffmpeg, keeping what it reports at level error (a corrupt frame, a
// broken container).
func ffprobeFile(t *testing.T, path string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_entries",
		"stream=index,codec_name:packet=stream_index,pts_time,duration_time", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var raw struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			PTS      string `json:"pts_time"`
			Duration string `json:"duration_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	var p probed
	for _, s := range raw.Streams {
		p.streams = append(p.streams, s.CodecName)
	}
	for _, pk := range raw.Packets {
		end := time.Duration((seconds(pk.PTS) + seconds(pk.Duration)) * float64(time.Second))
		p.duration = max(p.duration, end)
	}
	// The decoded video keeps the file's millisecond times: at ffmpeg's
	// default (1/frame rate) two frames of a variable-rate camera closer
	// than one frame period would collide, and ffmpeg reports that as an
	// error of its output, not of the file.
	dec, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", path,
		"-fps_mode", "passthrough", "-enc_time_base:v", "1:1000", "-f", "null", "-").CombinedOutput()
	p.decodeErrors = strings.TrimSpace(string(dec))
	if err != nil && p.decodeErrors == "" {
		p.decodeErrors = err.Error()
	}
	return p
}

func seconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}
