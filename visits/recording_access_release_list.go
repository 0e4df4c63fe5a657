package visits

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Listing release-of-information requests, so that an admin sees and
// decides requests other staff recorded. The requests carry the staff's
// free-text note (possibly PHI): a list is a read of PHI, audited like the
// other reads of recording access, with counts only in the detail.

// ReleaseRequestList is a recording's release requests, oldest first.
type ReleaseRequestList struct {
	Items []ReleaseRequest `json:"items"`
}

// releaseColumns are the columns scanReleaseRow reads, in its order.
const releaseColumns = `q.id, q.recording_id, q.requester, q.note_enc, q.recorded_by, q.requested_at, q.state,
	q.decided_by, q.decided_at, q.links_issued`

// ListReleaseRequests lists a recording's release requests with their
// notes: admins of the recording's clinic, the callers who may decide
// them. Audited as recording.release.list (refusals too).
func (r *Recordings) ListReleaseRequests(ctx context.Context, a Actor, recording uuid.UUID) (ReleaseRequestList, error) {
	ev := AuditEvent{Action: "recording.release.list", ResourceType: "recording", ResourceID: recording.String()}
	out := ReleaseRequestList{Items: []ReleaseRequest{}}
	err := r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		rec, err := r.loadRecording(ctx, tx, recording)
		if err != nil {
			return err
		}
		ev.VisitID = rec.visit
		if !canDecideRelease(a, rec.clinic) {
			return ErrForbidden
		}
		if out.Items, err = r.readReleases(ctx, tx, recording); err != nil {
			return err
		}
		ev.Detail = map[string]any{"requests": len(out.Items)}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) {
		return ReleaseRequestList{}, r.svc.deny(ctx, a, ev, err)
	}
	if err != nil {
		return ReleaseRequestList{}, err
	}
	return out, nil
}

// readReleases reads a recording's requests, oldest first, notes unsealed.
func (r *Recordings) readReleases(ctx context.Context, tx pgx.Tx, recording uuid.UUID) ([]ReleaseRequest, error) {
	rows, err := tx.Query(ctx, `SELECT `+releaseColumns+` FROM recording_release_requests q
		WHERE q.recording_id = $1 ORDER BY q.requested_at, q.id`, recording)
	if err != nil {
		return nil, fmt.Errorf("list release requests: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReleaseRequest, error) {
		return r.scanRelease(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list release requests: %w", err)
	}
	return items, nil
}

// scanRelease scans releaseColumns (plus any dest after them) and unseals
// the note.
func (r *Recordings) scanRelease(row pgx.Row, more ...any) (ReleaseRequest, error) {
	var rr ReleaseRequest
	var note []byte
	dest := append([]any{&rr.ID, &rr.RecordingID, &rr.Requester, &note, &rr.RecordedBy, &rr.RequestedAt,
		&rr.State, &rr.DecidedBy, &rr.DecidedAt, &rr.LinksIssued}, more...)
	if err := row.Scan(dest...); err != nil {
		return rr, err
	}
	if note != nil {
		plain, err := r.svc.keys.Open(note, releaseAAD(rr.ID))
		if err != nil {
			return rr, fmt.Errorf("open release note: %w", err)
		}
		rr.Note = string(plain)
	}
	return rr, nil
}
