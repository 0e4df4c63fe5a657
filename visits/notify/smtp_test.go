package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits/notify"
)

func newVisitID() uuid.UUID { return uuid.New() }

// tlsSMTP starts a server with STARTTLS and AUTH and returns a sender for it.
func tlsSMTP(t *testing.T, srv *smtpServer) (*smtpServer, *notify.SMTPSender) {
	t.Helper()
	serverTLS, roots := selfSigned(t)
	srv.tls, srv.user, srv.password = serverTLS, "televisit", "s3cret-pass"
	startSMTP(t, srv)
	s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: srv.addr, From: "Televisit <no-reply@clinic.example>",
		Username: "televisit", Password: "s3cret-pass", StartTLS: true, RootCAs: roots, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func TestEnqueueRolledBackSendsNothing(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	srv, sender := tlsSMTP(t, &smtpServer{})
	visit := newVisit(t, pool)

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.Enqueue(ctx, tx, keys, emailMsg(visit)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}, log)
	sent, err := w.RunOnce(ctx)
	if err != nil || sent != 0 {
		t.Fatalf("RunOnce = %d, %v; want 0, nil", sent, err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM notification_outbox").Scan(&n); err != nil || n != 0 {
		t.Fatalf("outbox rows = %d, %v; want 0", n, err)
	}
	if got := srv.received(); len(got) != 0 {
		t.Fatalf("server received %d messages; want 0", len(got))
	}
}

func TestEnqueueCommittedDeliversOneEmail(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	srv, sender := tlsSMTP(t, &smtpServer{})
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	assertSealed(t, ctx, pool, id)

	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}, log)
	if sent, err := w.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", sent, err)
	}
	if sent, err := w.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("second RunOnce = %d, %v; want 0, nil", sent, err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages; want exactly 1", len(got))
	}
	m := got[0]
	if m.To != patientEmail || m.From != "no-reply@clinic.example" || !m.TLS || m.AuthUser != "televisit" {
		t.Errorf("envelope = to %q from %q tls %v auth %q", m.To, m.From, m.TLS, m.AuthUser)
	}
	checkMail(t, m.Data, patientEmail, "Your video visit with Test clinic", linkBody)
	if r := readRow(t, pool, id); r.Status != "sent" || r.Attempts != 1 || !r.Sent || r.LastError != "" {
		t.Errorf("row = %+v; want sent after 1 attempt", r)
	}
	var bodyLen int
	if err := pool.QueryRow(ctx, "SELECT length(body_enc) FROM notification_outbox WHERE id = $1", id).Scan(&bodyLen); err != nil || bodyLen != 0 {
		t.Errorf("sent message keeps a %d-byte body (%v); want it blanked", bodyLen, err)
	}
}

// assertSealed checks that neither recipient nor body is stored in clear.
func assertSealed(t *testing.T, ctx context.Context, pool *pgxpool.Pool, id int64) {
	t.Helper()
	var rcpt, body []byte
	if err := pool.QueryRow(ctx, "SELECT recipient_enc, body_enc FROM notification_outbox WHERE id = $1", id).
		Scan(&rcpt, &body); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rcpt, []byte("jane.patient")) || bytes.Contains(body, []byte(linkToken)) {
		t.Fatal("recipient or body stored in clear")
	}
}

// checkMail parses an RFC 5322 message and checks headers and body.
func checkMail(t *testing.T, data, to, subject, body string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, data)
	}
	h := msg.Header
	if a, err := mail.ParseAddress(h.Get("To")); err != nil || a.Address != to {
		t.Errorf("To = %q", h.Get("To"))
	}
	if a, err := mail.ParseAddress(h.Get("From")); err != nil || a.Address != "no-reply@clinic.example" || a.Name != "Televisit" {
		t.Errorf("From = %q", h.Get("From"))
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject = %q (%q)", got, h.Get("Subject"))
	}
	if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %q", h.Get("Date"))
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@clinic.example>") {
		t.Errorf("Message-ID = %q", id)
	}
	if ct := h.Get("Content-Type"); ct != "text/plain; charset=utf-8" || h.Get("Mime-Version") != "1.0" {
		t.Errorf("Content-Type = %q", ct)
	}
	if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", h.Get("Content-Transfer-Encoding"))
	}
	raw, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimRight(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n"); got != body {
		t.Errorf("body = %q; want %q", got, body)
	}
}

func TestSMTPTemporaryFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	srv, sender := tlsSMTP(t, &smtpServer{rcptReply: func(n int, rcpt string) string {
		if n == 1 {
			return "450 4.2.1 <" + rcpt + ">: mailbox busy, try later"
		}
		return ""
	}})
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}, log)

	if sent, err := w.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("first RunOnce = %d, %v; want 0, nil", sent, err)
	}
	r := readRow(t, pool, id)
	if r.Status != "pending" || r.Attempts != 1 || r.LastError != "smtp: rcpt: 450 4.2.1 mailbox busy or unavailable" {
		t.Fatalf("after 450: %+v", r)
	}
	assertNoPHI(t, "last_error", r.LastError)
	total := 0
	eventually(t, "the retry", func() bool {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		return total == 1
	})
	if r := readRow(t, pool, id); r.Status != "sent" || r.Attempts != 2 || r.LastError != "" {
		t.Fatalf("after retry: %+v; want sent, attempts 2", r)
	}
	if got := srv.received(); len(got) != 1 || got[0].To != patientEmail {
		t.Fatalf("server received %+v; want one message", got)
	}
}

func TestSMTPPermanentFailureKeepsPHIOutOfLastError(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, logs := newLog(t)
	srv, sender := tlsSMTP(t, &smtpServer{rcptReply: func(_ int, rcpt string) string {
		return "550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown (" + rcpt + ")"
	}})
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	w := newWorker(t, fastConfig(), pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}, log)

	if sent, err := w.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("RunOnce = %d, %v; want 0, nil", sent, err)
	}
	r := readRow(t, pool, id)
	if r.Status != "failed" || r.Attempts != 1 || r.Sent {
		t.Fatalf("row = %+v; want failed after 1 attempt", r)
	}
	if r.LastError != "smtp: rcpt: 550 5.1.1 mailbox unavailable" {
		t.Errorf("last_error = %q", r.LastError)
	}
	if strings.Contains(r.LastError, patientEmail) || strings.Contains(r.LastError, "@") {
		t.Errorf("last_error holds the recipient: %q", r.LastError)
	}
	assertNoPHI(t, "last_error", r.LastError)
	if !strings.Contains(logs.String(), "notification failed for good") {
		t.Errorf("no failure logged: %s", logs.String())
	}
	if sent, _ := w.RunOnce(ctx); sent != 0 || len(srv.received()) != 0 {
		t.Fatal("a failed message was sent")
	}
}

func TestSMTPMaxAttemptsFails(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, _ := newLog(t)
	_, sender := tlsSMTP(t, &smtpServer{rcptReply: func(int, string) string { return "451 4.3.0 try again" }})
	id := enqueue(t, pool, keys, emailMsg(newVisit(t, pool)))[0]
	cfg := fastConfig()
	cfg.MaxAttempts = 3
	w := newWorker(t, cfg, pool, keys, map[notify.Channel]notify.Sender{notify.ChannelEmail: sender}, log)
	eventually(t, "failure after 3 attempts", func() bool {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		return readRow(t, pool, id).Status != "pending"
	})
	if r := readRow(t, pool, id); r.Status != "failed" || r.Attempts != 3 || r.LastError != "smtp: rcpt: 451 4.3.0 local error in processing" {
		t.Fatalf("row = %+v", r)
	}
}

