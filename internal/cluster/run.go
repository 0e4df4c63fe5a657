package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// errNodeGone means this node's cluster_nodes row no longer exists.
var errNodeGone = errors.New("cluster: node row is gone")

// expireTimeout bounds the final lease release when Run ends.
const expireTimeout = 5 * time.Second

// Run renews the lease every Lease/3 and listens on Channel until ctx ends,
// calling OnLost for rooms placed here that now name another node (or no
// longer exist). Renewals that fail keep the rooms (a database outage must
// not end running visits); after the next renewal that succeeds, rooms
// another node took over meanwhile are reported lost. When ctx ends, Run
// sets its lease_until to now(), so other nodes take its rooms over at
// once, and returns nil.
func (n *Node) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.listenLoop(ctx)
	}()
	n.heartbeatLoop(ctx)
	wg.Wait()
	n.expire(context.WithoutCancel(ctx))
	return nil
}

func (n *Node) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(n.heartbeat())
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.renew(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			// The rooms stay: media does not need the database, and a
			// database outage must not end every visit. If another node
			// took a room over meanwhile (this node alone was cut off),
			// the reconcile after the next renewal reports it lost.
			n.log.Warn("cluster lease renewal failed", "err", err, "since_ok", time.Since(lastOK).Round(time.Millisecond))
			continue
		}
		lastOK = time.Now()
		n.reconcile(ctx)
	}
}

// renew extends the lease; it gives up after one heartbeat period.
func (n *Node) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.heartbeat())
	defer cancel()
	tag, err := n.pool.Exec(ctx, `UPDATE cluster_nodes SET lease_until = now() + $2::bigint * interval '1 microsecond'
		WHERE id = $1`, n.cfg.NodeID, n.cfg.Lease.Microseconds())
	if err != nil {
		return fmt.Errorf("cluster: renew lease: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// Our row was forgotten (a day without renewals): our rooms were
		// taken over with it, so join again with none.
		n.log.Warn("cluster node row was gone; registering again")
		n.loseAll()
		if err := n.register(ctx); err != nil {
			return errors.Join(errNodeGone, err)
		}
	}
	return nil
}

// loseAll reports every held room lost with an unknown owner.
func (n *Node) loseAll() {
	for _, v := range n.Held() {
		n.lose(v, "")
	}
}

// reconcile compares the rooms held with their placement rows and reports
// those that moved or vanished: a safety net for missed notifications.
func (n *Node) reconcile(ctx context.Context) {
	held := n.Held()
	if len(held) == 0 {
		return
	}
	owners, err := n.owners(ctx, held)
	if err != nil {
		n.log.Warn("cluster reconcile failed", "err", err)
		return
	}
	for _, v := range held {
		if owner := owners[v]; owner != n.cfg.NodeID {
			n.lose(v, owner)
		}
	}
}

// owners returns the owner of each visit that has a placement.
func (n *Node) owners(ctx context.Context, visits []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := n.pool.Query(ctx, `SELECT visit_id, node_id FROM room_placements WHERE visit_id = ANY($1)`, visits)
	if err != nil {
		return nil, fmt.Errorf("cluster: read owners: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]string, len(visits))
	for rows.Next() {
		var v uuid.UUID
		var node string
		if err := rows.Scan(&v, &node); err != nil {
			return nil, fmt.Errorf("cluster: read owners: %w", err)
		}
		out[v] = node
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster: read owners: %w", err)
	}
	return out, nil
}

// expire sets lease_until = now() so others may take the rooms at once.
func (n *Node) expire(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, expireTimeout)
	defer cancel()
	if _, err := n.pool.Exec(ctx, `UPDATE cluster_nodes SET lease_until = now() WHERE id = $1`, n.cfg.NodeID); err != nil {
		n.log.Warn("cluster lease release failed", "err", err)
		return
	}
	n.log.Info("cluster lease released")
}
