package notify

import (
	"errors"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRetryDelayIsFullJitterExponential(t *testing.T) {
	highest := func(n int64) int64 { return n - 1 }
	base, limit := 5*time.Second, time.Hour
	for attempt, want := range map[int]time.Duration{
		0: base, 1: base, 2: 2 * base, 3: 4 * base, 10: 512 * base, 11: limit, 12: limit, 200: limit,
	} {
		if got := retryDelay(attempt, base, limit, highest); got != want {
			t.Errorf("attempt %d: ceiling %v; want %v", attempt, got, want)
		}
	}
	if got := retryDelay(5, base, limit, func(int64) int64 { return 0 }); got != 0 {
		t.Errorf("lowest draw = %v; want 0", got)
	}
	for range 1000 {
		if d := retryDelay(3, base, limit, defaultJitter); d < 0 || d > 4*base {
			t.Fatalf("delay %v outside [0, %v]", d, 4*base)
		}
	}
}

func TestOutageDelay(t *testing.T) {
	for failures, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		if got := outageDelay(time.Second, failures); got != want {
			t.Errorf("failures %d: %v; want %v", failures, got, want)
		}
	}
	if got := outageDelay(time.Minute, 3); got != time.Minute {
		t.Errorf("long poll: %v", got)
	}
}

func TestSafeReasonRedacts(t *testing.T) {
	m := Message{Recipient: "jane@example.org", Body: "join https://x/#tok", Subject: "Hi"}
	for in, want := range map[string]string{
		"smtp: rcpt: 550 5.1.1 mailbox unavailable":          "smtp: rcpt: 550 5.1.1 mailbox unavailable",
		"rejected jane@example.org":                          "rejected [redacted]",
		"rejected <other.person@example.com>":                "rejected <[redacted]>",
		"number +1 (555) 555-0123 opted out":                 "number [redacted] opted out",
		"bad body join https://x/#tok":                       "bad body [redacted]",
		"dial tcp 127.0.0.1:25: connect: connection refused": "dial tcp 127.0.0.1:25: connect: connection refused",
	} {
		if got := safeReason(errors.New(in), m); got != want {
			t.Errorf("safeReason(%q) = %q; want %q", in, got, want)
		}
	}
	long := safeReason(errors.New(strings.Repeat("é", 400)), m)
	if len(long) > maxErrorBytes+3 || !strings.HasSuffix(long, "...") {
		t.Errorf("long reason not cut: %d bytes", len(long))
	}
}

func TestSMTPErrorClassification(t *testing.T) {
	echo := "5.1.1 <jane@example.org>: Recipient address rejected"
	for _, tc := range []struct {
		step string
		err  error
		want string
		perm bool
	}{
		{"rcpt", &textproto.Error{Code: 550, Msg: echo}, "smtp: rcpt: 550 5.1.1 mailbox unavailable", true},
		{"data", &textproto.Error{Code: 554, Msg: "rejected for jane@example.org"}, "smtp: data: 554 transaction failed", true},
		{"rcpt", &textproto.Error{Code: 452, Msg: "4.5.3 too many recipients jane@example.org"}, "smtp: rcpt: 452 4.5.3 insufficient system storage", false},
		{"mail", &textproto.Error{Code: 553, Msg: "sender rejected"}, "smtp: mail: 553 mailbox name not allowed", false},
		{"auth", &textproto.Error{Code: 535, Msg: "5.7.8 bad credentials"}, "smtp: auth: 535 5.7.8 authentication failed", false},
		{"rcpt", &textproto.Error{Code: 599, Msg: "jane@example.org"}, "smtp: rcpt: 599 permanent failure", true},
		{"rcpt", textproto.ProtocolError("short response: jane@example.org"), "smtp: rcpt: protocol error", false},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "smtp: dial: dial tcp: connection refused", false},
	} {
		err := smtpError(tc.step, tc.err)
		if err.Error() != tc.want || IsPermanent(err) != tc.perm {
			t.Errorf("smtpError(%s, %v) = %q permanent %v; want %q %v", tc.step, tc.err, err, IsPermanent(err), tc.want, tc.perm)
		}
		if strings.Contains(err.Error(), "jane") {
			t.Errorf("recipient leaked: %q", err)
		}
	}
}

func TestBuildMailHeaders(t *testing.T) {
	from := &mail.Address{Name: "Clinic", Address: "no-reply@clinic.example"}
	m := Message{ID: 9, VisitID: uuid.New(), Recipient: "jane@example.org", Subject: "Visite – heute", Body: "line 1\nline 2"}
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	a, err := buildMail(from, m, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := buildMail(from, m, now)
	msg, err := mail.ReadMessage(strings.NewReader(string(a)))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Date"); got != "Sun, 01 Mar 2026 09:30:00 +0000" {
		t.Errorf("Date = %q", got)
	}
	if msg.Header.Get("Message-Id") == "" || string(a) != string(b) {
		t.Error("Message-ID must be stable for one outbox row")
	}
	other := m
	other.ID = 10
	c, _ := buildMail(from, other, now)
	if id := func(raw []byte) string {
		mm, _ := mail.ReadMessage(strings.NewReader(string(raw)))
		return mm.Header.Get("Message-Id")
	}; id(a) == id(c) {
		t.Error("two rows share a Message-ID")
	}
	if !strings.Contains(string(a), "\r\nSubject: =?utf-8?q?") || !strings.Contains(string(a), "\r\n\r\nline 1\r\nline 2\r\n") {
		t.Errorf("unexpected message:\n%s", a)
	}
	m.Subject = "a\r\nBcc: x@example.org"
	if _, err := buildMail(from, m, now); err == nil {
		t.Error("header injection accepted")
	}
}
