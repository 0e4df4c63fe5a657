package visits

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/televisit/televisit/internal/sealbox"
)

const noteText = "S: itchy rash on both forearms for 5 days. A: contact dermatitis. P: hydrocortisone 1%."

// inProgressVisit is a visit of f.clin, in progress with its patient checked in.
func (f *fixture) inProgressVisit(t *testing.T) Visit {
	t.Helper()
	v := f.newVisit(t, &f.clin.StaffID)
	f.checkedIn(t, v.ID)
	v, err := f.svc.Admit(context.Background(), f.clin, v.ID)
	if err != nil {
		t.Fatalf("admit: %v", err)
	}
	return v
}

func (f *fixture) saveDraft(t *testing.T, visit uuid.UUID, text string, base int) int {
	t.Helper()
	d, err := f.svc.SaveNoteDraft(context.Background(), f.clin, visit, text, base)
	if err != nil {
		t.Fatalf("save draft at %d: %v", base, err)
	}
	if d.Revision != base+1 {
		t.Fatalf("saved revision %d, want %d", d.Revision, base+1)
	}
	return d.Revision
}

func (f *fixture) sign(t *testing.T, visit uuid.UUID, rev int) SignedNote {
	t.Helper()
	s, err := f.svc.SignNote(context.Background(), f.clin, visit, rev)
	if err != nil {
		t.Fatalf("sign revision %d: %v", rev, err)
	}
	return s
}

func (f *fixture) note(t *testing.T, a Actor, visit uuid.UUID) Note {
	t.Helper()
	n, err := f.svc.GetNote(context.Background(), a, visit)
	if err != nil {
		t.Fatalf("get note: %v", err)
	}
	return n
}

func wantStatuses(t *testing.T, n Note, want ...NoteStatus) {
	t.Helper()
	if len(n.Versions) != len(want) {
		t.Fatalf("%d versions, want %d", len(n.Versions), len(want))
	}
	for i, v := range n.Versions {
		if v.Version != i+1 || v.Status != want[i] {
			t.Errorf("version %d: number %d status %q, want %q", i+1, v.Version, v.Status, want[i])
		}
	}
}

func TestNoteDraftAndStaleRevision(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	if n := f.note(t, f.clin, v.ID); n.Draft.Revision != 0 || n.Draft.Text != "" || len(n.Versions) != 0 || !n.CanWrite {
		t.Fatalf("empty note: %+v", n)
	}
	rev := f.saveDraft(t, v.ID, "S: itchy", 0)
	if _, err := f.svc.SaveNoteDraft(ctx, f.clin, v.ID, "S: lost update", 0); !errors.Is(err, ErrStaleRevision) || !errors.Is(err, ErrConflict) {
		t.Fatalf("save on a stale revision: %v, want ErrStaleRevision", err)
	}
	rev = f.saveDraft(t, v.ID, noteText, rev)
	n := f.note(t, f.clin, v.ID)
	if n.Draft.Text != noteText || n.Draft.Revision != rev || n.Draft.AuthorID == nil || *n.Draft.AuthorID != f.clin.StaffID {
		t.Fatalf("draft read back: revision %d author %v", n.Draft.Revision, n.Draft.AuthorID)
	}
	long := strings.Repeat("é", MaxNoteChars+1)
	for _, bad := range []struct {
		text string
		base int
	}{{long, rev}, {"ok", -1}, {"\xff", rev}} {
		_, err := f.svc.SaveNoteDraft(ctx, f.clin, v.ID, bad.text, bad.base)
		var ve *ValidationError
		if !errors.As(err, &ve) || strings.Contains(err.Error(), "é") {
			t.Errorf("bad draft: %v, want a validation error without the text", err)
		}
	}
	f.saveDraft(t, v.ID, strings.Repeat("é", MaxNoteChars), rev) // the limit itself is fine
}

