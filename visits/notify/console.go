package notify

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// ConsoleSender is for development: it prints each message, recipient and
// link included, to W (os.Stdout when nil) between clear banners. It never
// writes to the logger. Never configure it in production.
type ConsoleSender struct {
	W io.Writer
}

const consoleBanner = "==================== TELEVISIT DEV NOTIFICATION (console, not delivered) ===================="

// Send prints m in one write.
func (s ConsoleSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	w := s.W
	if w == nil {
		w = os.Stdout
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", consoleBanner)
	fmt.Fprintf(&b, "Outbox-ID: %d\nVisit:     %s\nChannel:   %s\nTo:        %s\n", m.ID, m.VisitID, m.Channel, m.Recipient)
	if m.Subject != "" {
		fmt.Fprintf(&b, "Subject:   %s\n", m.Subject)
	}
	fmt.Fprintf(&b, "\n%s\n%s\n\n", strings.TrimRight(m.Body, "\r\n"), strings.Repeat("=", len(consoleBanner)))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}
