package visits

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RecordingInfo is one recording of a visit and its objects (no media).
type RecordingInfo struct {
	ID          uuid.UUID             `json:"id"`
	VisitID     uuid.UUID             `json:"visit_id"`
	State       string                `json:"state"` // pending, active, stopped
	RequestedAt time.Time             `json:"requested_at"`
	StartedAt   *time.Time            `json:"started_at"`
	StoppedAt   *time.Time            `json:"stopped_at"`
	StopReason  *string               `json:"stop_reason"`
	Objects     []RecordingObjectInfo `json:"objects"`
}

// RecordingObjectInfo is one object of a recording: a participant's media
// or, with an empty participant_id, the manifest.
type RecordingObjectInfo struct {
	ID            uuid.UUID  `json:"id"`
	ParticipantID string     `json:"participant_id"` // patient, clinician:<id>, guest:<id>; "" for the manifest
	State         string     `json:"state"`          // uploading, stored, deleted
	Size          *int64     `json:"size"`
	SHA256        string     `json:"sha256,omitempty"` // hex
	StoredAt      *time.Time `json:"stored_at"`
	RetainUntil   *time.Time `json:"retain_until"`
	DeletedAt     *time.Time `json:"deleted_at"`
}

// RecordingList is a visit's recordings, oldest first.
type RecordingList struct {
	Items []RecordingInfo `json:"items"`
}

// ListRecordings lists a visit's recordings and their objects, for the
// clinicians of the visit's clinic and admins. Audited as recording.list.
func (r *Recordings) ListRecordings(ctx context.Context, a Actor, visit uuid.UUID) (RecordingList, error) {
	ev := AuditEvent{Action: "recording.list", ResourceType: "visit", ResourceID: visit.String(), VisitID: visit}
	out := RecordingList{Items: []RecordingInfo{}}
	err := r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		var clinic uuid.UUID
		err := tx.QueryRow(ctx, "SELECT clinic_id FROM visits WHERE id = $1", visit).Scan(&clinic)
		if err != nil {
			return recNotFound(err, "read visit")
		}
		if !canListRecordings(a, clinic) {
			return ErrForbidden
		}
		if out.Items, err = readRecordings(ctx, tx, visit); err != nil {
			return err
		}
		ev.Detail = map[string]any{"recordings": len(out.Items)}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return RecordingList{}, r.svc.deny(ctx, a, ev, err)
	}
	return out, err
}

func readRecordings(ctx context.Context, tx pgx.Tx, visit uuid.UUID) ([]RecordingInfo, error) {
	rows, err := tx.Query(ctx, `SELECT id, visit_id, state, requested_at, started_at, stopped_at, stop_reason
		FROM recordings WHERE visit_id = $1 ORDER BY requested_at, id`, visit)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RecordingInfo, error) {
		var ri RecordingInfo
		err := row.Scan(&ri.ID, &ri.VisitID, &ri.State, &ri.RequestedAt, &ri.StartedAt, &ri.StoppedAt, &ri.StopReason)
		ri.Objects = []RecordingObjectInfo{}
		return ri, err
	})
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	for i := range items {
		if items[i].Objects, err = readObjects(ctx, tx, items[i].ID); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func readObjects(ctx context.Context, tx pgx.Tx, recording uuid.UUID) ([]RecordingObjectInfo, error) {
	rows, err := tx.Query(ctx, `SELECT id, participant_id, state, size, sha256, stored_at, retain_until, deleted_at
		FROM recording_objects WHERE recording_id = $1 ORDER BY upload_started_at, id`, recording)
	if err != nil {
		return nil, fmt.Errorf("list recording objects: %w", err)
	}
	objs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RecordingObjectInfo, error) {
		var o RecordingObjectInfo
		var sum []byte
		err := row.Scan(&o.ID, &o.ParticipantID, &o.State, &o.Size, &sum, &o.StoredAt, &o.RetainUntil, &o.DeletedAt)
		o.SHA256 = hex.EncodeToString(sum)
		if o.DeletedAt != nil {
			o.State = "deleted"
		}
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list recording objects: %w", err)
	}
	return objs, nil
}

// PlaybackLink writes the audit event recording.view and, once it has
// committed, returns a presigned link to one stored object of a
// recording: for the visit's clinician and admins. No audit, no link.
func (r *Recordings) PlaybackLink(ctx context.Context, a Actor, recording, object uuid.UUID) (RecordingLink, error) {
	if r.objects == nil {
		return RecordingLink{}, ErrRecordingUnavailable
	}
	ev := AuditEvent{Action: "recording.view", ResourceType: "recording_object", ResourceID: object.String(),
		Detail: map[string]any{"recording_id": recording.String()}}
	var key string
	err := r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		rec, err := r.loadRecording(ctx, tx, recording)
		if err != nil {
			return err
		}
		ev.VisitID = rec.visit
		if !canPlayRecording(a, rec.clinic, rec.clinician) {
			return ErrForbidden
		}
		if key, err = storedObjectKey(ctx, tx, recording, object); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return RecordingLink{}, r.svc.deny(ctx, a, ev, err)
	}
	if err != nil {
		return RecordingLink{}, err
	}
	return r.presign(ctx, key)
}

// storedObjectKey is the key of a stored, not deleted object of recording.
func storedObjectKey(ctx context.Context, tx pgx.Tx, recording, object uuid.UUID) (string, error) {
	var key, state string
	var deleted *time.Time
	err := tx.QueryRow(ctx, `SELECT object_key, state, deleted_at FROM recording_objects
		WHERE id = $1 AND recording_id = $2`, object, recording).Scan(&key, &state, &deleted)
	if err != nil {
		return "", recNotFound(err, "read recording object")
	}
	if state != "stored" {
		return "", &ConflictError{Reason: "The recording is still being uploaded. Try again later."}
	}
	if deleted != nil {
		return "", &ConflictError{Reason: "The recording was deleted when its retention ended."}
	}
	return key, nil
}
