package recording

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

// TestRecordableCodecs: Opus audio, the WebM video codecs and H264 (in
// Matroska) are recorded; anything else is skipped.
func TestRecordableCodecs(t *testing.T) {
	for mime, want := range map[string]bool{
		"audio/opus": true, "video/VP8": true, "video/vp9": true, "video/AV1": true,
		"video/H264": true, "video/h264": true, "audio/PCMU": false, "video/H265": false, "": false, "video": false,
	} {
		kind := "video"
		if mime == "audio/opus" || mime == "audio/PCMU" {
			kind = "audio"
		}
		if _, _, ok := recordable(sfu.TrackInfo{Kind: kind, MimeType: mime}); ok != want {
			t.Errorf("%q: recordable %v, want %v", mime, ok, want)
		}
	}
	if _, _, ok := recordable(sfu.TrackInfo{Kind: "video", MimeType: "audio/opus"}); ok {
		t.Error("an audio codec on a video track is recordable")
	}
}

// TestVideoCodecFixedByWriter: once the writer exists, a video track in
// another codec than the writer's is skipped; before, it sets the codec.
func TestVideoCodecFixedByWriter(t *testing.T) {
	p := &partRec{participant: "p"}
	if _, err := p.OpenTrack(sfu.TrackInfo{ParticipantID: "p", Kind: "video", MimeType: "video/VP9"}); err != nil || p.codec != "VP9" {
		t.Fatalf("VP9 before the writer: %v, codec %q", err, p.codec)
	}
	q := &partRec{participant: "p", muxing: true}
	if _, err := q.OpenTrack(sfu.TrackInfo{ParticipantID: "p", Kind: "video", MimeType: "video/AV1"}); err != errSkip {
		t.Fatalf("AV1 after a default (VP8) writer: %v", err)
	}
	if _, err := q.OpenTrack(sfu.TrackInfo{ParticipantID: "p", Kind: "video", MimeType: "video/H264"}); err != errSkip {
		t.Fatalf("H264 after a default (VP8, WebM) writer: %v", err)
	}
	if _, err := q.OpenTrack(sfu.TrackInfo{ParticipantID: "p", Kind: "video", MimeType: "video/VP8"}); err != nil {
		t.Fatalf("VP8 after a default (VP8) writer: %v", err)
	}
	h := &partRec{participant: "p"}
	if _, err := h.OpenTrack(sfu.TrackInfo{ParticipantID: "p", Kind: "video", MimeType: "video/H264"}); err != nil || h.codec != webm.H264 {
		t.Fatalf("H264 before the writer: %v, codec %q", err, h.codec)
	}
}

// TestRecorderRecordsVP9 records a patient sending VP9: the object in
// MinIO is a WebM with Opus and VP9 that decodes cleanly, and the manifest
// says so.
func TestRecorderRecordsVP9(t *testing.T) {
	ctx := context.Background()
	f := newRecFixture(t)
	rec := f.consented(t)
	if err := f.m.Record(ctx, f.visit, rec.ID, "patient"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkts := mediatest.FromFilesCodec(t, webm.VP9, mediatest.EncodeVideo(t, dir, 3*time.Second, webm.VP9),
		mediatest.EncodeAudio(t, dir, 3*time.Second))
	played := play(pkts, 3*time.Second, nil, tapsCodec(t, f.m, rec.ID, "patient", "video/VP9"))
	if _, err := f.svc.StopRecording(ctx, f.clin, f.visit, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	f.m.Stop(ctx, rec.ID)
	f.m.Wait()
	objs, err := f.svc.RecordingObjects(ctx, visits.SystemActor("test"), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, o := range objs {
		if o.ParticipantID != "patient" {
			continue
		}
		found = true
		_, path := f.object(t, o.Key)
		checkMedia(t, path, played, "opus", "vp9")
	}
	body, err := f.st.GetManifest(ctx, store.Key{Visit: f.visit, Recording: rec.ID})
	if err != nil || !found {
		t.Fatalf("manifest: %v, object found %v", err, found)
	}
	var man Manifest
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatal(err)
	}
	for _, mp := range man.Participants {
		if mp.ParticipantID == "patient" && (mp.Object == nil || mp.Object.Container != "webm" ||
			mp.Object.ContentType != "video/webm" || !slices.ContainsFunc(mp.Object.Tracks,
			func(tr ManifestTrack) bool { return tr.MimeType == "video/VP9" })) {
			t.Fatalf("manifest object %+v", mp.Object)
		}
	}
}

// tapsCodec opens a participant's Opus audio and video in mime on the
// recorder's sink, as the SFU does.
func tapsCodec(t *testing.T, m *Manager, rec uuid.UUID, participant, mime string) map[webm.Kind]sfu.TrackWriter {
	t.Helper()
	m.mu.Lock()
	p := m.sessions[rec].parts[participant]
	m.mu.Unlock()
	out := map[webm.Kind]sfu.TrackWriter{}
	for kind, info := range map[webm.Kind]sfu.TrackInfo{
		webm.Audio: {ParticipantID: participant, TrackID: "a", Kind: "audio", MimeType: "audio/opus", ClockRate: 48000, Channels: 2},
		webm.Video: {ParticipantID: participant, TrackID: "v", Kind: "video", MimeType: mime, ClockRate: 90000},
	} {
		w, err := p.OpenTrack(info)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = w
	}
	return out
}