func TestSMTPSenderDirect(t *testing.T) {
	ctx := context.Background()
	visit := newVisitID()
	t.Run("body survives dot-stuffing, long lines and UTF-8", func(t *testing.T) {
		srv, sender := tlsSMTP(t, &smtpServer{})
		body := ".leading dot\n..two dots\nJoin: https://tv.example.org/join#" + linkToken + "?a=b\n" +
			strings.Repeat("long-line-", 150) + "\nGrüße, 診療所 ✓\n."
		m := notify.Message{ID: 7, VisitID: visit, Channel: notify.ChannelEmail, Recipient: patientEmail,
			Subject: "Ihre Videosprechstunde – Grüße", Body: body}
		if err := sender.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := srv.received()
		if len(got) != 1 {
			t.Fatalf("received %d", len(got))
		}
		for _, line := range strings.Split(got[0].Data, "\n") {
			if len(line) > 998 {
				t.Errorf("line of %d bytes", len(line))
			}
		}
		checkMail(t, got[0].Data, patientEmail, m.Subject, body)
	})
	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		_, roots := selfSigned(t)
		srv := startSMTP(t, &smtpServer{})
		s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: srv.addr, From: "no-reply@clinic.example", StartTLS: true, RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: patientEmail, Body: "x"})
		if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v; want a temporary STARTTLS error", err)
		}
		if len(srv.received()) != 0 {
			t.Fatal("sent in clear")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		serverTLS, _ := selfSigned(t)
		srv := startSMTP(t, &smtpServer{tls: serverTLS})
		s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: srv.addr, From: "no-reply@clinic.example", StartTLS: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: patientEmail, Body: "x"}); err == nil || len(srv.received()) != 0 {
			t.Fatalf("err = %v; want a certificate error and nothing sent", err)
		}
	})
	t.Run("insecure plain-text for development", func(t *testing.T) {
		srv := startSMTP(t, &smtpServer{})
		s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: srv.addr, From: "no-reply@clinic.example", Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: patientEmail, Body: "hello"}); err != nil {
			t.Fatal(err)
		}
		if got := srv.received(); len(got) != 1 || got[0].TLS {
			t.Fatalf("received %+v", got)
		}
	})
	t.Run("bad credentials are temporary and PHI-free", func(t *testing.T) {
		serverTLS, roots := selfSigned(t)
		srv := startSMTP(t, &smtpServer{tls: serverTLS, user: "televisit", password: "right"})
		s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: srv.addr, From: "no-reply@clinic.example",
			Username: "televisit", Password: "wrong", StartTLS: true, RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: patientEmail, Body: "x"})
		if err == nil || notify.IsPermanent(err) || err.Error() != "smtp: auth: 535 5.7.8 authentication failed" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		s, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: closedAddr(t), From: "no-reply@clinic.example", Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: patientEmail, Body: "x"})
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err = %v; want temporary", err)
		}
		assertNoPHI(t, "error", err.Error())
	})
	t.Run("invalid recipient is permanent", func(t *testing.T) {
		_, sender := tlsSMTP(t, &smtpServer{})
		err := sender.Send(ctx, notify.Message{ID: 1, VisitID: visit, Recipient: "jane.patient at example", Body: "x"})
		var pe *notify.PermanentError
		if !errors.As(err, &pe) || strings.Contains(err.Error(), "jane.patient") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSMTPConfigValidation(t *testing.T) {
	good := notify.SMTPConfig{Addr: "smtp.example.org:587", From: "no-reply@clinic.example", StartTLS: true}
	if _, err := notify.NewSMTPSender(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mutate := range map[string]func(*notify.SMTPConfig){
		"no port":             func(c *notify.SMTPConfig) { c.Addr = "smtp.example.org" },
		"bad from":            func(c *notify.SMTPConfig) { c.From = "not an address" },
		"plain without flag":  func(c *notify.SMTPConfig) { c.StartTLS = false },
		"user without pass":   func(c *notify.SMTPConfig) { c.Username = "u" },
		"negative timeout":    func(c *notify.SMTPConfig) { c.Timeout = -time.Second },
		"HELO with line feed": func(c *notify.SMTPConfig) { c.HELOName = "a\nb" },
	} {
		c := good
		mutate(&c)
		if _, err := notify.NewSMTPSender(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
