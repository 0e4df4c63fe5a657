package signaling

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// recCall is a visit in progress on a real server with the SFU, a real
// recorder writing to MinIO, and Pion clients over /ws.
type recCall struct {
	t       *testing.T
	st      *stack
	cs      clinicSetup
	p       patient
	store   *store.Store
	rec     *recording.Manager
	spool   string
	clin    *wsPeer
	patient *wsPeer
}

func newRecCall(t *testing.T) *recCall {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	m := startMedia(t, w, st)
	c := &recCall{t: t, st: st, cs: st.newClinic(t, "north"), spool: t.TempDir()}
	st.auth.addStaff("clin", c.cs.clinician)
	c.p = w.newPatient(t, st, c.cs, "Rosalind Franklin")
	checkIn(t, st, c.p)
	if _, err := st.svc.Admit(ctx, c.cs.clinician, c.p.visitID); err != nil {
		t.Fatal(err)
	}
	srv := miniotest.Start(t)
	cfg := store.Config{Endpoint: srv.Endpoint, Region: miniotest.Region, Bucket: "recordings",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CAFile: srv.CAFile, SSE: store.SSEKMS,
		KMSKeyID: miniotest.KMSKeyName, RetentionMode: store.Governance, RetentionDays: 1,
		PartSize: store.MinPartSize, MaxRetries: 1}
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var err error
	if c.store, err = store.Open(ctx, cfg, w.log); err != nil {
		t.Fatal(err)
	}
	c.rec, err = recording.NewManager(recording.Config{SpoolDir: c.spool,
		Upload: recording.UploadConfig{Poll: 20 * time.Millisecond, RetryMin: 100 * time.Millisecond, RetryMax: time.Second}},
		m, c.store, st.svc, w.keys, w.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.rec.Close)
	st.srv.EnableRecording(st.svc, c.rec)
	c.clin = c.join("clinician", staffHeaders("clin"), c.p.visitID)
	return c
}

// join connects a Pion client, joins the room and publishes audio+video.
func (c *recCall) join(name string, h map[string][]string, visit uuid.UUID) *wsPeer {
	c.t.Helper()
	peer := newWSPeer(c.t, name)
	peer.connect(c.st.ts, h)
	peer.write(map[string]any{"v": 1, "type": "join", "visit_id": visit})
	peer.await("joined", 5*time.Second)
	peer.publish()
	return peer
}

func (c *recCall) joinPatient() {
	c.patient = c.join("patient", patientHeaders(c.p.token), uuid.Nil)
	flowing(c.t, c.clin, 20, 20*time.Second)
	flowing(c.t, c.patient, 20, 20*time.Second)
}

// awaitState waits for a recording_state with active == want.
func awaitState(t *testing.T, p *wsPeer, want bool, within time.Duration) peerMsg {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := p.await("recording_state", time.Until(deadline))
		if m.Active == want {
			return m
		}
	}
}

// consent answers the peer's pending consent request.
func consent(t *testing.T, p *wsPeer, answer string) peerMsg {
	t.Helper()
	req := p.await("recording_consent_request", 5*time.Second)
	if req.RequestID == "" || req.Text == "" || req.RecordingID == "" {
		t.Fatalf("%s: consent request %+v", p.name, req)
	}
	p.write(map[string]any{"v": 1, "type": "recording_consent", "request_id": req.RequestID, "answer": answer})
	return req
}

// startRecording: the clinician asks, both say yes; it returns when the
// clinician sees the recording active.
func (c *recCall) startRecording() (uuid.UUID, time.Time) {
	c.t.Helper()
	c.clin.write(map[string]any{"v": 1, "type": "recording_request"})
	preq := consent(c.t, c.patient, "yes")
	if preq.CheckinAnswer != "yes" {
		c.t.Fatalf("patient's request shows check-in answer %q", preq.CheckinAnswer)
	}
	consent(c.t, c.clin, "yes")
	m := awaitState(c.t, c.clin, true, 15*time.Second)
	awaitState(c.t, c.patient, true, 15*time.Second)
	return uuid.MustParse(m.RecordingID), time.Now()
}

// objects waits for the uploads and returns the recording's stored WebM
// objects by participant.
func (c *recCall) objects(rec uuid.UUID) map[string]visits.RecordingObject {
	c.t.Helper()
	c.rec.Wait()
	objs, err := c.st.svc.RecordingObjects(context.Background(), visits.SystemActor("test"), rec)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]visits.RecordingObject{}
	for _, o := range objs {
		if o.State != "stored" {
			c.t.Fatalf("object %s still %s", o.Key, o.State)
		}
		if o.ParticipantID != "" {
			out[o.ParticipantID] = o
		}
	}
	return out
}

