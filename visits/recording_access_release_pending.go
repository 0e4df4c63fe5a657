package visits

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The admin's queue of release requests waiting for a decision, across the
// clinics the admin may decide in. Each recording whose requests are shown
// gets its own recording.release.list event (so a visit's audit trail shows
// the read), and the listing itself one more.

// MaxPendingReleases bounds one page of the pending queue.
const MaxPendingReleases = 200

// PendingRelease is a pending request and where it belongs, so that the
// admin can open the visit's recordings.
type PendingRelease struct {
	Request  ReleaseRequest `json:"request"`
	VisitID  uuid.UUID      `json:"visit_id"`
	ClinicID uuid.UUID      `json:"clinic_id"`
}

// PendingReleaseList is the pending requests, oldest first.
type PendingReleaseList struct {
	Items []PendingRelease `json:"items"`
}

// PendingReleaseRequests lists the pending requests of clinic, or of every
// clinic the caller may decide in when clinic is uuid.Nil: admins only.
// Audited as recording.release.list.
func (r *Recordings) PendingReleaseRequests(ctx context.Context, a Actor, clinic uuid.UUID) (PendingReleaseList, error) {
	ev := AuditEvent{Action: "recording.release.list", ResourceType: "release_queue", ResourceID: "pending"}
	if clinic != uuid.Nil {
		ev.ResourceType, ev.ResourceID = "clinic", clinic.String()
	}
	out := PendingReleaseList{Items: []PendingRelease{}}
	err := r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		if !a.IsStaff() || !a.Has(RoleAdmin) || (clinic != uuid.Nil && !canDecideRelease(a, clinic)) {
			return ErrForbidden
		}
		items, err := r.readPending(ctx, tx, clinic)
		if err != nil {
			return err
		}
		for _, it := range items {
			if canDecideRelease(a, it.ClinicID) {
				out.Items = append(out.Items, it)
			}
		}
		ev.Detail = map[string]any{"requests": len(out.Items)}
		return AuditMany(ctx, tx, a, append(pendingEvents(out.Items), ev))
	})
	if errors.Is(err, ErrForbidden) {
		return PendingReleaseList{}, r.svc.deny(ctx, a, ev, err)
	}
	if err != nil {
		return PendingReleaseList{}, err
	}
	return out, nil
}

// readPending reads the pending requests (of clinic unless uuid.Nil).
func (r *Recordings) readPending(ctx context.Context, tx pgx.Tx, clinic uuid.UUID) ([]PendingRelease, error) {
	rows, err := tx.Query(ctx, `SELECT `+releaseColumns+`, v.id, v.clinic_id
		FROM recording_release_requests q JOIN recordings r ON r.id = q.recording_id JOIN visits v ON v.id = r.visit_id
		WHERE q.state = 'pending' AND ($1::uuid IS NULL OR v.clinic_id = $1)
		ORDER BY q.requested_at, q.id LIMIT $2`, nilUUID(clinic), MaxPendingReleases)
	if err != nil {
		return nil, fmt.Errorf("list pending release requests: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PendingRelease, error) {
		var p PendingRelease
		var err error
		p.Request, err = r.scanRelease(row, &p.VisitID, &p.ClinicID)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("list pending release requests: %w", err)
	}
	return items, nil
}

// pendingEvents is one recording.release.list event per recording shown.
func pendingEvents(items []PendingRelease) []AuditEvent {
	var evs []AuditEvent
	idx := map[uuid.UUID]int{}
	for _, it := range items {
		rec := it.Request.RecordingID
		if i, ok := idx[rec]; ok {
			evs[i].Detail["requests"] = evs[i].Detail["requests"].(int) + 1
			continue
		}
		idx[rec] = len(evs)
		evs = append(evs, AuditEvent{Action: "recording.release.list", ResourceType: "recording",
			ResourceID: rec.String(), VisitID: it.VisitID, Detail: map[string]any{"requests": 1, "pending_only": true}})
	}
	return evs
}

// nilUUID is nil for uuid.Nil, for an optional query parameter.
func nilUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
