package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"regexp"
)

// enhancedCode matches an RFC 3463 enhanced status code at the start of a
// reply text ("5.1.1"); it carries no PHI and helps operators.
var enhancedCode = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)

// smtpError reduces an error from net/smtp at the named step to PHI-free
// text. Server replies are reduced to code, enhanced code and a fixed text
// because servers echo the recipient address. Network, TLS and context
// errors are wrapped: they name the server, never the recipient.
func smtpError(step string, err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		reason := fmt.Sprintf("smtp: %s: %d %s", step, reply.Code, replyText(reply))
		if reply.Code >= 500 && (step == "rcpt" || step == "data") {
			return permanent(reason)
		}
		return errors.New(reason)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("smtp: %s: %w", step, err)
	}
	if step == "rcpt" || step == "data" {
		// Not a reply and not the network: keep nothing of it.
		return fmt.Errorf("smtp: %s: protocol error", step)
	}
	return fmt.Errorf("smtp: %s: %w", step, err)
}

// replyText is a fixed description of an SMTP reply code, prefixed with the
// reply's enhanced status code when it has one.
func replyText(r *textproto.Error) string {
	t := codeText(r.Code)
	if ec := enhancedCode.FindString(r.Msg); ec != "" {
		return ec + " " + t
	}
	return t
}

// codeText describes the common reply codes of RFC 5321 and RFC 4954.
func codeText(code int) string {
	switch code {
	case 421:
		return "service not available"
	case 450:
		return "mailbox busy or unavailable"
	case 451:
		return "local error in processing"
	case 452:
		return "insufficient system storage"
	case 454:
		return "TLS not available"
	case 530:
		return "authentication required"
	case 535:
		return "authentication failed"
	case 550:
		return "mailbox unavailable"
	case 551:
		return "user not local"
	case 552:
		return "exceeded storage allocation"
	case 553:
		return "mailbox name not allowed"
	case 554:
		return "transaction failed"
	}
	if code >= 500 {
		return "permanent failure"
	}
	return "temporary failure"
}
