package mediaclient

import (
	"context"
	"fmt"
	"time"
)

// EventKind names what happened to the client.
type EventKind string

const (
	// EventConnected: a socket opened (Base, Node = the ?node= asked for).
	EventConnected EventKind = "connected"
	// EventDialFailed: a socket did not open (Code = HTTP status or 0, Err).
	EventDialFailed EventKind = "dial_failed"
	// EventDropped: the socket ended without `moved` (Code = close code or
	// 0, Err).
	EventDropped EventKind = "dropped"
	// EventMoved: the server said `moved` (Node = where to, Reason).
	EventMoved EventKind = "moved"
	// EventJoined: `joined` (Resumed, Participant).
	EventJoined EventKind = "joined"
	// EventPeerBuilt: a new PeerConnection was built and published (after
	// a join that did not resume).
	EventPeerBuilt EventKind = "peer_built"
	// EventICERestart: a resumed join asked for an ICE restart.
	EventICERestart EventKind = "ice_restart"
	// EventError: the server answered `error` (Reason = its code).
	EventError EventKind = "error"
	// EventMediaStopped: `media_stopped` (Reason).
	EventMediaStopped EventKind = "media_stopped"
	// EventSessionEnded: `session_ended` (Reason).
	EventSessionEnded EventKind = "session_ended"
	// EventPatientStatus: a patient's `patient_status` (Reason = the
	// visit's status: waiting, in_progress, ...), sent after every hello.
	EventPatientStatus EventKind = "patient_status"
	// EventStopped: the client gave up (a close code that says stop:
	// 4400, 4401, 4403, 4409); Code is that code.
	EventStopped EventKind = "stopped"
)

// Event is one recorded happening, in order.
type Event struct {
	At          time.Time
	Kind        EventKind
	Base        string // the base URL of the socket
	Node        string // connected/dial_failed: the ?node= asked for; moved: the target
	Reason      string
	Resumed     bool
	Participant string
	Code        int
	Err         string
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.At.Format("15:04:05.000"), e.Kind)
	if e.Base != "" {
		s += " base=" + e.Base
	}
	if e.Node != "" {
		s += " node=" + e.Node
	}
	if e.Reason != "" {
		s += " reason=" + e.Reason
	}
	if e.Kind == EventJoined {
		s += fmt.Sprintf(" resumed=%v", e.Resumed)
	}
	if e.Code != 0 {
		s += fmt.Sprintf(" code=%d", e.Code)
	}
	if e.Err != "" {
		s += " err=" + e.Err
	}
	return s
}

func (c *Client) record(e Event) {
	e.At = time.Now()
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	c.cfg.Log.Debug("media client event", "sender", c.cfg.Sender, "event", e.String())
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}

// Events is a copy of every event so far, oldest first.
func (c *Client) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// WaitEvent waits for the first event at index from or later that match
// accepts, and returns it with its index.
func (c *Client) WaitEvent(ctx context.Context, from int, match func(Event) bool) (Event, int, error) {
	for {
		evs := c.Events()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i, nil
			}
		}
		from = max(from, len(evs))
		select {
		case <-ctx.Done():
			return Event{}, 0, fmt.Errorf("mediaclient: waiting for an event: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
