package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric.
const namespace = "televisit"

// Metrics owns the registry and the histograms observed directly.
type Metrics struct {
	reg  *prometheus.Registry
	log  *slog.Logger
	join prometheus.Histogram
	wait prometheus.Histogram
}

// New returns Metrics with the Go runtime and process collectors.
func New(log *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{reg: reg, log: log,
		join: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "sfu",
			Name: "join_seconds", Help: "Time from a participant's join to its PeerConnection first connecting.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30}}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "waiting_room",
			Name: "wait_seconds", Help: "Time patients spent in the waiting room, observed when admitted.",
			Buckets: []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200}}),
	}
	reg.MustRegister(m.join, m.wait)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn), ErrorHandling: promhttp.ContinueOnError,
		Timeout: 10 * time.Second,
	})
}

// Register adds a collector, for tests and extensions.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// ObserveJoin records one join-to-connected time (sfu.OnConnected).
func (m *Metrics) ObserveJoin(d time.Duration) { m.join.Observe(d.Seconds()) }

// ObserveWait records one patient's wait (visits.OnAdmitted).
func (m *Metrics) ObserveWait(d time.Duration) { m.wait.Observe(d.Seconds()) }
