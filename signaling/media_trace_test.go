package signaling

import (
	"fmt"
	"strings"
	"time"
)

// The wsPeer's negotiation timeline: every message, SDP and candidate in
// order with its time, and what Pion logged, shown when a test fails. It
// is how a lost ICE restart is told apart from a slow one.

// note adds a line to the peer's timeline.
func (p *wsPeer) note(format string, args ...any) {
	line := fmt.Sprintf("%8.3fs ", time.Since(p.born).Seconds()) + fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.trace = append(p.trace, line)
	p.mu.Unlock()
}

// noteMessage records a server message the peer's loop handles.
func (p *wsPeer) noteMessage(m peerMsg) {
	switch m.Type {
	case "candidate":
		p.note("got candidate %s (signaling %s)", m.Candidate.Candidate, p.pc.SignalingState())
	case "offer", "answer":
		p.noteSDP("got "+m.Type, m.SDP)
	default:
		p.note("got %s %s", m.Type, m.Code)
	}
}

// noteSDP records an SDP's ICE generation (its ufrag) and how many
// candidates it carries.
func (p *wsPeer) noteSDP(what, sdp string) {
	p.note("%s (ufrag %s, %d candidates)", what, sdpAttr(sdp, "a=ice-ufrag:"), strings.Count(sdp, "a=candidate:"))
}

// dumpTrace shows the timeline and the packet counts of a failed test.
func (p *wsPeer) dumpTrace() {
	if !p.t.Failed() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Logf("%s: received %v; timeline:\n%s", p.name, p.received, strings.Join(p.trace, "\n"))
}

// droppedCandidates is how many of the server's candidates Pion dropped
// because no description the peer had announced their ufrag.
func (p *wsPeer) droppedCandidates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// pionLog puts the peer's Pion log in its timeline.
type pionLog struct{ p *wsPeer }

func (l pionLog) Write(b []byte) (int, error) {
	msg := strings.TrimSpace(string(b))
	if strings.Contains(msg, "dropping candidate") {
		l.p.mu.Lock()
		l.p.dropped++
		l.p.mu.Unlock()
	}
	l.p.note("pion: %s", msg)
	return len(b), nil
}

// sdpAttr is the value of the first line of sdp that starts with prefix.
func sdpAttr(sdp, prefix string) string {
	for _, l := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return v
		}
	}
	return ""
}
