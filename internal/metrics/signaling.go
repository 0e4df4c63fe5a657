package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/televisit/televisit/signaling"
)

// SignalingSource is what the signaling collector reads (*signaling.Server).
type SignalingSource interface{ Stats() signaling.Stats }

var (
	sigSessions = desc("signaling", "sessions", "Open WebSocket sessions by actor kind.", "kind")
	sigParts    = desc("signaling", "media_participants", "Participants holding a place in a room on this node, by role.", "role")
	sigMessages = desc("signaling", "messages_total", "Client messages received, by type (unknown types: \"unknown\").", "type")
	sigMoved    = desc("signaling", "moved_total", "Participants told to reconnect to another node, by reason.", "reason")
)

// sessionKinds and roles always have a series, zero until used.
var (
	sessionKinds = []string{"staff", "api_client", "patient", "guest"}
	roles        = []string{"patient", "clinician", "guest"}
)

type signalingCollector struct{ src SignalingSource }

func (c signalingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sigSessions
	ch <- sigParts
	ch <- sigMessages
	ch <- sigMoved
}

func (c signalingCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	for k, n := range withKeys(st.Sessions, sessionKinds...) {
		ch <- gauge(sigSessions, float64(n), k)
	}
	for r, n := range withKeys(st.MediaParticipants, roles...) {
		ch <- gauge(sigParts, float64(n), r)
	}
	for t, n := range st.Messages {
		ch <- counter(sigMessages, float64(n), t)
	}
	for r, n := range st.Moved {
		ch <- counter(sigMoved, float64(n), r)
	}
}

// WatchSignaling collects WebSocket sessions, media participants by role
// and messages by type.
func (m *Metrics) WatchSignaling(src SignalingSource) error {
	return m.reg.Register(signalingCollector{src})
}
