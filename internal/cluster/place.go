package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Placement says where a visit's room lives.
type Placement struct {
	Node  string // owner node id
	Local bool   // the owner is this node
	Epoch int64  // +1 at every change of owner
}

// ErrNotOwner means the placement does not name this node.
var ErrNotOwner = errors.New("cluster: room is not placed on this node")

// Place returns the node that holds visit's room, claiming it when it has no
// live owner: for this node unless draining, else for the live non-draining
// node with the fewest rooms (this node when there is none).
func (n *Node) Place(ctx context.Context, visit uuid.UUID) (Placement, error) {
	var p Placement
	err := pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
		var err error
		p, err = n.placeTx(ctx, tx, visit)
		return err
	})
	if err != nil {
		if p.Local {
			n.unhold(visit)
		}
		return Placement{}, fmt.Errorf("cluster: place room: %w", err)
	}
	return p, nil
}

func (n *Node) placeTx(ctx context.Context, tx pgx.Tx, visit uuid.UUID) (Placement, error) {
	if err := lockVisit(ctx, tx, visit); err != nil {
		return Placement{}, err
	}
	var p Placement
	var alive bool
	err := tx.QueryRow(ctx, `
		SELECT p.node_id, p.epoch, n.lease_until > now()
		FROM room_placements p JOIN cluster_nodes n ON n.id = p.node_id
		WHERE p.visit_id = $1`, visit).Scan(&p.Node, &p.Epoch, &alive)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Placement{}, fmt.Errorf("read placement: %w", err)
	}
	if err == nil && alive {
		p.Local = p.Node == n.cfg.NodeID
		if p.Local {
			n.hold(visit)
		}
		return p, nil
	}
	target := n.cfg.NodeID
	if n.Draining() {
		other, err := n.leastLoaded(ctx, tx)
		if err != nil {
			return Placement{}, err
		}
		if other != "" {
			target = other
		}
	}
	return n.assign(ctx, tx, visit, target)
}

// assign upserts visit's placement on target (epoch+1 on a change of
// owner) and notifies. A local placement is held before commit, so a later
// take-over notification always finds it.
func (n *Node) assign(ctx context.Context, tx pgx.Tx, visit uuid.UUID, target string) (Placement, error) {
	p := Placement{Node: target, Local: target == n.cfg.NodeID}
	err := tx.QueryRow(ctx, `
		INSERT INTO room_placements (visit_id, node_id) VALUES ($1, $2)
		ON CONFLICT (visit_id) DO UPDATE SET node_id = EXCLUDED.node_id,
			epoch = room_placements.epoch + 1, placed_at = now()
		RETURNING epoch`, visit, target).Scan(&p.Epoch)
	if err != nil {
		return Placement{}, fmt.Errorf("write placement: %w", err)
	}
	if err := notify(ctx, tx, visit, target); err != nil {
		return Placement{}, err
	}
	if p.Local {
		n.hold(visit)
	}
	return p, nil
}

// leastLoaded returns the live non-draining node other than this one with
// the fewest rooms, or "" when there is none.
func (n *Node) leastLoaded(ctx context.Context, tx pgx.Tx) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `
		SELECT c.id FROM cluster_nodes c LEFT JOIN room_placements p ON p.node_id = c.id
		WHERE c.lease_until > now() AND NOT c.draining AND c.id <> $1
		GROUP BY c.id ORDER BY count(p.visit_id), c.started_at, c.id LIMIT 1`, n.cfg.NodeID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pick node: %w", err)
	}
	return id, nil
}

// Release deletes visit's placement if it still names this node (the room
// emptied here). Releasing a room placed elsewhere or nowhere is a no-op.
func (n *Node) Release(ctx context.Context, visit uuid.UUID) error {
	n.unhold(visit)
	_, err := n.pool.Exec(ctx, `DELETE FROM room_placements WHERE visit_id = $1 AND node_id = $2`,
		visit, n.cfg.NodeID)
	if err != nil {
		return fmt.Errorf("cluster: release room: %w", err)
	}
	return nil
}

// Move hands a room placed on this node to the live non-draining node with
// the fewest rooms and returns its id; with no such node it deletes the
// placement and returns "". A room not placed here is ErrNotOwner.
func (n *Node) Move(ctx context.Context, visit uuid.UUID) (string, error) {
	var target string
	wasHeld := n.holds(visit)
	err := pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
		var err error
		target, err = n.moveTx(ctx, tx, visit)
		return err
	})
	if err != nil {
		if wasHeld && !errors.Is(err, ErrNotOwner) {
			n.hold(visit) // the commit may have failed: the placement still names us
		}
		return "", fmt.Errorf("cluster: move room: %w", err)
	}
	return target, nil
}

func (n *Node) moveTx(ctx context.Context, tx pgx.Tx, visit uuid.UUID) (string, error) {
	if err := lockVisit(ctx, tx, visit); err != nil {
		return "", err
	}
	var owner string
	err := tx.QueryRow(ctx, `SELECT node_id FROM room_placements WHERE visit_id = $1`, visit).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && owner != n.cfg.NodeID {
		return "", ErrNotOwner
	}
	if err != nil {
		return "", fmt.Errorf("read placement: %w", err)
	}
	target, err := n.leastLoaded(ctx, tx)
	if err != nil {
		return "", err
	}
	if target != "" {
		_, err = n.assign(ctx, tx, visit, target)
	} else {
		err = n.unplace(ctx, tx, visit)
	}
	if err != nil {
		return "", err
	}
	// Forget the room before commit, so our own notification is no loss.
	n.unhold(visit)
	return target, nil
}

func (n *Node) unplace(ctx context.Context, tx pgx.Tx, visit uuid.UUID) error {
	if _, err := tx.Exec(ctx, `DELETE FROM room_placements WHERE visit_id = $1`, visit); err != nil {
		return fmt.Errorf("delete placement: %w", err)
	}
	return notify(ctx, tx, visit, "")
}

// lockVisit serialises placement changes of one visit until the
// transaction ends.
func lockVisit(ctx context.Context, tx pgx.Tx, visit uuid.UUID) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('televisit_room:' || $1::text, 0))`, visit)
	if err != nil {
		return fmt.Errorf("lock visit: %w", err)
	}
	return nil
}

func notify(ctx context.Context, tx pgx.Tx, visit uuid.UUID, node string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, visit.String()+" "+node); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// parsePayload reads a Channel payload "<visit> <node>".
func parsePayload(s string) (uuid.UUID, string, error) {
	v, node, ok := strings.Cut(s, " ")
	if !ok {
		return uuid.Nil, "", errors.New("cluster: payload has no space")
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("cluster: payload visit: %w", err)
	}
	if node != "" && !ValidNodeID(node) {
		return uuid.Nil, "", errors.New("cluster: payload node id is malformed")
	}
	return id, node, nil
}
