package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/televisit/televisit/visits"
)

// OpsSource is what the database collector reads (*visits.Service).
type OpsSource interface {
	OpsStats(ctx context.Context) (visits.OpsStats, error)
}

var (
	waiting     = desc("waiting_room", "patients", "Patients waiting in every clinic's waiting room (database-wide).")
	ehrJobs     = desc("ehr_outbox", "jobs", "EHR outbox jobs by state (database-wide).", "state")
	notifyJobs  = desc("notify_outbox", "messages", "Notification outbox rows by status (database-wide).", "status")
	opsUp       = desc("database", "stats_up", "1 when the last database count for metrics succeeded, else 0.")
	ehrStates   = []string{"pending", "in_flight", "delivered", "failed"}
	notifyState = []string{"pending", "sent", "failed"}
)

// OpsConfig tunes the database collector.
type OpsConfig struct {
	Timeout time.Duration // per query round; default 2s
	MaxAge  time.Duration // counts are reused this long; default 5s
}

// opsCollector queries at scrape time, at most once per MaxAge.
type opsCollector struct {
	src OpsSource
	cfg OpsConfig
	log *slog.Logger

	mu   sync.Mutex
	at   time.Time
	last visits.OpsStats
	ok   bool
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{waiting, ehrJobs, notifyJobs, opsUp} {
		ch <- d
	}
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.stats()
	ch <- gauge(opsUp, map[bool]float64{true: 1}[ok])
	if !ok {
		return
	}
	ch <- gauge(waiting, float64(st.Waiting))
	for s, n := range withKeys(st.EHRJobs, ehrStates...) {
		ch <- gauge(ehrJobs, float64(n), s)
	}
	for s, n := range withKeys(st.NotifyJobs, notifyState...) {
		ch <- gauge(notifyJobs, float64(n), s)
	}
}

// stats returns cached counts, refreshing them when older than MaxAge.
// The lock is held across the query so concurrent scrapes share one.
func (c *opsCollector) stats() (visits.OpsStats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.cfg.MaxAge {
		return c.last, c.ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	st, err := c.src.OpsStats(ctx)
	c.at, c.last, c.ok = time.Now(), st, err == nil
	if err != nil {
		c.log.Warn("metrics: database counts", "err", err)
	}
	return c.last, c.ok
}

// WatchDatabase collects the waiting room and outbox counts from the
// database.
func (m *Metrics) WatchDatabase(src OpsSource, cfg OpsConfig) error {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * time.Second
	}
	return m.reg.Register(&opsCollector{src: src, cfg: cfg, log: m.log})
}
