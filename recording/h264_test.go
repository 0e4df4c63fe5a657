package recording

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// TestObjectKeyFollowsContainer: a participant's object is named and typed
// after the container of its video codec (.webm for VP8, VP9, AV1 and
// audio only; .mkv, video/x-matroska for H264), and the name parses back.
func TestObjectKeyFollowsContainer(t *testing.T) {
	visit, obj := uuid.New(), uuid.New()
	for _, codec := range []string{"", webm.VP8, webm.VP9, webm.AV1, webm.H264} {
		c := webm.ContainerOf(codec)
		k := objectKey(visit, obj, c)
		if !strings.HasSuffix(k.String(), "/"+obj.String()+c.Ext) || k.Format.ContentType() != c.ContentType {
			t.Errorf("%q: key %s, type %s; want %s, %s", codec, k, k.Format.ContentType(), c.Ext, c.ContentType)
		}
		if got, err := store.ParseKey(k.String()); err != nil || got != k {
			t.Errorf("%q: ParseKey(%s) = %v, %v", codec, k, got, err)
		}
	}
	if c := webm.ContainerOf(webm.H264); c.Ext != ".mkv" || c.ContentType != "video/x-matroska" {
		t.Fatalf("H264 container %+v", c)
	}
}

// h264Media is d of real H264 (constrained baseline, as WebRTC senders)
// and Opus packets.
func h264Media(t *testing.T, d time.Duration) []mediatest.Packet {
	t.Helper()
	dir := t.TempDir()
	return mediatest.FromFilesCodec(t, webm.H264, mediatest.EncodeVideo(t, dir, d, webm.H264),
		mediatest.EncodeAudio(t, dir, d))
}

// TestRecorderRecordsH264 records a patient sending H264 through the live
// recorder into MinIO: the object is a Matroska file (.mkv, served as
// video/x-matroska, encrypted and retained) with Opus and H264 that
// decodes cleanly and lasts what was played; the database and the
// manifest hold its SHA-256 and container; a playback link serves it.
func TestRecorderRecordsH264(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	played := play(h264Media(t, 4*time.Second), 4*time.Second, nil, tapsCodec(t, f.m, rec.ID, "patient", "video/H264"))
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID)
	f.m.Wait()
	o, body, path := storedMKV(t, f, rec.ID)
	if sum := sha256.Sum256(body); string(sum[:]) != string(o.SHA256) || int64(len(body)) != o.Size {
		t.Fatal("object's checksum or size differs from the database")
	}
	checkH264(t, path, played, played/10)
	if msg := mediatest.Decode(t, path); msg != "" {
		t.Fatalf("decode errors: %s", msg)
	}
	checkStoredMatroska(t, f, o.Key)
	checkManifestH264(t, f, rec.ID, o, body)
	checkPlaybackLink(t, f, rec.ID, o.ID, body)
}

// TestRecorderRecoversH264: a recorder that dies while recording H264
// leaves its spool; the next manager uploads its playable prefix under the
// .mkv name the database holds.
func TestRecorderRecoversH264(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	played := play(h264Media(t, 3*time.Second), 3*time.Second, nil, tapsCodec(t, f.m, rec.ID, "patient", "video/H264"))
	time.Sleep(300 * time.Millisecond) // the spool is sealed every 100 ms
	f.m.abandon()                      // the crash: no final chunk, no upload

	n, err := f.newManager(t).Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, err %v", n, err)
	}
	o, body, path := storedMKV(t, f, rec.ID)
	if sum := sha256.Sum256(body); string(sum[:]) != string(o.SHA256) {
		t.Fatal("recovered object's checksum differs from the database")
	}
	// The prefix ends at the last sealed chunk: at least half of what was played.
	checkH264(t, path, played*3/4, played/4)
	checkStoredMatroska(t, f, o.Key)
}