func TestNoteSignAmendRetract(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	rev := f.saveDraft(t, v.ID, noteText, 0)
	s1 := f.sign(t, v.ID, rev)
	if s1.Version.Version != 1 || s1.Version.Status != NoteFinal || s1.Version.Supersedes != nil || s1.DraftRevision != rev+1 {
		t.Fatalf("first signature: %+v", s1)
	}
	n := f.note(t, f.clin, v.ID)
	if n.Draft.Text != noteText || n.Draft.SignedVersion == nil || *n.Draft.SignedVersion != 1 {
		t.Fatalf("the draft after signing should hold the signed text: %+v", n.Draft)
	}
	if _, err := f.svc.SignNote(ctx, f.clin, v.ID, s1.DraftRevision); !errors.Is(err, ErrConflict) {
		t.Fatalf("signing an unchanged note again: %v, want conflict", err)
	}
	if _, err := f.svc.SignNote(ctx, f.clin, v.ID, rev); !errors.Is(err, ErrStaleRevision) {
		t.Fatalf("signing a stale revision: %v, want ErrStaleRevision", err)
	}
	if _, err := f.svc.Complete(ctx, f.clin, v.ID); err != nil { // amendments come after the visit
		t.Fatal(err)
	}
	amended := noteText + "\nAddendum: patient called, rash improving."
	rev = f.saveDraft(t, v.ID, amended, s1.DraftRevision)
	s2 := f.sign(t, v.ID, rev)
	if s2.Version.Version != 2 || s2.Version.Supersedes == nil || *s2.Version.Supersedes != 1 {
		t.Fatalf("amendment: %+v", s2.Version)
	}
	n = f.note(t, f.clin, v.ID)
	wantStatuses(t, n, NoteAmended, NoteFinal)
	if n.Versions[0].Text != noteText || n.Versions[1].Text != amended {
		t.Fatal("version texts changed")
	}
	if _, err := f.svc.RetractNote(ctx, f.clin, v.ID, 1, "duplicate"); !errors.Is(err, ErrConflict) {
		t.Fatalf("retracting an amended version: %v, want conflict", err)
	}
	if _, err := f.svc.RetractNote(ctx, f.clin, v.ID, 2, "oops"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("retract with an unknown reason: %v, want invalid", err)
	}
	if _, err := f.svc.RetractNote(ctx, f.clin, v.ID, 9, "duplicate"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retract a missing version: %v, want not found", err)
	}
	r, err := f.svc.RetractNote(ctx, f.clin, v.ID, 2, "wrong_patient")
	if err != nil || r.Status != NoteEnteredInError || r.RetractReason != "wrong_patient" ||
		r.RetractedBy == nil || *r.RetractedBy != f.clin.StaffID || r.RetractedAt == nil {
		t.Fatalf("retract: %v %+v", err, r)
	}
	wantStatuses(t, f.note(t, f.clin, v.ID), NoteAmended, NoteEnteredInError)
	if _, err := f.svc.RetractNote(ctx, f.clin, v.ID, 2, "duplicate"); !errors.Is(err, ErrConflict) {
		t.Fatalf("retracting twice: %v, want conflict", err)
	}
	// With nothing in force, the next signature starts afresh.
	rev = f.saveDraft(t, v.ID, "Corrected note.", n.Draft.Revision)
	if s3 := f.sign(t, v.ID, rev); s3.Version.Version != 3 || s3.Version.Supersedes != nil {
		t.Fatalf("signature after a retraction: %+v", s3.Version)
	}
	assertAuditChain(t, f)
}

func TestNoteSignRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	if _, err := f.svc.SignNote(ctx, f.clin, v.ID, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("signing without a draft: %v, want conflict", err)
	}
	rev := f.saveDraft(t, v.ID, "  \n\t ", 0)
	if _, err := f.svc.SignNote(ctx, f.clin, v.ID, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("signing an empty note: %v, want conflict", err)
	}
	scheduled := f.newVisit(t, &f.clin.StaffID)
	rev = f.saveDraft(t, scheduled.ID, "Pre-visit notes.", 0)
	if _, err := f.svc.SignNote(ctx, f.clin, scheduled.ID, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("signing while scheduled: %v, want conflict", err)
	}
	if _, err := f.svc.Cancel(ctx, f.sched, scheduled.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SaveNoteDraft(ctx, f.clin, scheduled.ID, "x", rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("saving on a cancelled visit: %v, want conflict", err)
	}
	if _, err := f.svc.GetNote(ctx, f.clin, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("note of an unknown visit: %v", err)
	}
}

