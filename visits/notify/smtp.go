package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"
)

// SMTPConfig configures the e-mail sender.
type SMTPConfig struct {
	Addr               string // host:port of the submission server
	From               string // envelope and header sender: "name@example.org" or "Clinic <name@example.org>"
	Username, Password string // optional AUTH PLAIN credentials; need StartTLS unless the server is localhost
	// StartTLS upgrades the connection before anything else is sent and
	// fails (and retries later) if the server does not offer it. Required
	// unless Insecure.
	StartTLS bool
	Insecure bool           // allow plain-text SMTP: development and tests only
	Timeout  time.Duration  // whole conversation per message; default 30s
	RootCAs  *x509.CertPool // verifies the server certificate; nil: system roots
	HELOName string         // name sent in EHLO; default "localhost"
}

func (c *SMTPConfig) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.HELOName == "" {
		c.HELOName = "localhost"
	}
}

func (c *SMTPConfig) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return errors.New("field Addr must be host:port")
	}
	if a, err := mail.ParseAddress(c.From); err != nil || a.Address == "" {
		return errors.New("field From must be an e-mail address")
	}
	if !c.StartTLS && !c.Insecure {
		return errors.New("field StartTLS is required unless Insecure is set")
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("fields Username and Password go together")
	}
	if c.Timeout < 0 {
		return errors.New("field Timeout must not be negative")
	}
	if hasLineBreak(c.HELOName) {
		return errors.New("field HELOName must be one line")
	}
	return nil
}

// SMTPSender delivers e-mail through an SMTP submission server with
// net/smtp, one connection per message. It is safe for concurrent use.
type SMTPSender struct {
	cfg  SMTPConfig
	host string
	from *mail.Address
}

// NewSMTPSender checks cfg, fills in defaults and returns a sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("notify: smtp config: %w", err)
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	from, _ := mail.ParseAddress(cfg.From)
	return &SMTPSender{cfg: cfg, host: host, from: from}, nil
}

// Send delivers m to m.Recipient. A 5xx reply to RCPT or DATA is a
// *PermanentError; every other failure, including 5xx replies before the
// recipient is named (a relay or credentials problem that an operator can
// fix), is temporary. Returned errors never contain the recipient or the
// server's reply text, only the SMTP step, reply code and a fixed text.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if err := ValidateRecipient(ChannelEmail, m.Recipient); err != nil {
		return permanent("smtp: invalid recipient address")
	}
	msg, err := buildMail(s.from, m, time.Now())
	if err != nil {
		return permanent("smtp: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return s.transact(c, m.Recipient, msg)
}

// connect dials, reads the greeting, says EHLO, upgrades to TLS and
// authenticates. The connection is aborted when ctx ends.
func (s *SMTPSender) connect(ctx context.Context) (*smtp.Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, smtpError("dial", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		stop()
		conn.Close()
		return nil, smtpError("greeting", err)
	}
	if err := s.handshake(c); err != nil {
		stop()
		c.Close()
		return nil, err
	}
	return c, nil
}

func (s *SMTPSender) handshake(c *smtp.Client) error {
	if err := c.Hello(s.cfg.HELOName); err != nil {
		return smtpError("ehlo", err)
	}
	if s.cfg.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp: starttls: server does not offer STARTTLS")
		}
		tc := &tls.Config{ServerName: s.host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
		if err := c.StartTLS(tc); err != nil {
			return smtpError("starttls", err)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)); err != nil {
			return smtpError("auth", err)
		}
	}
	return nil
}

// transact runs MAIL, RCPT and DATA. Once DATA is accepted the message is
// delivered; a failing QUIT does not change that.
func (s *SMTPSender) transact(c *smtp.Client, rcpt string, msg []byte) error {
	if err := c.Mail(s.from.Address); err != nil {
		return smtpError("mail", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return smtpError("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("data", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("data", err)
	}
	_ = c.Quit()
	return nil
}
