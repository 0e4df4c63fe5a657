package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small SMTP server on 127.0.0.1 that speaks what net/smtp
// needs: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
type smtpServer struct {
	addr     string
	tls      *tls.Config // nil: no STARTTLS offered
	user     string      // "": no AUTH offered
	password string
	// rcptReply returns the reply to the n-th RCPT TO (from 1) for rcpt;
	// "" means "250 OK".
	rcptReply func(n int, rcpt string) string

	mu    sync.Mutex
	rcpts int
	mails []receivedMail
}

type receivedMail struct {
	From, To string
	Data     string
	TLS      bool
	AuthUser string
}

// startSMTP serves until the test ends.
func startSMTP(t testing.TB, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *smtpServer) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mails...)
}

// session is one connection's state.
type session struct {
	s    *smtpServer
	conn net.Conn
	tp   *textproto.Conn
	tls  bool
	auth string
	mail receivedMail
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	ss := &session{s: s, conn: c, tp: textproto.NewConn(c)}
	ss.reply("220 test.invalid ESMTP ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !ss.handle(strings.ToUpper(verb), arg) {
			return
		}
	}
}

func (ss *session) reply(lines ...string) { _ = ss.tp.PrintfLine("%s", strings.Join(lines, "\r\n")) }

// handle answers one command; false ends the session.
func (ss *session) handle(verb, arg string) bool {
	switch verb {
	case "EHLO", "HELO":
		ss.ehlo()
	case "STARTTLS":
		return ss.startTLS()
	case "AUTH":
		ss.authPlain(arg)
	case "MAIL":
		ss.mail = receivedMail{From: addrArg(arg), TLS: ss.tls, AuthUser: ss.auth}
		ss.reply("250 2.1.0 OK")
	case "RCPT":
		ss.rcpt(addrArg(arg))
	case "DATA":
		ss.data()
	case "RSET", "NOOP":
		ss.reply("250 OK")
	case "QUIT":
		ss.reply("221 bye")
		return false
	default:
		ss.reply("502 5.5.2 command not recognized")
	}
	return true
}

func (ss *session) ehlo() {
	lines := []string{"250-test.invalid", "250-8BITMIME"}
	if ss.s.tls != nil && !ss.tls {
		lines = append(lines, "250-STARTTLS")
	}
	if ss.s.user != "" {
		lines = append(lines, "250-AUTH PLAIN")
	}
	ss.reply(append(lines, "250 SIZE 10240000")...)
}

func (ss *session) startTLS() bool {
	if ss.s.tls == nil || ss.tls {
		ss.reply("454 4.7.0 TLS not available")
		return true
	}
	ss.reply("220 2.0.0 go ahead")
	tc := tls.Server(ss.conn, ss.s.tls)
	if err := tc.Handshake(); err != nil {
		return false
	}
	ss.conn, ss.tp, ss.tls, ss.auth = tc, textproto.NewConn(tc), true, ""
	return true
}

func (ss *session) authPlain(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	raw, err := base64.StdEncoding.DecodeString(initial)
	parts := strings.Split(string(raw), "\x00")
	if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 ||
		parts[1] != ss.s.user || parts[2] != ss.s.password {
		ss.reply("535 5.7.8 authentication credentials invalid")
		return
	}
	ss.auth = parts[1]
	ss.reply("235 2.7.0 authenticated")
}

func (ss *session) rcpt(to string) {
	ss.s.mu.Lock()
	ss.s.rcpts++
	n := ss.s.rcpts
	ss.s.mu.Unlock()
	if ss.s.rcptReply != nil {
		if r := ss.s.rcptReply(n, to); r != "" {
			ss.reply(r)
			return
		}
	}
	ss.mail.To = to
	ss.reply("250 2.1.5 OK")
}

func (ss *session) data() {
	if ss.mail.To == "" {
		ss.reply("503 5.5.1 need RCPT")
		return
	}
	ss.reply("354 end with <CRLF>.<CRLF>")
	b, err := ss.tp.ReadDotBytes()
	if err != nil {
		return
	}
	ss.mail.Data = string(b)
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, ss.mail)
	ss.s.mu.Unlock()
	ss.mail = receivedMail{}
	ss.reply("250 2.0.0 queued")
}

// addrArg takes the address out of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func addrArg(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// selfSigned returns a server config for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "televisit test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion: tls.VersionTLS12}, pool
}

// closedAddr is a loopback address on which nothing listens.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
