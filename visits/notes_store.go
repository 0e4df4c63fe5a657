package visits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Storage of notes: tables note_drafts and note_versions (migration 00004).

// draftAAD binds a sealed draft to its visit and revision, so an older
// draft's ciphertext cannot be put back in place of a newer one.
func draftAAD(visit uuid.UUID, revision int) []byte {
	return []byte("note_drafts/" + visit.String() + "/text/" + strconv.Itoa(revision))
}

// versionAAD binds a signed version's text to its visit and version.
func versionAAD(visit uuid.UUID, version int) []byte {
	return []byte("note_versions/" + visit.String() + "/" + strconv.Itoa(version) + "/text")
}

func (s *Service) sealNote(text string, aad []byte) ([]byte, error) {
	b, err := s.keys.Seal([]byte(text), aad)
	if err != nil {
		return nil, fmt.Errorf("seal note: %w", err)
	}
	return b, nil
}

func (s *Service) openNote(sealed, aad []byte) (string, error) {
	b, err := s.keys.Open(sealed, aad)
	if err != nil {
		return "", fmt.Errorf("open note: %w", err)
	}
	return string(b), nil
}

// storedDraft is a draft row; found is false when the visit has none.
type storedDraft struct {
	found         bool
	sealed        []byte
	revision      int
	author        uuid.UUID
	signedVersion *int
	updatedAt     time.Time
}

func loadDraft(ctx context.Context, tx pgx.Tx, visit uuid.UUID, lock bool) (storedDraft, error) {
	q := "SELECT text_enc, revision, author_id, signed_version, updated_at FROM note_drafts WHERE visit_id = $1"
	if lock {
		q += " FOR UPDATE"
	}
	var d storedDraft
	err := tx.QueryRow(ctx, q, visit).Scan(&d.sealed, &d.revision, &d.author, &d.signedVersion, &d.updatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("load draft: %w", err)
	}
	d.found = true
	return d, nil
}

// writeDraft stores text as the draft at revision, by author.
func (s *Service) writeDraft(ctx context.Context, tx pgx.Tx, visit uuid.UUID, text string, revision int,
	author uuid.UUID, signedVersion *int) (time.Time, error) {
	sealed, err := s.sealNote(text, draftAAD(visit, revision))
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err = tx.QueryRow(ctx, `INSERT INTO note_drafts (visit_id, text_enc, revision, author_id, signed_version)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (visit_id) DO UPDATE SET text_enc = $2, revision = $3, author_id = $4,
			signed_version = $5, updated_at = now()
		RETURNING updated_at`, visit, sealed, revision, author, signedVersion).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("write draft: %w", err)
	}
	return at, nil
}

// readNote opens the draft and every version of visit v.
func (s *Service) readNote(ctx context.Context, tx pgx.Tx, v noteVisit) (Note, error) {
	n := Note{VisitID: v.id, Versions: []NoteVersion{}}
	d, err := loadDraft(ctx, tx, v.id, false)
	if err != nil {
		return n, err
	}
	if d.found {
		if n.Draft.Text, err = s.openNote(d.sealed, draftAAD(v.id, d.revision)); err != nil {
			return n, err
		}
		n.Draft.Revision, n.Draft.AuthorID, n.Draft.SignedVersion = d.revision, &d.author, d.signedVersion
		n.Draft.UpdatedAt = &d.updatedAt
	}
	n.Versions, err = s.loadVersions(ctx, tx, v.id)
	return n, err
}

const versionColumns = `version, text_enc, signed_by, signed_at, status, supersedes,
	retracted_by, retracted_at, coalesce(retract_reason, '')`

func (s *Service) loadVersions(ctx context.Context, tx pgx.Tx, visit uuid.UUID) ([]NoteVersion, error) {
	rows, err := tx.Query(ctx, "SELECT "+versionColumns+" FROM note_versions WHERE visit_id = $1 ORDER BY version", visit)
	if err != nil {
		return nil, fmt.Errorf("load versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NoteVersion, error) {
		return s.scanVersion(r, visit)
	})
	if err != nil {
		return nil, fmt.Errorf("load versions: %w", err)
	}
	return out, nil
}

// loadVersion reads and locks one version.
func (s *Service) loadVersion(ctx context.Context, tx pgx.Tx, visit uuid.UUID, version int) (NoteVersion, error) {
	row := tx.QueryRow(ctx, "SELECT "+versionColumns+
		" FROM note_versions WHERE visit_id = $1 AND version = $2 FOR UPDATE", visit, version)
	nv, err := s.scanVersion(row, visit)
	if errors.Is(err, pgx.ErrNoRows) {
		return nv, ErrNotFound
	}
	return nv, err
}

func (s *Service) scanVersion(r pgx.Row, visit uuid.UUID) (NoteVersion, error) {
	var nv NoteVersion
	var sealed []byte
	err := r.Scan(&nv.Version, &sealed, &nv.SignedBy, &nv.SignedAt, &nv.Status, &nv.Supersedes,
		&nv.RetractedBy, &nv.RetractedAt, &nv.RetractReason)
	if err != nil {
		return nv, err
	}
	nv.Text, err = s.openNote(sealed, versionAAD(visit, nv.Version))
	return nv, err
}

// insertVersion stores text as the next version of visit's note, signed by
// signer now, superseding the version in force (which becomes amended).
func (s *Service) insertVersion(ctx context.Context, tx pgx.Tx, visit uuid.UUID, text string, signer uuid.UUID) (NoteVersion, error) {
	nv := NoteVersion{Text: text, SignedBy: signer, Status: NoteFinal}
	err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1,
		(SELECT version FROM note_versions WHERE visit_id = $1 AND status = 'final')
		FROM note_versions WHERE visit_id = $1`, visit).Scan(&nv.Version, &nv.Supersedes)
	if err != nil {
		return nv, fmt.Errorf("next version: %w", err)
	}
	if nv.Supersedes != nil {
		if _, err := tx.Exec(ctx, `UPDATE note_versions SET status = 'amended'
			WHERE visit_id = $1 AND version = $2`, visit, *nv.Supersedes); err != nil {
			return nv, fmt.Errorf("mark amended: %w", err)
		}
	}
	sealed, err := s.sealNote(text, versionAAD(visit, nv.Version))
	if err != nil {
		return nv, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO note_versions (visit_id, version, text_enc, signed_by, signed_at, supersedes)
		VALUES ($1, $2, $3, $4, now(), $5) RETURNING signed_at`,
		visit, nv.Version, sealed, signer, nv.Supersedes).Scan(&nv.SignedAt)
	if err != nil {
		return nv, fmt.Errorf("insert version: %w", err)
	}
	return nv, nil
}
