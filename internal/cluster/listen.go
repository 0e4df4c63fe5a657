package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

const maxListenBackoff = 5 * time.Second

// listenLoop holds a LISTEN connection on Channel until ctx ends,
// reconnecting with backoff; after a reconnect it reconciles, since
// notifications sent meanwhile are lost.
func (n *Node) listenLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for first := true; ; first = false {
		err := n.listen(ctx, !first)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("cluster listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxListenBackoff)
	}
}

func (n *Node) listen(ctx context.Context, resync bool) error {
	conn, err := n.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cluster: listen: acquire: %w", err)
	}
	// The connection carries LISTEN state: never return it to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("cluster: listen: %w", err)
	}
	if resync {
		n.reconcile(ctx)
	}
	for {
		msg, err := pc.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("cluster: listen: wait: %w", err)
		}
		visit, owner, err := parsePayload(msg.Payload)
		if err != nil {
			n.log.Warn("cluster ignoring a malformed notification", "err", err)
			continue
		}
		if owner != n.cfg.NodeID && n.holds(visit) {
			n.confirmLost(ctx, visit, owner)
		}
	}
}

// confirmLost reads visit's current owner (a notification may be stale)
// and reports the room lost unless the placement still names this node.
func (n *Node) confirmLost(ctx context.Context, visit uuid.UUID, hint string) {
	owners, err := n.owners(ctx, []uuid.UUID{visit})
	if err != nil {
		n.log.Warn("cluster could not confirm a take-over; trusting the notification", "err", err)
		n.lose(visit, hint)
		return
	}
	if owner := owners[visit]; owner != n.cfg.NodeID {
		n.lose(visit, owner)
	}
}
