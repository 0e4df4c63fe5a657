package notify

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// buildMail renders m as an RFC 5322 message: headers, then the body as
// text/plain UTF-8 in quoted-printable, which keeps every line short and
// 7-bit clean whatever the body holds.
func buildMail(from *mail.Address, m Message, now time.Time) ([]byte, error) {
	if hasLineBreak(m.Subject) {
		return nil, errors.New("subject contains a line break")
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", (&mail.Address{Address: m.Recipient}).String())
	if m.Subject != "" {
		header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	}
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(m, domainOf(from.Address)))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, errors.New("encode body")
	}
	if err := qp.Close(); err != nil {
		return nil, errors.New("encode body")
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// messageID is stable for an outbox row, so that a message sent twice
// (at-least-once delivery) carries the same Message-ID and receivers can
// drop the copy. It is a hash: it reveals neither visit nor row.
func messageID(m Message, domain string) string {
	var seed []byte
	if m.ID != 0 {
		seed = binary.BigEndian.AppendUint64(append([]byte("televisit-notify/"), m.VisitID[:]...), uint64(m.ID))
	} else {
		seed = make([]byte, 16)
		_, _ = rand.Read(seed) // crypto/rand.Read never fails
	}
	sum := sha256.Sum256(seed)
	return "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "televisit.invalid"
}
