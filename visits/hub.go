package visits

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Hub listens for visit events from every televisit process on the database
// and fans them out to local subscribers (WebSocket sessions). A subscriber
// that falls behind loses events, never blocks the hub; each event only
// tells it to re-read, so the next one brings it up to date.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewHub returns a hub on pool. Run must be called for events to flow.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log, subs: map[chan Event]struct{}{}}
}

// Subscribe returns a channel of events and a function that ends the
// subscription.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 32)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

func (h *Hub) broadcast(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default: // behind: it will catch up on its next event
		}
	}
}

// Run holds a LISTEN connection until ctx ends, reconnecting with backoff
// when PostgreSQL goes away. After a reconnect it sends a "resync" event,
// since notifications sent meanwhile are lost.
func (h *Hub) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for first := true; ; first = false {
		if !first {
			h.broadcast(Event{Kind: "resync"})
		}
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		h.log.WarnContext(ctx, "event listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection carries LISTEN state: never return it to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+EventChannel); err != nil {
		return err
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			h.log.WarnContext(ctx, "ignoring a malformed event", "err", err)
			continue
		}
		h.broadcast(ev)
	}
}
