package visits

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pglisten"
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
	pglisten.Run(ctx, h.pool, pglisten.Config{
		Channel: EventChannel,
		OnListen: func(_ context.Context, first bool) {
			if !first {
				h.broadcast(Event{Kind: "resync"})
			}
		},
		OnNotify: h.onNotify,
	}, h.log)
	return nil
}

// onNotify fans one event out.
func (h *Hub) onNotify(ctx context.Context, payload string) {
	var ev Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		h.log.WarnContext(ctx, "ignoring a malformed event", "err", err)
		return
	}
	h.broadcast(ev)
}
