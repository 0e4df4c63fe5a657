package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL NOTIFY channel of placement changes; the payload
// is "<visit uuid> <node id>" (node id empty when the room has no owner).
const Channel = "televisit_rooms"

// Node is this process's membership in the cluster.
type Node struct {
	pool     *pgxpool.Pool
	cfg      Config
	log      *slog.Logger
	draining atomic.Bool
	proxyTr  *http.Transport // to the other nodes

	mu     sync.Mutex
	held   map[uuid.UUID]struct{} // rooms placed here, as far as we know
	onLost func(visit uuid.UUID, owner string)

	lostMu sync.Mutex // serialises OnLost calls
}

// New validates cfg, fills its defaults and upserts this node's
// cluster_nodes row with a fresh lease (draining=false).
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config, log *slog.Logger) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	n := &Node{pool: pool, cfg: cfg, log: log.With("node", cfg.NodeID), held: map[uuid.UUID]struct{}{},
		proxyTr: proxyTransport(cfg.ProxyTLS)}
	if err := n.register(ctx); err != nil {
		return nil, err
	}
	// Rows of nodes gone for a day are forgotten (each process start has
	// its own id by default); their placements go with them.
	if _, err := pool.Exec(ctx, `DELETE FROM cluster_nodes WHERE lease_until < now() - interval '1 day'`); err != nil {
		return nil, fmt.Errorf("cluster: forget old nodes: %w", err)
	}
	return n, nil
}

// register upserts this node's row with a fresh lease.
func (n *Node) register(ctx context.Context) error {
	_, err := n.pool.Exec(ctx, `
		INSERT INTO cluster_nodes (id, advertise_url, lease_until, draining)
		VALUES ($1, $2, now() + $3::bigint * interval '1 microsecond', $4)
		ON CONFLICT (id) DO UPDATE SET advertise_url = EXCLUDED.advertise_url,
			started_at = now(), lease_until = EXCLUDED.lease_until, draining = EXCLUDED.draining`,
		n.cfg.NodeID, n.cfg.AdvertiseURL, n.cfg.Lease.Microseconds(), n.Draining())
	if err != nil {
		return fmt.Errorf("cluster: register node: %w", err)
	}
	return nil
}

// ID returns this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Config returns the node's configuration with defaults filled in.
func (n *Node) Config() Config { return n.cfg }

// OnLost sets the function called when a room placed here now belongs to
// another node (owner "" when unknown). Set it before Run. Calls are
// serialised and happen on Run's goroutines; f must not block for long.
func (n *Node) OnLost(f func(visit uuid.UUID, owner string)) {
	n.mu.Lock()
	n.onLost = f
	n.mu.Unlock()
}

// Draining reports whether Drain was called.
func (n *Node) Draining() bool { return n.draining.Load() }

// Drain marks this node draining in the database: new rooms go elsewhere.
func (n *Node) Drain(ctx context.Context) error {
	if _, err := n.pool.Exec(ctx, `UPDATE cluster_nodes SET draining = true WHERE id = $1`, n.cfg.NodeID); err != nil {
		return fmt.Errorf("cluster: drain: mark node: %w", err)
	}
	n.draining.Store(true)
	n.log.Info("cluster node draining")
	return nil
}

// Held returns the rooms this node believes it holds.
func (n *Node) Held() []uuid.UUID {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]uuid.UUID, 0, len(n.held))
	for v := range n.held {
		out = append(out, v)
	}
	return out
}

func (n *Node) hold(visit uuid.UUID) {
	n.mu.Lock()
	n.held[visit] = struct{}{}
	n.mu.Unlock()
}

func (n *Node) holds(visit uuid.UUID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.held[visit]
	return ok
}

// unhold forgets visit and reports whether it was held.
func (n *Node) unhold(visit uuid.UUID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.held[visit]
	delete(n.held, visit)
	return ok
}

// lose forgets visit and, when it was held, calls OnLost.
func (n *Node) lose(visit uuid.UUID, owner string) {
	if !n.unhold(visit) {
		return
	}
	n.mu.Lock()
	f := n.onLost
	n.mu.Unlock()
	n.log.Warn("cluster room lost to another node", "visit", visit, "owner", owner)
	if f == nil {
		return
	}
	n.lostMu.Lock()
	defer n.lostMu.Unlock()
	f(visit, owner)
}

// heartbeat is the lease renewal period.
func (n *Node) heartbeat() time.Duration { return n.cfg.Lease / 3 }