// probe downloads an object, checks its SHA-256 against the database and
// returns its streams and the video's duration as ffprobe reports them.
func (c *recCall) probe(o visits.RecordingObject) ([]string, time.Duration) {
	c.t.Helper()
	k, err := store.ParseKey(o.Key)
	if err != nil {
		c.t.Fatal(err)
	}
	rc, err := c.store.Get(context.Background(), k)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		c.t.Fatal(err)
	}
	if sum := sha256.Sum256(body); string(sum[:]) != string(o.SHA256) || int64(len(body)) != o.Size {
		c.t.Fatalf("object %s differs from its recorded checksum or size", o.Key)
	}
	path := filepath.Join(c.t.TempDir(), "o.webm")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return ffprobe(c.t, path)
}

// ffprobe returns the codec names and the end of the last packet.
func ffprobe(t *testing.T, path string) ([]string, time.Duration) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_entries",
		"stream=codec_name:packet=pts_time,duration_time", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v (Debian's ffmpeg: make deps)", err)
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
		t.Fatal(err)
	}
	var names []string
	for _, s := range raw.Streams {
		names = append(names, s.CodecName)
	}
	var end float64
	for _, p := range raw.Packets {
		a, _ := strconv.ParseFloat(p.PTS, 64)
		b, _ := strconv.ParseFloat(p.Duration, 64)
		end = max(end, a+b)
	}
	if len(raw.Packets) > 0 {
		t.Logf("ffprobe: %d packets, first %s last %s", len(raw.Packets), raw.Packets[0].PTS, raw.Packets[len(raw.Packets)-1].PTS)
	}
	return names, time.Duration(end * float64(time.Second))
}

func within10(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if d := got - want; d < -want/10 || d > want/10 {
		t.Fatalf("%s: duration %v, want %v within 10%%", what, got, want)
	}
}

// TestRecordingGoClientVisit: both consent, about 5 s of media, the
// clinician stops; each participant's WebM in MinIO decodes with Opus and
// VP8 and the time recorded, and the manifest holds their SHA-256.
func TestRecordingGoClientVisit(t *testing.T) {
	c := newRecCall(t)
	c.joinPatient()
	rec, started := c.startRecording()
	time.Sleep(5 * time.Second)
	recorded := time.Since(started) // the recorder detaches after this
	c.clin.write(map[string]any{"v": 1, "type": "recording_stop"})
	for _, p := range []*wsPeer{c.clin, c.patient} {
		if m := awaitState(t, p, false, 2*time.Second); m.Reason != visits.StopStopped {
			t.Fatalf("%s: stopped state %+v", p.name, m)
		}
	}
	objs := c.objects(rec)
	if len(objs) != 2 {
		t.Fatalf("objects %v, want the patient's and the clinician's", objs)
	}
	for who, o := range objs {
		streams, d := c.probe(o)
		if !slices.Equal(streams, []string{"opus", "vp8"}) {
			t.Fatalf("%s: streams %v", who, streams)
		}
		within10(t, who, d, recorded)
	}
	body, err := c.store.GetManifest(context.Background(), store.Key{Visit: c.p.visitID, Recording: rec})
	if err != nil {
		t.Fatal(err)
	}
	var man recording.Manifest
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatal(err)
	}
	for _, mp := range man.Participants {
		o := objs[mp.ParticipantID]
		if mp.Object == nil || mp.Object.Key != o.Key || mp.Object.Size != o.Size || mp.Consent.Answer != "yes" {
			t.Fatalf("manifest entry %+v, object %+v", mp, o)
		}
		if sum := sha256Hex(o.SHA256); mp.Object.SHA256 != sum {
			t.Fatalf("manifest sha %s, database %s", mp.Object.SHA256, sum)
		}
	}
	if strings.Contains(string(body), "Rosalind") {
		t.Fatal("the manifest holds the patient's name")
	}
}

func sha256Hex(b []byte) string {
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, hexdigits[x>>4], hexdigits[x&15])
	}
	return string(out)
}

// TestRecordingDeclined: one "no" and nothing is recorded, for anyone.
func TestRecordingDeclined(t *testing.T) {
	c := newRecCall(t)
	c.joinPatient()
	c.clin.write(map[string]any{"v": 1, "type": "recording_request"})
	consent(t, c.clin, "yes")
	consent(t, c.patient, "no")
	for _, p := range []*wsPeer{c.clin, c.patient} {
		m := p.await("recording_state", 5*time.Second)
		for m.Reason == "" {
			m = p.await("recording_state", 5*time.Second)
		}
		if m.Active || m.Reason != visits.StopDeclined {
			t.Fatalf("%s: %+v", p.name, m)
		}
	}
	time.Sleep(time.Second)
	c.rec.Wait()
	var n int
	if err := c.st.pool.QueryRow(context.Background(), "SELECT count(*) FROM recording_objects").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d objects after a refusal (%v)", n, err)
	}
	if ents, _ := os.ReadDir(c.spool); len(ents) != 0 {
		t.Fatalf("spool files after a refusal: %d", len(ents))
	}
}

