package signaling

import (
	"context"
	"testing"
	"time"
)

// TestRecordingUnavailableWithoutRecorder: a server without a recording
// configuration answers recording_request with recording_unavailable, and
// a joined clinician's request does not reach the visits service.
func TestRecordingUnavailableWithoutRecorder(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	startMedia(t, w, st)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Rosalind Franklin")
	checkIn(t, st, p)
	if _, err := st.svc.Admit(context.Background(), cs.clinician, p.visitID); err != nil {
		t.Fatal(err)
	}
	clin := newWSPeer(t, "clinician")
	clin.connect(st.ts, staffHeaders("clin"))
	clin.write(map[string]any{"v": 1, "type": "join", "visit_id": p.visitID})
	clin.await("joined", 5*time.Second)
	for _, typ := range []string{"recording_request", "recording_consent", "recording_withdraw", "recording_stop"} {
		clin.write(map[string]any{"v": 1, "type": typ})
		if m := clin.await("error", 5*time.Second); m.Code != codeRecordingUnavailable {
			t.Fatalf("%s: %+v, want %s", typ, m, codeRecordingUnavailable)
		}
	}
	if live, err := st.svc.LiveRecording(context.Background(), cs.clinician, p.visitID); err != nil || live != nil {
		t.Fatalf("a recording exists: %v %+v", err, live)
	}
}