func TestNotePermissions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	rev, text := f.saveDraft(t, v.ID, noteText, 0), noteText
	patient := f.checkedIn(t, f.newVisit(t, &f.clin.StaffID).ID)
	token, _ := f.invite(t, f.clin, v.ID, "Lena Interpreter")
	guest := f.guestActor(t, token)
	cases := []struct {
		name        string
		a           Actor
		read, write bool
	}{
		{"the visit's clinician", f.clin, true, true},
		{"another clinician of the clinic", f.clin2, true, false},
		{"a clinician of another clinic", f.otherClin, false, false},
		{"a scheduler", f.sched, false, false},
		{"an admin (policy: no clinical content)", f.admin, false, false},
		{"a patient", patient, false, false},
		{"a guest of the visit", guest, false, false},
	}
	for _, c := range cases {
		n, err := f.svc.GetNote(ctx, c.a, v.ID)
		if c.read != (err == nil) || (!c.read && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%s reads: %v, want allowed=%v", c.name, err, c.read)
		}
		if c.read && (n.Draft.Text != text || n.CanWrite != c.write) {
			t.Errorf("%s reads text ok=%v can_write=%v", c.name, n.Draft.Text == text, n.CanWrite)
		}
		_, err = f.svc.SaveNoteDraft(ctx, c.a, v.ID, "changed by "+c.name, rev)
		if c.write != (err == nil) || (!c.write && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%s saves: %v, want allowed=%v", c.name, err, c.write)
		}
		if c.write {
			rev, text = rev+1, "changed by "+c.name
		}
		if _, err := f.svc.SignNote(ctx, c.a, v.ID, rev); !c.write && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s signs: %v, want forbidden", c.name, err)
		} else if c.write && err != nil {
			t.Errorf("%s signs: %v", c.name, err)
		} else if c.write {
			rev++
		}
		if _, err := f.svc.RetractNote(ctx, c.a, v.ID, 1, "duplicate"); !c.write && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s retracts: %v, want forbidden", c.name, err)
		}
	}
	// A pool visit is nobody's: no clinician may write its note yet.
	pool := f.newVisit(t, nil)
	if _, err := f.svc.SaveNoteDraft(ctx, f.clin, pool.ID, "x", 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("saving a pool visit's note: %v, want forbidden", err)
	}
}

func TestNoteVersionsImmutableInDatabase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	s1 := f.sign(t, v.ID, f.saveDraft(t, v.ID, noteText, 0))
	f.sign(t, v.ID, f.saveDraft(t, v.ID, "amended", s1.DraftRevision))
	for _, sql := range []string{
		"UPDATE note_versions SET text_enc = '\\x00'::bytea WHERE version = 1",
		"UPDATE note_versions SET text_enc = text_enc WHERE version = 2",
		"UPDATE note_versions SET signed_by = (SELECT id FROM staff LIMIT 1) WHERE version = 2",
		"UPDATE note_versions SET status = 'final' WHERE version = 1",
		"DELETE FROM note_versions WHERE version = 2",
		"TRUNCATE note_versions",
	} {
		_, err := f.pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: err = %v, want the immutability trigger (42501)", sql, err)
		}
	}
	// The one change allowed (final -> amended) still needs a consistent row.
	_, err := f.pool.Exec(ctx, "UPDATE note_versions SET status = 'entered_in_error' WHERE version = 2")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Errorf("retraction without who and why: %v, want a check violation", err)
	}
	wantStatuses(t, f.note(t, f.clin, v.ID), NoteAmended, NoteFinal)
}

