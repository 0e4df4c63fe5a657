package visits

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// isUniqueViolation reports a unique constraint violation (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// liveRecording loads the pending or active recording of a visit, or nil.
func liveRecording(ctx context.Context, tx pgx.Tx, visit uuid.UUID) (*Recording, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM recordings WHERE visit_id = $1 AND state <> 'stopped' FOR UPDATE`, visit).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := loadRecording(ctx, tx, id)
	return &rec, err
}

// loadRecording reads a recording and its consents (asked order).
func loadRecording(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Recording, error) {
	r := Recording{ID: id, Consents: []Consent{}}
	var reason *string
	err := tx.QueryRow(ctx, `SELECT r.visit_id, v.clinic_id, r.requested_by, r.requested_at, r.started_at, r.stopped_at,
		r.state, r.stop_reason FROM recordings r JOIN visits v ON v.id = r.visit_id WHERE r.id = $1`, id).
		Scan(&r.VisitID, &r.ClinicID, &r.RequestedBy, &r.RequestedAt, &r.StartedAt, &r.StoppedAt, &r.State, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return Recording{}, ErrNotFound
	}
	if err != nil {
		return Recording{}, err
	}
	if reason != nil {
		r.StopReason = *reason
	}
	rows, err := tx.Query(ctx, `SELECT id, participant_id, asked_at, text_id, text_version, text_shown, checkin_answer,
		coalesce(answer, ''), answered_at, withdrawn_at FROM recording_consents WHERE recording_id = $1
		ORDER BY asked_at, participant_id`, id)
	if err != nil {
		return Recording{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.ID, &c.ParticipantID, &c.AskedAt, &c.TextID, &c.TextVersion, &c.Text,
			&c.CheckinAnswer, &c.Answer, &c.AnsweredAt, &c.WithdrawnAt); err != nil {
			return Recording{}, err
		}
		r.Consents = append(r.Consents, c)
	}
	return r, rows.Err()
}

// LiveRecording returns the pending or active recording of a visit (nil
// when none) to a participant or clinician of the visit, audited.
func (s *Service) LiveRecording(ctx context.Context, a Actor, visit uuid.UUID) (*Recording, error) {
	var rec *Recording
	err := s.inTx(ctx, "live recording", func(tx pgx.Tx) error {
		if err := s.canSeeRecording(ctx, tx, a, visit); err != nil {
			return err
		}
		var err error
		if rec, err = liveRecording(ctx, tx, visit); err != nil || rec == nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.read", ResourceType: "recording",
			ResourceID: rec.ID.String(), VisitID: visit})
	})
	return rec, err
}

// RecordingByID returns a recording with its consents: to the system (the
// recorder) or the visit's clinician or participants. Audited.
func (s *Service) RecordingByID(ctx context.Context, a Actor, id uuid.UUID) (Recording, error) {
	var rec Recording
	err := s.inTx(ctx, "read recording", func(tx pgx.Tx) error {
		var err error
		if rec, err = loadRecording(ctx, tx, id); err != nil {
			return err
		}
		if err := s.canSeeRecording(ctx, tx, a, rec.VisitID); err != nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.read", ResourceType: "recording",
			ResourceID: id.String(), VisitID: rec.VisitID})
	})
	return rec, err
}

// canSeeRecording: the system, the visit's patient or guests, or staff
// who run the visit's clinic's waiting room.
func (s *Service) canSeeRecording(ctx context.Context, tx pgx.Tx, a Actor, visit uuid.UUID) error {
	switch a.Kind {
	case ActorSystem:
		return nil
	case ActorPatient, ActorGuest:
		if a.VisitID == visit {
			return nil
		}
		return ErrForbidden
	case ActorStaff:
		var clinic uuid.UUID
		err := tx.QueryRow(ctx, `SELECT clinic_id FROM visits WHERE id = $1`, visit).Scan(&clinic)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if canRunWaitingRoom(a, clinic) {
			return nil
		}
	}
	return ErrForbidden
}

// RecordingObject is one object of a recording in object storage: a
// participant's WebM, or the manifest (ParticipantID "").
type RecordingObject struct {
	ID            uuid.UUID  `json:"id"`
	RecordingID   uuid.UUID  `json:"recording_id"`
	VisitID       uuid.UUID  `json:"visit_id"`
	ParticipantID string     `json:"participant_id"`
	Key           string     `json:"object_key"`
	SpoolPath     string     `json:"-"`
	State         string     `json:"state"` // uploading, stored
	Size          int64      `json:"size"`
	SHA256        []byte     `json:"sha256,omitempty"`
	StartedAt     time.Time  `json:"upload_started_at"`
	StoredAt      *time.Time `json:"stored_at,omitempty"`
}

// AddRecordingObject notes that an object's upload began (the system only).
func (s *Service) AddRecordingObject(ctx context.Context, a Actor, o RecordingObject) error {
	if a.Kind != ActorSystem {
		return ErrForbidden
	}
	return s.inTx(ctx, "add recording object", func(tx pgx.Tx) error {
		var visit uuid.UUID
		err := tx.QueryRow(ctx, `INSERT INTO recording_objects (id, recording_id, participant_id, object_key, spool_path,
			upload_started_at) SELECT $1, id, $3, $4, $5, $6 FROM recordings WHERE id = $2 RETURNING
			(SELECT visit_id FROM recordings WHERE id = $2)`,
			o.ID, o.RecordingID, o.ParticipantID, o.Key, o.SpoolPath, s.now()).Scan(&visit)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.object_start", ResourceType: "recording_object",
			ResourceID: o.ID.String(), VisitID: visit, Detail: map[string]any{"participant_id": o.ParticipantID}})
	})
}

// RecordingObjectStored records a finished upload with its size and the
// SHA-256 of its bytes (the system only).
func (s *Service) RecordingObjectStored(ctx context.Context, a Actor, id uuid.UUID, size int64, sum []byte) error {
	if a.Kind != ActorSystem {
		return ErrForbidden
	}
	if len(sum) != 32 || size < 0 {
		return invalid("sha256", "must be 32 bytes")
	}
	return s.inTx(ctx, "recording object stored", func(tx pgx.Tx) error {
		var visit uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE recording_objects o SET state = 'stored', size = $2, sha256 = $3, stored_at = $4
			FROM recordings r WHERE o.id = $1 AND r.id = o.recording_id RETURNING r.visit_id`,
			id, size, sum, s.now()).Scan(&visit)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, a, AuditEvent{Action: "recording.object_stored", ResourceType: "recording_object",
			ResourceID: id.String(), VisitID: visit, Detail: map[string]any{"size": size}})
	})
}