// TestRecorderWaitsForLateVideo: a publisher whose audio reaches the
// recorder before its H264 video track opens (as when a participant who
// consented earlier joins a live recording) is still recorded in
// Matroska with both streams: the first packets wait for the video track.
func TestRecorderWaitsForLateVideo(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	f.m.mu.Lock()
	p := f.m.sessions[rec.ID].parts["patient"]
	f.m.mu.Unlock()
	audio, err := p.OpenTrack(sfu.TrackInfo{ParticipantID: "patient", TrackID: "a", Kind: "audio",
		MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	taps := map[webm.Kind]sfu.TrackWriter{webm.Audio: audio, webm.Video: discard{}}
	const late = 400 * time.Millisecond
	pkts := h264Media(t, 3*time.Second)
	start := time.Now()
	play(pkts, late, nil, taps) // audio only: the video track is not open yet
	if taps[webm.Video], err = p.OpenTrack(sfu.TrackInfo{ParticipantID: "patient", TrackID: "v", Kind: "video",
		MimeType: "video/H264", ClockRate: 90000}); err != nil {
		t.Fatalf("H264 track opened %v after the first audio: %v", late, err)
	}
	for _, pk := range pkts {
		if pk.At <= late {
			continue
		}
		time.Sleep(time.Until(start.Add(pk.At)))
		r := *pk.RTP
		_, _ = taps[pk.Kind].WriteRTP(&r.Header, r.Payload)
	}
	played := time.Since(start)
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID)
	f.m.Wait()
	_, _, path := storedMKV(t, f, rec.ID)
	checkH264(t, path, played, played/10)
}

// storedMKV is the patient's object of rec: stored, named .mkv, with
// matroska as its EBML DocType; its bytes and a local copy's path.
func storedMKV(t *testing.T, f *recFixture, rec uuid.UUID) (visits.RecordingObject, []byte, string) {
	t.Helper()
	o := patientObject(t, f, rec)
	if !strings.HasSuffix(o.Key, ".mkv") || o.State != "stored" {
		t.Fatalf("object %s is %s; want a stored .mkv", o.Key, o.State)
	}
	body, path := f.object(t, o.Key)
	if !bytes.Contains(body[:min(len(body), 64)], []byte("matroska")) {
		t.Fatal("the EBML header's DocType is not matroska")
	}
	return o, body, path
}

// discard is a track writer that drops what it is given.
type discard struct{}

func (discard) WriteRTP(_ *rtp.Header, p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                                  { return nil }

// TestRecorderObjectWithoutRow: when the database refuses the object at
// the first packet (here: a recording it does not know), nothing is
// uploaded and the spool is removed, since no row would let Recover find
// it.
func TestRecorderObjectWithoutRow(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := uuid.New()
	if err := f.m.Record(ctx, f.visit, rec, "patient"); err != nil {
		t.Fatal(err)
	}
	f.m.mu.Lock()
	p := f.m.sessions[rec].parts["patient"]
	f.m.mu.Unlock()
	play(h264Media(t, time.Second), time.Second, nil, tapsCodec(t, f.m, rec, "patient", "video/H264"))
	f.m.Stop(ctx, rec)
	f.m.Wait()
	if r := p.res; !errors.Is(r.err, visits.ErrNotFound) {
		t.Fatalf("object result error %v, want ErrNotFound", r.err)
	}
	if _, err := os.Stat(p.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spool left behind: %v", err)
	}
	if !strings.Contains(f.logs.String(), "recording object not started") {
		t.Fatal("the failure was not logged")
	}
	if st := f.m.Stats(); st.UploadsOK != 0 || st.UploadsFailed != 0 {
		t.Fatalf("uploads %+v", st)
	}
}

// patientObject is the patient's media object of a recording.
func patientObject(t *testing.T, f *recFixture, rec uuid.UUID) visits.RecordingObject {
	t.Helper()
	objs, err := f.svc.RecordingObjects(context.Background(), visits.SystemActor("test"), rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.ParticipantID == "patient" {
			return o
		}
	}
	t.Fatalf("no patient object in %+v", objs)
	return visits.RecordingObject{}
}

// checkH264: Opus + H264, lasting want within tol.
func checkH264(t *testing.T, path string, want, tol time.Duration) {
	t.Helper()
	p := mediatest.FFProbe(t, path)
	t.Logf("ffprobe: format %s, streams %v, packets %v, duration %v (want %v within %v)",
		p.FormatName, p.Streams, p.Packets, p.Duration, want, tol)
	if !strings.Contains(p.FormatName, "matroska") || !slices.Equal(p.Streams, []string{"opus", "h264"}) {
		t.Fatalf("format %q, streams %v; want matroska with opus and h264", p.FormatName, p.Streams)
	}
	if p.Packets["h264"] == 0 || p.Packets["opus"] == 0 {
		t.Fatalf("packets %v", p.Packets)
	}
	if d := p.Duration - want; d < -tol || d > tol {
		t.Fatalf("duration %v, want %v within %v", p.Duration, want, tol)
	}
}

// checkStoredMatroska: the store serves the object as video/x-matroska,
// encrypted with KMS and retained.
func checkStoredMatroska(t *testing.T, f *recFixture, key string) {
	t.Helper()
	k, err := store.ParseKey(key)
	if err != nil || k.Format != store.Matroska {
		t.Fatalf("key %s: %v, format %v", key, err, k.Format)
	}
	info, err := f.st.Stat(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "video/x-matroska" || info.SSE != "aws:kms" || time.Until(info.RetainUntil) < 23*time.Hour {
		t.Fatalf("stored object: type %q, SSE %q, retained until %v", info.ContentType, info.SSE, info.RetainUntil)
	}
}

// checkManifestH264: the manifest names the object, its checksum and its
// container.
func checkManifestH264(t *testing.T, f *recFixture, rec uuid.UUID, o visits.RecordingObject, body []byte) {
	t.Helper()
	raw, err := f.st.GetManifest(context.Background(), store.Key{Visit: f.visit, Recording: rec})
	if err != nil {
		t.Fatal(err)
	}
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	for _, mp := range man.Participants {
		if mp.ParticipantID != "patient" {
			continue
		}
		mo := mp.Object
		if mo == nil || mo.Key != o.Key || mo.SHA256 != hex.EncodeToString(sum[:]) || mo.Size != int64(len(body)) ||
			mo.Container != "matroska" || mo.ContentType != "video/x-matroska" ||
			!slices.ContainsFunc(mo.Tracks, func(tr ManifestTrack) bool { return tr.MimeType == "video/H264" }) {
			t.Fatalf("manifest object %+v", mo)
		}
		return
	}
	t.Fatalf("no patient in the manifest: %s", raw)
}

// checkPlaybackLink: the visit's clinician's playback link (visits, over
// the store's names) downloads the object as video/x-matroska.
func checkPlaybackLink(t *testing.T, f *recFixture, rec, obj uuid.UUID, body []byte) {
	t.Helper()
	ctx := context.Background()
	recs, err := visits.NewRecordings(visits.RecordingsConfig{}, f.svc, f.st.Names(visits.ErrRecordingRetained, visits.ErrNotFound))
	if err != nil {
		t.Fatal(err)
	}
	link, err := recs.PlaybackLink(ctx, f.clin, rec, obj)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: f.srv.TLSConfig()}}
	resp, err := client.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) ||
		resp.Header.Get("Content-Type") != "video/x-matroska" {
		t.Fatalf("playback: %d, %q, %d bytes (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), err)
	}
}
