package visits

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SaveNoteDraft stores text as the visit's draft note. baseRevision is the
// revision the caller last read or saved (0 for the first save); if the
// draft has moved on since, the save is refused with ErrStaleRevision.
// Only the visit's clinician may save, while the visit is not cancelled or
// a no-show. Every save is audited (never the text).
func (s *Service) SaveNoteDraft(ctx context.Context, a Actor, visit uuid.UUID, text string, baseRevision int) (DraftSaved, error) {
	if err := validNoteText(text); err != nil {
		return DraftSaved{}, err
	}
	if baseRevision < 0 {
		return DraftSaved{}, invalid("revision", "must be 0 or more")
	}
	ev := noteEvent("note.draft.save", visit)
	var out DraftSaved
	err := s.noteTx(ctx, a, &ev, visit, true, func(tx pgx.Tx, v noteVisit) error {
		if v.status == StatusCancelled || v.status == StatusNoShow {
			return conflict("The visit is " + string(v.status) + ": its note cannot change.")
		}
		d, err := loadDraft(ctx, tx, visit, true)
		if err != nil {
			return err
		}
		if d.revision != baseRevision {
			return ErrStaleRevision
		}
		out.Revision = baseRevision + 1
		ev.Detail = map[string]any{"revision": out.Revision}
		out.UpdatedAt, err = s.writeDraft(ctx, tx, visit, text, out.Revision, a.StaffID, nil)
		return err
	})
	return out, err
}

func validNoteText(text string) error {
	if !utf8.ValidString(text) {
		return invalid("text", "must be valid UTF-8")
	}
	if utf8.RuneCountInString(text) > MaxNoteChars {
		return invalid("text", "must be at most 100000 characters")
	}
	return nil
}

// SignNote freezes the draft at revision as the note's next version. When a
// version is in force, the new one amends it: the old one becomes amended
// and the new one supersedes it. The draft keeps the signed text, ready for
// a later amendment. Refused: a stale revision, an empty note, a draft
// unchanged since the last signature, a visit not in progress or completed.
func (s *Service) SignNote(ctx context.Context, a Actor, visit uuid.UUID, revision int) (SignedNote, error) {
	ev := noteEvent("note.sign", visit)
	var out SignedNote
	err := s.noteTx(ctx, a, &ev, visit, true, func(tx pgx.Tx, v noteVisit) error {
		if v.status != StatusInProgress && v.status != StatusCompleted {
			return conflict("A note can be signed only while the visit is in progress or after it is completed.")
		}
		text, err := s.signableDraft(ctx, tx, visit, revision)
		if err != nil {
			return err
		}
		nv, err := s.insertVersion(ctx, tx, visit, text, a.StaffID)
		if err != nil {
			return err
		}
		out = SignedNote{Version: nv, DraftRevision: revision + 1}
		if _, err := s.writeDraft(ctx, tx, visit, text, out.DraftRevision, a.StaffID, &nv.Version); err != nil {
			return err
		}
		kind := NoteSigned
		if nv.Supersedes != nil {
			kind, ev.Action = NoteAmendedEvent, "note.amend"
		}
		ev.Detail = map[string]any{"version": nv.Version, "revision": revision, "supersedes": nv.Supersedes}
		return noteOutboxHook(ctx, tx, NoteChange{Kind: kind, VisitID: visit, Version: nv.Version, Supersedes: nv.Supersedes})
	})
	return out, err
}

// signableDraft locks the draft and returns its text if it may be signed
// at revision.
func (s *Service) signableDraft(ctx context.Context, tx pgx.Tx, visit uuid.UUID, revision int) (string, error) {
	d, err := loadDraft(ctx, tx, visit, true)
	if err != nil {
		return "", err
	}
	if d.revision != revision {
		return "", ErrStaleRevision
	}
	if d.signedVersion != nil {
		return "", conflict("Nothing changed since this version was signed.")
	}
	text := ""
	if d.found {
		if text, err = s.openNote(d.sealed, draftAAD(visit, d.revision)); err != nil {
			return "", err
		}
	}
	if strings.TrimSpace(text) == "" {
		return "", conflict("The note is empty: there is nothing to sign.")
	}
	return text, nil
}

// RetractNote marks a final version as entered in error, for reason (one
// of wrong_patient, wrong_visit, duplicate, documentation_error). Only the
// visit's clinician may retract; an amended or retracted version cannot be.
func (s *Service) RetractNote(ctx context.Context, a Actor, visit uuid.UUID, version int, reason string) (NoteVersion, error) {
	if !retractReasons[reason] {
		return NoteVersion{}, invalid("reason", "must be wrong_patient, wrong_visit, duplicate or documentation_error")
	}
	ev := noteEvent("note.retract", visit)
	var out NoteVersion
	err := s.noteTx(ctx, a, &ev, visit, true, func(tx pgx.Tx, _ noteVisit) error {
		nv, err := s.loadVersion(ctx, tx, visit, version)
		if err != nil {
			return err
		}
		if nv.Status != NoteFinal {
			return conflict("Only the version in force can be retracted; this one is " + string(nv.Status) + ".")
		}
		err = tx.QueryRow(ctx, `UPDATE note_versions SET status = 'entered_in_error', retracted_by = $3,
			retracted_at = now(), retract_reason = $4 WHERE visit_id = $1 AND version = $2
			RETURNING status, retracted_by, retracted_at, retract_reason`, visit, version, a.StaffID, reason).
			Scan(&nv.Status, &nv.RetractedBy, &nv.RetractedAt, &nv.RetractReason)
		if err != nil {
			return err
		}
		out = nv
		ev.Detail = map[string]any{"version": version, "reason": reason}
		return noteOutboxHook(ctx, tx, NoteChange{Kind: NoteRetracted, VisitID: visit, Version: version})
	})
	return out, err
}
