package signaling

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// clinicMsg is the payload of clinic_message and message_sent.
type clinicMsg struct {
	ID        uuid.UUID `json:"id"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
	MessageID uuid.UUID `json:"message_id"`
}

func decodeClinicMsg(t *testing.T, m msg) clinicMsg {
	t.Helper()
	var c clinicMsg
	if err := json.Unmarshal([]byte(m.raw), &c); err != nil {
		t.Fatalf("decode %s: %v", m.raw, err)
	}
	return c
}

func messagePatient(c *client, id string, visit uuid.UUID, text string) {
	c.send(map[string]any{"v": 1, "type": "message_patient", "id": id, "visit_id": visit, "text": text})
}

// The clinician's socket is on one process, the patient's on another: the
// message arrives through the database's NOTIFY, once, and again after a
// reconnect, oldest first.
func TestClinicMessageReachesPatientOnAnotherProcess(t *testing.T) {
	w := newWorld(t)
	one := w.start(testConfig(), nil)
	two := w.start(testConfig(), nil)
	cs := one.newClinic(t, "north")
	one.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, one, cs, "Katherine Johnson")
	checkIn(t, one, p)

	pc := connect(t, two.ts, patientHeaders(p.token))
	pc.hello(nil)
	pc.expectType(2*time.Second, "patient_status")
	cc := connect(t, one.ts, staffHeaders("clin"))
	cc.hello(nil)
	cc.expectType(2*time.Second, "waiting_room")

	texts := []string{"Running 10 minutes late", "Almost ready for you"}
	var ids []uuid.UUID
	for i, text := range texts {
		ref := "m" + string(rune('1'+i))
		messagePatient(cc, ref, p.visitID, text)
		sent := cc.expectType(2*time.Second, "message_sent")
		got := decodeClinicMsg(t, sent)
		if sent.Ref != ref || sent.VisitID != p.visitID || got.MessageID == uuid.Nil {
			t.Fatalf("message_sent = %s", sent.raw)
		}
		cm := decodeClinicMsg(t, pc.expectType(2*time.Second, "clinic_message"))
		if cm.ID != got.MessageID || cm.Text != text || cm.At.IsZero() {
			t.Fatalf("clinic_message = %+v", cm)
		}
		ids = append(ids, cm.ID)
	}
	pc.expectNone(500*time.Millisecond, "a repeated message", func(m msg) bool { return m.Type == "clinic_message" })

	again := connect(t, one.ts, patientHeaders(p.token))
	again.hello(nil)
	again.expectType(2*time.Second, "patient_status")
	for i, id := range ids {
		cm := decodeClinicMsg(t, again.expectType(2*time.Second, "clinic_message"))
		if cm.ID != id || cm.Text != texts[i] {
			t.Fatalf("after reconnect, message %d = %+v", i, cm)
		}
	}
	again.expectNone(300*time.Millisecond, "a repeated message", func(m msg) bool { return m.Type == "clinic_message" })
	if strings.Contains(w.logs.String(), "minutes late") {
		t.Fatal("a message's text reached the logs")
	}
}

func TestMessagePatientRefusals(t *testing.T) {
	w := newWorld(t)
	st := w.start(testConfig(), nil)
	a, b := st.newClinic(t, "north"), st.newClinic(t, "south")
	st.auth.addStaff("clin", a.clinician)
	st.auth.addStaff("sched", a.scheduler)
	st.auth.addStaff("other", b.clinician)
	waiting := w.newPatient(t, st, a, "Dorothy Vaughan")
	checkIn(t, st, waiting)
	notYet := w.newPatient(t, st, a, "Mary Jackson")

	cases := []struct {
		name    string
		headers http.Header
		visit   uuid.UUID
		text    string
		code    string
	}{
		{"not waiting", staffHeaders("clin"), notYet.visitID, "hello", codeConflict},
		{"empty text", staffHeaders("clin"), waiting.visitID, "  ", codeInvalid},
		{"too long", staffHeaders("clin"), waiting.visitID, strings.Repeat("a", 501), codeInvalid},
		{"no visit", staffHeaders("clin"), uuid.Nil, "hello", codeBadMessage},
		{"unknown visit", staffHeaders("clin"), uuid.New(), "hello", codeForbidden},
		{"scheduler", staffHeaders("sched"), waiting.visitID, "hello", codeForbidden},
		{"other clinic", staffHeaders("other"), waiting.visitID, "hello", codeForbidden},
		{"patient", patientHeaders(waiting.token), waiting.visitID, "hello", codeForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, st.ts, tc.headers)
			c.hello(nil)
			c.expectType(2*time.Second, "welcome")
			messagePatient(c, "x1", tc.visit, tc.text)
			e := c.expect(2*time.Second, "an error", func(m msg) bool { return m.Type == "error" && m.Ref == "x1" })
			if e.Code != tc.code {
				t.Fatalf("error = %s, want code %s", e.raw, tc.code)
			}
		})
	}
	pc := connect(t, st.ts, patientHeaders(waiting.token))
	pc.hello(nil)
	pc.expectType(2*time.Second, "patient_status")
	pc.expectNone(300*time.Millisecond, "a message", func(m msg) bool { return m.Type == "clinic_message" })
}

// dropMessages is an event source that loses every patient_message event,
// as a hub does for a subscriber that fell behind.
type dropMessages struct{ hub *visits.Hub }

func (d dropMessages) Subscribe() (<-chan visits.Event, func()) {
	in, stop := d.hub.Subscribe()
	out := make(chan visits.Event, 32)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case ev := <-in:
				if ev.Kind == visits.EventPatientMessage {
					continue
				}
				select {
				case out <- ev:
				case <-done:
					return
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() { close(done); stop() }
}

// A message whose event was lost reaches the patient at the next re-check.
func TestClinicMessageCaughtUpAfterLostEvent(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.ReauthInterval = 300 * time.Millisecond
	st := w.start(cfg, nil)
	cs := st.newClinic(t, "north")
	p := w.newPatient(t, st, cs, "Annie Easley")
	checkIn(t, st, p)

	lossy, err := NewServer(cfg, st.auth, st.svc, dropMessages{st.hub}, w.log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(lossy)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = lossy.Shutdown(ctx)
	})

	pc := connect(t, ts, patientHeaders(p.token))
	pc.hello(nil)
	pc.expectType(2*time.Second, "patient_status")
	sent, err := st.svc.SendPatientMessage(context.Background(), cs.clinician, p.visitID, "Two more minutes")
	if err != nil {
		t.Fatal(err)
	}
	cm := decodeClinicMsg(t, pc.expectType(3*time.Second, "clinic_message"))
	if cm.ID != sent.ID || cm.Text != "Two more minutes" {
		t.Fatalf("clinic_message = %+v", cm)
	}
	pc.expectNone(time.Second, "a repeated message", func(m msg) bool { return m.Type == "clinic_message" })
}
