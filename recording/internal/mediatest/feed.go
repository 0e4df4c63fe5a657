package mediatest

import (
	"testing"
	"time"

	"github.com/televisit/televisit/recording/webm"
)

// Feed writes pkts to w in order, each arriving at base plus its send time
// (never earlier than the packet before it, as on a wire), and fails the
// test on the first error.
func Feed(t testing.TB, w *webm.Writer, pkts []Packet, base time.Time) {
	t.Helper()
	var at time.Duration
	for i, p := range pkts {
		at = max(at, p.At)
		if err := w.WriteRTP(p.Kind, p.RTP, base.Add(at)); err != nil {
			t.Fatalf("mediatest: packet %d: %v", i, err)
		}
	}
}
