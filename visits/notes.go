package visits

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Encounter notes. The clinician a visit is assigned to writes its note: a
// draft saved as they type (optimistic concurrency on a revision counter),
// signed into an immutable version. Signing again after an edit is an
// amendment: the version in force becomes "amended" and the new one
// supersedes it. A version entered in error is retracted. Clinicians of the
// clinic read the note; nobody else does. Every read and change is audited;
// the text is sealed at rest and never logged or audited.

// NoteStatus is where a signed version stands.
type NoteStatus string

// Signed version states.
const (
	NoteFinal          NoteStatus = "final"            // in force
	NoteAmended        NoteStatus = "amended"          // superseded by a later version
	NoteEnteredInError NoteStatus = "entered_in_error" // retracted
)

// MaxNoteChars bounds a note's text, in characters.
const MaxNoteChars = 100_000

// Retraction reasons.
var retractReasons = map[string]bool{
	"wrong_patient": true, "wrong_visit": true, "duplicate": true, "documentation_error": true,
}

// ErrStaleRevision says the draft changed since the caller read it.
var ErrStaleRevision error = &ConflictError{Reason: "The note was changed elsewhere. Reload it."}

// Note is a visit's encounter note: the working draft and the signed
// versions, oldest first.
type Note struct {
	VisitID  uuid.UUID     `json:"visit_id"`
	CanWrite bool          `json:"can_write"` // the reader may save, sign and retract
	Draft    NoteDraft     `json:"draft"`
	Versions []NoteVersion `json:"versions"`
}

// NoteDraft is the working text. Revision 0: nothing saved yet.
type NoteDraft struct {
	Text      string     `json:"text"`
	Revision  int        `json:"revision"`
	AuthorID  *uuid.UUID `json:"author_id"`
	UpdatedAt *time.Time `json:"updated_at"`
	// SignedVersion is the version the draft's text equals (nothing new to
	// sign); nil once the draft is edited again.
	SignedVersion *int `json:"signed_version"`
}

// NoteVersion is one signed version.
type NoteVersion struct {
	Version       int        `json:"version"`
	Text          string     `json:"text"`
	SignedBy      uuid.UUID  `json:"signed_by"`
	SignedAt      time.Time  `json:"signed_at"`
	Status        NoteStatus `json:"status"`
	Supersedes    *int       `json:"supersedes"`
	RetractedBy   *uuid.UUID `json:"retracted_by"`
	RetractedAt   *time.Time `json:"retracted_at"`
	RetractReason string     `json:"retract_reason,omitempty"`
}

// DraftSaved is the draft's new revision.
type DraftSaved struct {
	Revision  int       `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SignedNote is a new signed version and the draft's revision after it.
type SignedNote struct {
	Version       NoteVersion `json:"version"`
	DraftRevision int         `json:"draft_revision"`
}

// noteVisit is what note methods need of the visit row.
type noteVisit struct {
	id, clinic uuid.UUID
	clinician  *uuid.UUID
	status     Status
}

// GetNote returns the draft and every signed version to a clinician of
// the visit's clinic. The read is audited.
func (s *Service) GetNote(ctx context.Context, a Actor, visit uuid.UUID) (Note, error) {
	ev := noteEvent("note.read", visit)
	var n Note
	err := s.noteTx(ctx, a, &ev, visit, false, func(tx pgx.Tx, v noteVisit) error {
		var err error
		n, err = s.readNote(ctx, tx, v)
		n.CanWrite = canWriteNote(a, v.clinic, v.clinician)
		ev.Detail = map[string]any{"revision": n.Draft.Revision, "versions": len(n.Versions)}
		return err
	})
	return n, err
}

func noteEvent(action string, visit uuid.UUID) AuditEvent {
	return AuditEvent{Action: action, ResourceType: "note", ResourceID: visit.String(), VisitID: visit}
}

// noteTx locks the visit (write) or reads it, checks the policy, runs fn
// and audits ev, all in one transaction. Refusals and conflicts are audited
// on their own.
func (s *Service) noteTx(ctx context.Context, a Actor, ev *AuditEvent, visit uuid.UUID, write bool,
	fn func(pgx.Tx, noteVisit) error) error {
	err := s.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		v, err := loadNoteVisit(ctx, tx, visit, write)
		if err != nil {
			return err
		}
		if !canReadNote(a, v.clinic) || (write && !canWriteNote(a, v.clinic, v.clinician)) {
			return ErrForbidden
		}
		if err := fn(tx, v); err != nil {
			return err
		}
		return Audit(ctx, tx, a, *ev)
	})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return s.deny(ctx, a, *ev, err)
	}
	return err
}

// loadNoteVisit reads the visit row; for writes it takes a lock that
// serialises note changes of one visit with each other and with the
// visit's state changes.
func loadNoteVisit(ctx context.Context, tx pgx.Tx, id uuid.UUID, lock bool) (noteVisit, error) {
	q := "SELECT clinic_id, clinician_id, status FROM visits WHERE id = $1"
	if lock {
		q += " FOR NO KEY UPDATE"
	}
	v := noteVisit{id: id}
	err := tx.QueryRow(ctx, q, id).Scan(&v.clinic, &v.clinician, &v.status)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}
