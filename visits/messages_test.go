package visits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

const lateText = "Running 10 minutes late, sorry!"

// listenRaw LISTENs on its own connection and returns the next raw payload
// about visit.
func listenRaw(t *testing.T, f *fixture) func(visit uuid.UUID) string {
	t.Helper()
	ctx := context.Background()
	conn, err := f.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pc := conn.Hijack()
	t.Cleanup(func() { pc.Close(context.Background()) })
	if _, err := pc.Exec(ctx, "LISTEN "+EventChannel); err != nil {
		t.Fatal(err)
	}
	return func(visit uuid.UUID) string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		for {
			n, err := pc.WaitForNotification(wctx)
			if err != nil {
				t.Fatalf("no event about the visit: %v", err)
			}
			if strings.Contains(n.Payload, visit.String()) && strings.Contains(n.Payload, EventPatientMessage) {
				return n.Payload
			}
		}
	}
}

func TestPatientMessageReachesThePatientSealedAndAudited(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)
	p := f.checkedIn(t, v.ID)
	next := listenRaw(t, f)

	// A colleague of the same clinic may send, not only the assigned one.
	m, err := f.svc.SendPatientMessage(ctx, f.clin2, v.ID, "  "+lateText+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != lateText || m.ID == uuid.Nil || m.At.IsZero() {
		t.Fatalf("sent %+v", m)
	}
	if payload := next(v.ID); strings.Contains(payload, "late") || !strings.Contains(payload, f.clinic.ID.String()) {
		t.Fatalf("event payload %s", payload)
	}

	got, err := f.svc.PatientMessages(ctx, p, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != m.ID || got[0].Text != lateText || !got[0].At.Equal(m.At) {
		t.Fatalf("read %+v", got)
	}

	var sealed []byte
	var sender uuid.UUID
	if err := f.pool.QueryRow(ctx, `SELECT text_enc, sender_id FROM patient_messages WHERE id = $1`, m.ID).
		Scan(&sealed, &sender); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("late")) || sender != f.clin2.StaffID {
		t.Fatalf("stored sealed %q, sender %v", sealed, sender)
	}
	wantMessageAudit(t, f, v.ID, "patient_message.send", "success", 1)
	wantMessageAudit(t, f, v.ID, "patient_message.read", "success", 1)
}

// wantMessageAudit checks the number of audit events of an action and
// outcome on the visit and that none carries a message's text.
func wantMessageAudit(t *testing.T, f *fixture, visit uuid.UUID, action, outcome string, n int) {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT detail::text FROM audit_events
		WHERE visit_id = $1 AND action = $2 AND outcome = $3`, visit, action, outcome)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d, "late") {
			t.Fatalf("audit detail carries the text: %s", d)
		}
		got++
	}
	if got != n {
		t.Fatalf("%d %s/%s audit events, want %d", got, action, outcome, n)
	}
}

func TestPatientMessageRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, &f.clin.StaffID)

	// Not waiting yet: a conflict, audited as denied.
	if _, err := f.svc.SendPatientMessage(ctx, f.clin, v.ID, lateText); !errors.Is(err, ErrConflict) {
		t.Fatalf("scheduled visit: %v", err)
	}
	wantMessageAudit(t, f, v.ID, "patient_message.send", "denied", 1)

	p := f.checkedIn(t, v.ID)
	for name, a := range map[string]Actor{"scheduler": f.sched, "other clinic": f.otherClin, "patient": p} {
		if _, err := f.svc.SendPatientMessage(ctx, a, v.ID, lateText); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.svc.SendPatientMessage(ctx, f.clin, uuid.New(), lateText); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown visit: %v", err)
	}
	for _, text := range []string{"", "   ", strings.Repeat("x", MaxPatientMessageChars+1), "bell\a", "\xff\xfe"} {
		_, err := f.svc.SendPatientMessage(ctx, f.clin, v.ID, text)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "text" {
			t.Errorf("text of %d bytes: %v", len(text), err)
		}
	}
	if _, err := f.svc.SendPatientMessage(ctx, f.clin, v.ID, strings.Repeat("é", MaxPatientMessageChars)); err != nil {
		t.Errorf("500 characters: %v", err)
	}

	// Only the visit's own patient reads; another patient or staff cannot.
	v2 := f.newVisit(t, nil)
	p2 := f.checkedIn(t, v2.ID)
	for name, a := range map[string]Actor{"other patient": p2, "clinician": f.clin} {
		if _, err := f.svc.PatientMessages(ctx, a, v.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s reads: %v", name, err)
		}
	}
	if got, err := f.svc.PatientMessages(ctx, p2, v2.ID); err != nil || len(got) != 0 {
		t.Fatalf("no messages: %v %v", got, err)
	}

	// Admitted: no more messages to the waiting room.
	if _, err := f.svc.Admit(ctx, f.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SendPatientMessage(ctx, f.clin, v.ID, lateText); !errors.Is(err, ErrConflict) {
		t.Fatalf("in progress: %v", err)
	}
}

func TestPatientMessagesNewestLastAtMostTwenty(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.newVisit(t, nil)
	p := f.checkedIn(t, v.ID)
	const n = PatientMessagesShown + 3
	for i := range n {
		if _, err := f.svc.SendPatientMessage(ctx, f.clin, v.ID, fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.svc.PatientMessages(ctx, p, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.svc.PatientMessageHead(ctx, p, v.ID)
	if err != nil || len(got) == 0 || head != got[len(got)-1].ID {
		t.Fatalf("head %v (%v), want the newest message", head, err)
	}
	if _, err := f.svc.PatientMessageHead(ctx, f.clin, v.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a clinician asks for the head: %v", err)
	}
	if len(got) != PatientMessagesShown {
		t.Fatalf("%d messages", len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("message %d", n-PatientMessagesShown+i); m.Text != want {
			t.Fatalf("message %d is %q, want %q", i, m.Text, want)
		}
	}
}
