package signaling

import (
	"testing"
	"time"
)

// A client that lost its PeerConnection (moved to another node and back,
// a reloaded page) joins with resume false while its place is still held:
// the place gets a new PeerConnection, media flows again both ways and the
// room still has two participants.
func TestJoinWithoutResumeReplacesPeerConnection(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.ResumeGrace = 10 * time.Second
	st := w.start(cfg, nil)
	startMedia(t, w, st)
	_, p := w.admittedPatient(t, st, "Katherine Johnson")
	clin := newWSPeer(t, "clinician")
	clin.connect(st.ts, staffHeaders("clin"))
	clin.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
	clin.await("joined", 5*time.Second)
	clin.publish()
	patient := newWSPeer(t, "patient")
	patient.connect(st.ts, patientHeaders(p.token))
	patient.write(map[string]any{"v": 1, "type": "join"})
	patient.await("joined", 5*time.Second)
	patient.publish()
	flowing(t, patient, 20, 20*time.Second)
	flowing(t, clin, 20, 20*time.Second)

	patient.drop()
	fresh := newWSPeer(t, "patient-fresh")
	fresh.connect(st.ts, patientHeaders(p.token))
	fresh.write(map[string]any{"v": 1, "type": "join", "resume": false})
	if m := fresh.await("joined", 5*time.Second); m.Resumed {
		t.Fatalf("join with resume false resumed the old PeerConnection: %+v", m)
	}
	fresh.publish()
	flowing(t, fresh, 20, 20*time.Second)
	flowing(t, clin, 20, 20*time.Second)
	if n := st.srv.media.sfu.Room(p.visitID.String()).Len(); n != 2 {
		t.Fatalf("room has %d participants, want 2", n)
	}
	if clin.saw("participant_left") {
		t.Fatal("the clinician was told the patient left")
	}
}
