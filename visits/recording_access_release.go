package visits

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Release of information: a patient asks for a copy of a recording. Staff
// of the clinic record the request on the patient's behalf; an admin of
// the clinic approves or denies it; an approved request gives, each time
// an admin asks, a fresh presigned link valid at most MaxRecordingLinkTTL,
// issued after its audit event commits. Schedulers and clinicians never
// approve.

// MaxReleaseNoteChars bounds a release request's note.
const MaxReleaseNoteChars = 1000

// ReleaseRequestInput is what staff record.
type ReleaseRequestInput struct {
	Requester string `json:"requester"`      // "patient"
	Note      string `json:"note,omitempty"` // sealed at rest, never logged or audited
}

// ReleaseRequest is a release-of-information request.
type ReleaseRequest struct {
	ID          uuid.UUID  `json:"id"`
	RecordingID uuid.UUID  `json:"recording_id"`
	Requester   string     `json:"requester"`
	Note        string     `json:"note,omitempty"`
	RecordedBy  string     `json:"recorded_by"`
	RequestedAt time.Time  `json:"requested_at"`
	State       string     `json:"state"` // pending, approved, denied
	DecidedBy   *string    `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
	LinksIssued int        `json:"links_issued"`
}

func (in ReleaseRequestInput) validate() error {
	if in.Requester != "patient" {
		return invalid("requester", `must be "patient"`)
	}
	if !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > MaxReleaseNoteChars {
		return invalid("note", fmt.Sprintf("must be valid text of at most %d characters", MaxReleaseNoteChars))
	}
	return nil
}

func releaseAAD(id uuid.UUID) []byte {
	return []byte("recording_release_requests/" + id.String() + "/note")
}

func releaseEvent(action string, recording, request uuid.UUID) AuditEvent {
	return AuditEvent{Action: action, ResourceType: "release_request", ResourceID: request.String(),
		Detail: map[string]any{"recording_id": recording.String()}}
}

// releaseTx loads the recording, checks allowed, runs fn and audits ev in
// one transaction; refusals are audited on their own.
func (r *Recordings) releaseTx(ctx context.Context, a Actor, recording uuid.UUID, ev *AuditEvent,
	allowed func(Actor, uuid.UUID) bool, fn func(pgx.Tx, recordingRow) error) error {
	err := r.svc.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		rec, err := r.loadRecording(ctx, tx, recording)
		if err != nil {
			return err
		}
		ev.VisitID = rec.visit
		if !allowed(a, rec.clinic) {
			return ErrForbidden
		}
		if err := fn(tx, rec); err != nil {
			return err
		}
		return Audit(ctx, tx, a, *ev)
	})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return r.svc.deny(ctx, a, *ev, err)
	}
	return err
}

// RequestRelease records a patient's request for a copy of a recording.
// Audited as recording.release.request.
func (r *Recordings) RequestRelease(ctx context.Context, a Actor, recording uuid.UUID, in ReleaseRequestInput) (ReleaseRequest, error) {
	id := uuid.New()
	ev := releaseEvent("recording.release.request", recording, id)
	if canRequestReleaseAnywhere(a) {
		if err := in.validate(); err != nil {
			return ReleaseRequest{}, err
		}
	}
	out := ReleaseRequest{ID: id, RecordingID: recording, Requester: in.Requester, Note: in.Note,
		RecordedBy: a.ID, RequestedAt: r.svc.now().UTC(), State: "pending"}
	err := r.releaseTx(ctx, a, recording, &ev, canRequestRelease, func(tx pgx.Tx, _ recordingRow) error {
		var note []byte
		if in.Note != "" {
			var err error
			if note, err = r.svc.keys.Seal([]byte(in.Note), releaseAAD(id)); err != nil {
				return fmt.Errorf("seal release note: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO recording_release_requests
			(id, recording_id, requester, note_enc, recorded_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, recording, in.Requester, note, a.ID, out.RequestedAt)
		return err
	})
	return out, err
}

// canRequestReleaseAnywhere: validate input only for callers who could be
// allowed somewhere (others learn nothing about the rules).
func canRequestReleaseAnywhere(a Actor) bool {
	return a.IsStaff() && (a.Has(RoleScheduler) || a.Has(RoleClinician) || a.Has(RoleAdmin))
}

// DecideRelease approves or denies a pending request: admins of the
// clinic. Audited as recording.release.approve or recording.release.deny.
func (r *Recordings) DecideRelease(ctx context.Context, a Actor, recording, request uuid.UUID, approve bool) (ReleaseRequest, error) {
	action, state := "recording.release.deny", "denied"
	if approve {
		action, state = "recording.release.approve", "approved"
	}
	ev := releaseEvent(action, recording, request)
	var out ReleaseRequest
	err := r.releaseTx(ctx, a, recording, &ev, canDecideRelease, func(tx pgx.Tx, _ recordingRow) error {
		cur, err := r.readRelease(ctx, tx, recording, request, true)
		if err != nil {
			return err
		}
		if cur.State != "pending" {
			return conflict("The request was already " + cur.State + ".")
		}
		_, err = tx.Exec(ctx, `UPDATE recording_release_requests SET state = $2, decided_by = $3, decided_at = $4
			WHERE id = $1`, request, state, a.ID, r.svc.now().UTC())
		if err != nil {
			return fmt.Errorf("decide release request: %w", err)
		}
		out, err = r.readRelease(ctx, tx, recording, request, false)
		return err
	})
	return out, err
}

// readRelease reads a request of recording (locking it when lock is set)
// and unseals its note.
func (r *Recordings) readRelease(ctx context.Context, tx pgx.Tx, recording, request uuid.UUID, lock bool) (ReleaseRequest, error) {
	q := `SELECT ` + releaseColumns + ` FROM recording_release_requests q WHERE q.id = $1 AND q.recording_id = $2`
	if lock {
		q += " FOR UPDATE"
	}
	rr, err := r.scanRelease(tx.QueryRow(ctx, q, request, recording))
	if err != nil {
		return rr, recNotFound(err, "read release request")
	}
	return rr, nil
}

// ReleaseLink issues a fresh link for an approved request: admins of the
// clinic. object names the object to release; it may be uuid.Nil when the
// recording has exactly one stored participant object. Audited as
// recording.release.link (committed before the URL is made).
func (r *Recordings) ReleaseLink(ctx context.Context, a Actor, recording, request, object uuid.UUID) (RecordingLink, error) {
	if r.objects == nil {
		return RecordingLink{}, ErrRecordingUnavailable
	}
	ev := releaseEvent("recording.release.link", recording, request)
	var key string
	err := r.releaseTx(ctx, a, recording, &ev, canDecideRelease, func(tx pgx.Tx, _ recordingRow) error {
		cur, err := r.readRelease(ctx, tx, recording, request, true)
		if err != nil {
			return err
		}
		if cur.State != "approved" {
			return conflict("The request is " + cur.State + ", not approved: no link.")
		}
		if object == uuid.Nil {
			if object, err = onlyMediaObject(ctx, tx, recording); err != nil {
				return err
			}
		}
		if key, err = storedObjectKey(ctx, tx, recording, object); err != nil {
			return err
		}
		ev.Detail["object_id"] = object.String()
		_, err = tx.Exec(ctx, "UPDATE recording_release_requests SET links_issued = links_issued + 1 WHERE id = $1", request)
		return err
	})
	if err != nil {
		return RecordingLink{}, err
	}
	return r.presign(ctx, key)
}

// onlyMediaObject is the one stored participant object of a recording.
func onlyMediaObject(ctx context.Context, tx pgx.Tx, recording uuid.UUID) (uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM recording_objects WHERE recording_id = $1 AND participant_id <> ''
		AND state = 'stored' AND deleted_at IS NULL`, recording)
	if err != nil {
		return uuid.Nil, fmt.Errorf("list recording objects: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return uuid.Nil, fmt.Errorf("list recording objects: %w", err)
	}
	if len(ids) != 1 {
		return uuid.Nil, invalid("object_id", fmt.Sprintf("name the object to release: the recording has %d", len(ids)))
	}
	return ids[0], nil
}
