package metrics

import (
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// ClusterSource is what the cluster collector reads (*cluster.Node).
type ClusterSource interface {
	Draining() bool
	Held() []uuid.UUID
}

var (
	clusterDraining = desc("cluster", "draining", "1 while this node drains (SIGTERM): it takes no new rooms.")
	clusterRooms    = desc("cluster", "rooms_placed", "Rooms the database places on this node, as far as this node knows.")
)

type clusterCollector struct{ src ClusterSource }

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- clusterDraining
	ch <- clusterRooms
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	d := 0.0
	if c.src.Draining() {
		d = 1
	}
	ch <- gauge(clusterDraining, d)
	ch <- gauge(clusterRooms, float64(len(c.src.Held())))
}

// WatchCluster collects whether this node drains and how many rooms it
// holds.
func (m *Metrics) WatchCluster(src ClusterSource) error {
	return m.reg.Register(clusterCollector{src})
}
