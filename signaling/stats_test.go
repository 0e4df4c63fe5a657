package signaling

import (
	"testing"
	"time"
)

// TestStatsCountSessionsAndMessages: sessions are counted by actor kind
// while open, and messages by type, with unknown types as "unknown".
func TestStatsCountSessionsAndMessages(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Statia Counter")
	c := connect(t, st.ts, staffHeaders("clin"))
	pc := connect(t, st.ts, patientHeaders(p.token))
	c.sendRaw(`{"v":1,"type":"ping","id":"p1"}`)
	c.expectType(2*time.Second, "pong")
	c.sendRaw(`{"v":1,"type":"launch_rockets","id":"x1"}`)
	c.expectType(2*time.Second, "error")
	pc.sendRaw(`{"v":1,"type":"ping","id":"p2"}`)
	pc.expectType(2*time.Second, "pong")

	s := st.srv.Stats()
	if s.Sessions["staff"] != 1 || s.Sessions["patient"] != 1 {
		t.Fatalf("sessions = %v, want one staff and one patient", s.Sessions)
	}
	if s.Messages["ping"] != 2 || s.Messages["unknown"] != 1 || s.Messages["launch_rockets"] != 0 {
		t.Fatalf("messages = %v", s.Messages)
	}
	if len(s.Messages) != len(st.srv.MessageTypes()) {
		t.Fatalf("message label set %d != types %d", len(s.Messages), len(st.srv.MessageTypes()))
	}
	if len(s.MediaParticipants) != 0 {
		t.Fatalf("media participants without media: %v", s.MediaParticipants)
	}
	pc.conn.Close()
	eventually(t, 5*time.Second, "patient session gone", func() bool { return st.srv.Stats().Sessions["patient"] == 0 })
}