func TestNoteAuditEvents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.inProgressVisit(t)
	rev := f.saveDraft(t, v.ID, noteText, 0)
	rev = f.saveDraft(t, v.ID, noteText+" more", rev)
	s1 := f.sign(t, v.ID, rev)
	f.sign(t, v.ID, f.saveDraft(t, v.ID, "amended", s1.DraftRevision))
	f.note(t, f.clin2, v.ID)
	if _, err := f.svc.RetractNote(ctx, f.clin, v.ID, 2, "documentation_error"); err != nil {
		t.Fatal(err)
	}
	_, _ = f.svc.GetNote(ctx, f.sched, v.ID)
	_, _ = f.svc.SaveNoteDraft(ctx, f.clin, v.ID, "stale", 1)

	rows, err := f.pool.Query(ctx, `SELECT action, outcome, actor_id, detail::text FROM audit_events
		WHERE visit_id = $1 AND resource_type = 'note' ORDER BY seq`, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var action, outcome, actor, detail string
		if err := rows.Scan(&action, &outcome, &actor, &detail); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(detail, "rash") || strings.Contains(detail, "amended\"") {
			t.Errorf("%s detail carries note text: %s", action, detail)
		}
		got = append(got, action+"/"+outcome)
	}
	want := []string{"note.draft.save/success", "note.draft.save/success", "note.sign/success",
		"note.draft.save/success", "note.amend/success", "note.read/success", "note.retract/success",
		"note.read/denied", "note.draft.save/denied"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit events\n got %v\nwant %v", got, want)
	}
	assertAuditChain(t, f)
}

// keyRing parses specs into one ring, the first current.
func keyRing(t *testing.T, specs ...string) *sealbox.Keyring {
	t.Helper()
	k, err := sealbox.ParseKeyring(strings.Join(specs, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNoteKeyRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	specA, _ := sealbox.GenerateSpec("ka")
	specB, _ := sealbox.GenerateSpec("kb")
	onlyA, err := NewService(f.svc.cfg, f.pool, keyRing(t, specA), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	f.svc = onlyA
	v := f.inProgressVisit(t)
	s1 := f.sign(t, v.ID, f.saveDraft(t, v.ID, noteText, 0))

	// Key B is added as the primary; A stays in the ring to open old values.
	if f.svc, err = NewService(f.svc.cfg, f.pool, keyRing(t, specB, specA), testLogger()); err != nil {
		t.Fatal(err)
	}
	n := f.note(t, f.clin, v.ID)
	if n.Versions[0].Text != noteText || n.Draft.Text != noteText {
		t.Fatal("version 1 sealed under key A does not read back after rotation")
	}
	f.sign(t, v.ID, f.saveDraft(t, v.ID, "amended under B", s1.DraftRevision))
	for version, keyID := range map[int]string{1: "ka", 2: "kb"} {
		var sealed []byte
		if err := f.pool.QueryRow(ctx, "SELECT text_enc FROM note_versions WHERE visit_id = $1 AND version = $2",
			v.ID, version).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if got := string(sealed[2 : 2+int(sealed[1])]); got != keyID {
			t.Errorf("version %d sealed under key %q, want %q", version, got, keyID)
		}
		if strings.Contains(string(sealed), "amended") || strings.Contains(string(sealed), "rash") {
			t.Errorf("version %d stored in plain text", version)
		}
	}
	if n := f.note(t, f.clin, v.ID); n.Versions[1].Text != "amended under B" || n.Versions[0].Text != noteText {
		t.Fatal("versions do not read back after the amendment")
	}
	// A ring without B cannot open version 2: the new key really sealed it.
	f.svc = onlyA
	if _, err := f.svc.GetNote(ctx, f.clin, v.ID); err == nil || strings.Contains(err.Error(), "amended") {
		t.Fatalf("a ring without key B read version 2: %v", err)
	}
}

// Saves racing on one revision (two tabs, or a retry): exactly one wins,
// the others get ErrStaleRevision, also for the very first save.
func TestNoteConcurrentSaves(t *testing.T) {
	f := newFixture(t)
	v := f.inProgressVisit(t)
	for _, base := range []int{0, 1} {
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.svc.SaveNoteDraft(context.Background(), f.clin, v.ID, "tab text", base)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrStaleRevision):
				t.Errorf("base %d: %v, want success or ErrStaleRevision", base, err)
			}
		}
		if won != 1 {
			t.Fatalf("base %d: %d saves won, want 1", base, won)
		}
	}
	if n := f.note(t, f.clin, v.ID); n.Draft.Revision != 2 {
		t.Fatalf("revision %d after two rounds, want 2", n.Draft.Revision)
	}
}