// RecordingObjects lists the objects of a recording (the system, or whoever
// may see the recording).
func (s *Service) RecordingObjects(ctx context.Context, a Actor, rec uuid.UUID) ([]RecordingObject, error) {
	return s.listObjects(ctx, a, "o.recording_id = $1", rec)
}

// UploadingRecordingObjects lists objects whose upload never finished (for
// crash recovery at start; the system only).
func (s *Service) UploadingRecordingObjects(ctx context.Context, a Actor) ([]RecordingObject, error) {
	if a.Kind != ActorSystem {
		return nil, ErrForbidden
	}
	return s.listObjects(ctx, a, "o.state = 'uploading'")
}

func (s *Service) listObjects(ctx context.Context, a Actor, where string, args ...any) ([]RecordingObject, error) {
	out := []RecordingObject{}
	err := s.inTx(ctx, "list recording objects", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT o.id, o.recording_id, r.visit_id, o.participant_id, o.object_key, o.spool_path,
			o.state, coalesce(o.size, 0), o.sha256, o.upload_started_at, o.stored_at
			FROM recording_objects o JOIN recordings r ON r.id = o.recording_id WHERE `+where+
			` ORDER BY o.upload_started_at, o.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o RecordingObject
			if err := rows.Scan(&o.ID, &o.RecordingID, &o.VisitID, &o.ParticipantID, &o.Key, &o.SpoolPath,
				&o.State, &o.Size, &o.SHA256, &o.StartedAt, &o.StoredAt); err != nil {
				return err
			}
			out = append(out, o)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range out {
			if err := s.canSeeRecording(ctx, tx, a, o.VisitID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
