package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/televisit/televisit/sfu"
)

// SFUSource is what the SFU collector reads (*sfu.SFU).
type SFUSource interface{ Stats() sfu.Stats }

var (
	sfuRooms     = desc("sfu", "rooms", "Media rooms open on this node.")
	sfuParts     = desc("sfu", "participants", "Participants (PeerConnections) in this node's rooms.")
	sfuForwarded = desc("sfu", "packets_forwarded_total", "RTP packets forwarded to subscribers and sinks (retransmissions excluded).")
	sfuLost      = desc("sfu", "packets_lost_total", "Packets subscribers report lost in RTCP receiver reports on forwarded tracks.")
	sfuNacked    = desc("sfu", "packets_nacked_total", "Packets subscribers asked to be retransmitted (RTCP NACK).")
)

type sfuCollector struct{ src SFUSource }

func (c sfuCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sfuRooms, sfuParts, sfuForwarded, sfuLost, sfuNacked} {
		ch <- d
	}
}

func (c sfuCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	ch <- gauge(sfuRooms, float64(st.Rooms))
	ch <- gauge(sfuParts, float64(st.Participants))
	ch <- counter(sfuForwarded, float64(st.PacketsForwarded))
	ch <- counter(sfuLost, float64(st.PacketsLost))
	ch <- counter(sfuNacked, float64(st.PacketsNacked))
}

// WatchSFU collects the SFU's rooms, participants and packet counters.
func (m *Metrics) WatchSFU(src SFUSource) error { return m.reg.Register(sfuCollector{src}) }
