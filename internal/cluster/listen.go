package cluster

import (
	"context"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/pglisten"
)

// listenLoop holds a LISTEN connection on Channel until ctx ends; after a
// reconnect it reconciles, since notifications sent meanwhile are lost.
func (n *Node) listenLoop(ctx context.Context) {
	pglisten.Run(ctx, n.pool, pglisten.Config{
		Channel: Channel,
		OnListen: func(ctx context.Context, first bool) {
			if !first {
				n.reconcile(ctx)
			}
		},
		OnNotify: n.onNotify,
	}, n.log)
}

// onNotify handles one placement change.
func (n *Node) onNotify(ctx context.Context, payload string) {
	visit, owner, err := parsePayload(payload)
	if err != nil {
		n.log.Warn("cluster ignoring a malformed notification", "err", err)
		return
	}
	if owner != n.cfg.NodeID && n.holds(visit) {
		n.confirmLost(ctx, visit, owner)
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