// TestRecordingWithdrawal: the patient withdraws mid-recording; everyone
// sees it stop within 2 s, and the objects end there.
func TestRecordingWithdrawal(t *testing.T) {
	c := newRecCall(t)
	c.joinPatient()
	rec, started := c.startRecording()
	time.Sleep(3 * time.Second)
	c.patient.write(map[string]any{"v": 1, "type": "recording_withdraw"})
	sent := time.Now()
	for _, p := range []*wsPeer{c.clin, c.patient} {
		if m := awaitState(t, p, false, 2*time.Second); m.Reason != visits.StopWithdrawn {
			t.Fatalf("%s: %+v", p.name, m)
		}
	}
	if took := time.Since(sent); took > 2*time.Second {
		t.Fatalf("withdrawal took %v to reach everyone", took)
	}
	untilWithdrawal := sent.Sub(started)
	time.Sleep(2 * time.Second) // media keeps flowing: it must not be recorded
	objs := c.objects(rec)
	for who, o := range objs {
		_, d := c.probe(o)
		within10(t, who, d, untilWithdrawal)
	}
	// Someone who comes back after the stop (a reconnect, a move to
	// another node) is told that nothing is being recorded.
	again := c.join("patient-again", patientHeaders(c.p.token), uuid.Nil)
	if m := again.await("recording_state", 5*time.Second); m.Active {
		t.Fatalf("rejoin after the withdrawal: %+v", m)
	}
}

// TestRecordingJoinerAskedFirst: the patient joins while the clinician is
// recording alone; they are asked, and recorded only from their yes.
func TestRecordingJoinerAskedFirst(t *testing.T) {
	c := newRecCall(t)
	c.clin.write(map[string]any{"v": 1, "type": "recording_request"})
	consent(t, c.clin, "yes")
	m := awaitState(t, c.clin, true, 5*time.Second)
	rec := uuid.MustParse(m.RecordingID)

	c.joinPatient()
	req := c.patient.await("recording_consent_request", 5*time.Second)
	if req.RecordingID != rec.String() {
		t.Fatalf("joiner's request %+v", req)
	}
	st := awaitState(t, c.clin, true, 5*time.Second)
	if !slices.Equal(st.WaitingFor, []string{"patient"}) {
		t.Fatalf("waiting for %v", st.WaitingFor)
	}
	time.Sleep(2 * time.Second) // the patient's media flows, unrecorded
	if objs, _ := c.st.svc.RecordingObjects(context.Background(), visits.SystemActor("test"), rec); len(objs) != 1 {
		t.Fatalf("before the joiner's yes: %d objects, want the clinician's only", len(objs))
	}
	c.patient.write(map[string]any{"v": 1, "type": "recording_consent", "request_id": req.RequestID, "answer": "yes"})
	awaitState(t, c.patient, true, 5*time.Second)
	accepted := time.Now()
	time.Sleep(3 * time.Second)
	recorded := time.Since(accepted)
	c.clin.write(map[string]any{"v": 1, "type": "recording_stop"})
	awaitState(t, c.patient, false, 2*time.Second)
	objs := c.objects(rec)
	o, ok := objs["patient"]
	if !ok {
		t.Fatalf("no patient object: %v", objs)
	}
	_, d := c.probe(o)
	within10(t, "patient", d, recorded)
}

// TestRecordingStopsWhenVisitEnds: the clinician sends the patient back to
// the waiting room; the recording stops (reason ended) for everyone.
func TestRecordingStopsWhenVisitEnds(t *testing.T) {
	c := newRecCall(t)
	c.joinPatient()
	rec, _ := c.startRecording()
	time.Sleep(time.Second)
	if _, err := c.st.svc.SendBack(context.Background(), c.cs.clinician, c.p.visitID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*wsPeer{c.clin, c.patient} {
		if m := awaitState(t, p, false, 5*time.Second); m.Reason != visits.StopEnded {
			t.Fatalf("%s: %+v", p.name, m)
		}
	}
	if objs := c.objects(rec); len(objs) != 2 {
		t.Fatalf("objects after the visit ended: %v", objs)
	}
}

// TestRecordingStopsWhenRoomMoves: the room leaves this node (a drain, a
// room lost to another node); the recorder runs beside the room, so the
// recording stops (reason ended) for everyone before they are moved, and
// its objects end there, playable.
func TestRecordingStopsWhenRoomMoves(t *testing.T) {
	c := newRecCall(t)
	c.joinPatient()
	rec, started := c.startRecording()
	time.Sleep(2 * time.Second)
	c.st.srv.RoomLost(c.p.visitID, "node-z", MovedLeaseLost)
	recorded := time.Since(started)
	for _, p := range []*wsPeer{c.clin, c.patient} {
		if m := awaitState(t, p, false, 5*time.Second); m.Reason != visits.StopEnded {
			t.Fatalf("%s: %+v", p.name, m)
		}
		p.await("moved", 5*time.Second)
	}
	objs := c.objects(rec)
	if len(objs) != 2 {
		t.Fatalf("objects after the move: %v", objs)
	}
	for who, o := range objs {
		_, d := c.probe(o)
		within10(t, who, d, recorded)
	}
}
