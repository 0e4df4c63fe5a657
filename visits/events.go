package visits

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EventChannel is the PostgreSQL NOTIFY channel that carries waiting-room
// changes between televisit processes.
const EventChannel = "televisit_events"

// Event says that something about a visit changed. It carries ids and a
// state only, never PHI: listeners read what they need through the service.
type Event struct {
	Kind     string    `json:"kind"` // visit.admit, visit.send_back, link.locked, resync, ...
	ClinicID uuid.UUID `json:"clinic_id"`
	VisitID  uuid.UUID `json:"visit_id"`
	Status   Status    `json:"status"`
}

// publish queues ev for delivery when tx commits (NOTIFY is transactional).
func publish(ctx context.Context, tx pgx.Tx, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", EventChannel, string(b))
	return err
}

func notifyChange(ctx context.Context, tx pgx.Tx, v Visit, kind string) error {
	return publish(ctx, tx, Event{Kind: kind, ClinicID: v.ClinicID, VisitID: v.ID, Status: v.Status})
}
