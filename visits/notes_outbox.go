package visits

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NoteChangeKind says what happened to a signed version.
type NoteChangeKind string

// Note changes the EHR hears about.
const (
	NoteSigned       NoteChangeKind = "signed"    // a first version
	NoteAmendedEvent NoteChangeKind = "amended"   // a new version superseding the one in force
	NoteRetracted    NoteChangeKind = "retracted" // a version entered in error
)

// NoteChange is a change of a visit's signed note, as the EHR writeback
// will need it. It carries no text: the worker reads the sealed version.
type NoteChange struct {
	Kind       NoteChangeKind
	VisitID    uuid.UUID
	Version    int
	Supersedes *int // amended: the version replaced
}

// noteOutboxHook is the outbox hook of the EHR writeback. SignNote and
// RetractNote call it inside the transaction that signs, amends or
// retracts, after the version rows are written and before the audit event,
// so that the EHR job commits or rolls back with the change (transactional
// outbox, ARCHITECTURE.md rule 9). A clinic without an EHR profile gets no
// job.
func noteOutboxHook(ctx context.Context, tx pgx.Tx, c NoteChange) error {
	return queueNoteJob(ctx, tx, c)
}
