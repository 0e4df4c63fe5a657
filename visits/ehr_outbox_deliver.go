package visits

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits/ehr"
)

// Delivery of one job over FHIR. Idempotency is ours: every resource
// carries our identifier; the first attempt of the generic profile creates
// with If-None-Exist; any later attempt (the earlier one may have been
// applied with its answer lost) and every create of the epic_like profile
// (whose EHR ignores If-None-Exist) searches by identifier first. Updates
// are full PUTs of the state we want, so repeating one is harmless.

// result is what a delivered job produced and how to record it.
type result struct {
	ref, version string             // "Type/id" and version of the resource written
	record       func(pgx.Tx) error // map of our ids to the EHR's, in the delivery's transaction
}

func (w *EHRWorker) deliver(ctx context.Context, j ehrJob) (result, error) {
	t, err := w.target(ctx, j.clinicID)
	if err != nil {
		return result{}, err
	}
	switch j.kind {
	case JobEncounterStatus:
		return w.deliverEncounter(ctx, t, j)
	case JobNoteCreate, JobNoteAmend:
		return w.deliverNote(ctx, t, j)
	case JobNoteRetract:
		return w.deliverRetraction(ctx, t, j)
	}
	return result{}, dataError("unknown job kind " + string(j.kind))
}

// searchFirst reports whether a create must be preceded by a search.
func searchFirst(t ehrTarget, j ehrJob) bool { return t.profile == EHREpicLike || j.uncertain() }

// findOne searches by our identifier; more than one match is a duplicate
// someone must resolve in the EHR.
func findOne(ctx context.Context, t ehrTarget, typ, value string) (string, error) {
	ids, err := t.client.SearchByIdentifier(ctx, typ, t.system, value)
	if err != nil {
		return "", err
	}
	if len(ids) > 1 {
		return "", dataError(fmt.Sprintf("%d %s resources in the EHR carry our identifier", len(ids), typ))
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return "", nil
}

// deliverEncounter creates or updates the visit's Encounter (generic
// profile) with its status history. The epic_like profile never writes
// the Encounter: such a job (left from before a profile change) is done.
func (w *EHRWorker) deliverEncounter(ctx context.Context, t ehrTarget, j ehrJob) (result, error) {
	if t.profile != EHRGeneric {
		return result{}, nil
	}
	in, err := w.encounterInput(ctx, t, j)
	if err != nil {
		return result{}, err
	}
	enc, err := ehr.NewEncounter(in)
	if err != nil {
		return result{}, err
	}
	id, err := w.mappedEncounter(ctx, j.visitID)
	if err == nil && id == "" && searchFirst(t, j) {
		id, err = findOne(ctx, t, "Encounter", in.VisitID)
	}
	if err != nil {
		return result{}, err
	}
	var version string
	if id == "" {
		id, version, _, err = t.client.Create(ctx, enc, ehr.IdentifierQuery(t.system, in.VisitID))
	} else {
		version, err = t.client.Update(ctx, id, enc)
	}
	if err != nil {
		return result{}, err
	}
	return result{ref: "Encounter/" + id, version: version, record: func(tx pgx.Tx) error {
		_, err := tx.Exec(context.WithoutCancel(ctx), `INSERT INTO ehr_encounters (visit_id, endpoint, encounter_id)
			VALUES ($1, $2, $3) ON CONFLICT (visit_id) DO UPDATE SET endpoint = $2, encounter_id = $3`,
			j.visitID, t.endpoint, id)
		return err
	}}, nil
}

// encounterRef is the Encounter a note belongs to: the one we created
// (generic) or the one given at scheduling (epic_like).
func (w *EHRWorker) encounterRef(ctx context.Context, t ehrTarget, visit uuid.UUID) (string, error) {
	if t.profile == EHREpicLike {
		id, err := w.sealedVisitColumn(ctx, visit, "ehr_encounter_id")
		if err == nil && id == "" {
			err = dataError("the visit has no EHR encounter id (the epic_like profile needs one at scheduling)")
		}
		return "Encounter/" + id, err
	}
	id, err := w.mappedEncounter(ctx, visit)
	if err == nil && id == "" {
		err = dataError("the visit has no Encounter in the EHR yet")
	}
	return "Encounter/" + id, err
}

// documentRef finds the DocumentReference of a version: our map, else a
// search by identifier. "" when the EHR has none.
func (w *EHRWorker) documentRef(ctx context.Context, t ehrTarget, visit uuid.UUID, version int) (string, error) {
	id, err := w.mappedDocument(ctx, visit, version)
	if err != nil || id != "" {
		return id, err
	}
	return findOne(ctx, t, "DocumentReference", noteIdentifier(visit, version))
}

// noteDocument builds the DocumentReference of a signed version as we
// send it: final, or amended with relatesTo replaces.
func (w *EHRWorker) noteDocument(ctx context.Context, t ehrTarget, visit uuid.UUID, version int) (*ehr.DocumentReference, signedVersion, error) {
	v, err := w.signedVersion(ctx, visit, version)
	if err != nil {
		return nil, v, err
	}
	in := ehr.NoteInput{IdentifierSystem: t.system, NoteVersionID: noteIdentifier(visit, version), SignedAt: v.signedAt, Text: v.text}
	if in.Patient, err = w.patientRef(ctx, visit); err != nil {
		return nil, v, err
	}
	if in.Encounter, err = w.encounterRef(ctx, t, visit); err != nil {
		return nil, v, err
	}
	if in.Author, err = w.practitioner(ctx, v.signedBy); err != nil {
		return nil, v, err
	}
	if in.Author == "" {
		return nil, v, dataError("the signer has no EHR practitioner id (PUT /api/v1/ehr/practitioners/{staffID})")
	}
	if v.supersedes != nil {
		old, err := w.documentRef(ctx, t, visit, *v.supersedes)
		if err != nil {
			return nil, v, err
		}
		if old == "" {
			return nil, v, dataError("the version this one amends is not in the EHR")
		}
		in.Replaces = "DocumentReference/" + old
	}
	doc, err := ehr.NewDocumentReference(in)
	return doc, v, err
}

// deliverNote creates the DocumentReference of a signed version (at most
// once), for an amendment marks the replaced one superseded, and records
// the Provenance.
func (w *EHRWorker) deliverNote(ctx context.Context, t ehrTarget, j ehrJob) (result, error) {
	doc, v, err := w.noteDocument(ctx, t, j.visitID, *j.noteVersion)
	if err != nil {
		return result{}, err
	}
	value := noteIdentifier(j.visitID, *j.noteVersion)
	id, err := w.mappedDocument(ctx, j.visitID, *j.noteVersion)
	if err == nil && id == "" && searchFirst(t, j) {
		id, err = findOne(ctx, t, "DocumentReference", value)
	}
	if err != nil {
		return result{}, err
	}
	var version string
	if id == "" {
		if id, version, _, err = t.client.Create(ctx, doc, ehr.IdentifierQuery(t.system, value)); err != nil {
			return result{}, err
		}
	}
	if j.kind == JobNoteAmend {
		if err := w.supersede(ctx, t, j.visitID, *j.supersedes); err != nil {
			return result{}, err
		}
	}
	prov, err := w.provenance(ctx, t, j, "DocumentReference/"+id, doc.Author[0].Reference, v)
	if err != nil {
		return result{}, err
	}
	return result{ref: "DocumentReference/" + id, version: version, record: func(tx pgx.Tx) error {
		_, err := tx.Exec(context.WithoutCancel(ctx), `INSERT INTO ehr_documents (visit_id, note_version, endpoint, document_id, provenance_id)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (visit_id, note_version) DO UPDATE SET document_id = $4, provenance_id = $5`,
			j.visitID, *j.noteVersion, t.endpoint, id, prov)
		return err
	}}, nil
}

// supersede marks the replaced version's DocumentReference superseded.
func (w *EHRWorker) supersede(ctx context.Context, t ehrTarget, visit uuid.UUID, version int) error {
	_, err := w.updateStatus(ctx, t, visit, version, ehr.DocumentSuperseded)
	return err
}

// updateStatus puts the version's DocumentReference with status s.
func (w *EHRWorker) updateStatus(ctx context.Context, t ehrTarget, visit uuid.UUID, version int, s ehr.DocumentStatus) (result, error) {
	id, err := w.documentRef(ctx, t, visit, version)
	if err != nil {
		return result{}, err
	}
	if id == "" {
		return result{}, dataError("the note version is not in the EHR")
	}
	doc, _, err := w.noteDocument(ctx, t, visit, version)
	if err != nil {
		return result{}, err
	}
	if doc, err = doc.WithStatus(s); err != nil {
		return result{}, err
	}
	ver, err := t.client.Update(ctx, id, doc)
	return result{ref: "DocumentReference/" + id, version: ver}, err
}

// deliverRetraction sets the version's DocumentReference entered-in-error.
func (w *EHRWorker) deliverRetraction(ctx context.Context, t ehrTarget, j ehrJob) (result, error) {
	return w.updateStatus(ctx, t, j.visitID, *j.noteVersion, ehr.DocumentEnteredInError)
}

// provenance records who signed the note, once: If-None-Exist on the
// target, and a search first when an earlier attempt may have written it.
func (w *EHRWorker) provenance(ctx context.Context, t ehrTarget, j ehrJob, target, author string, v signedVersion) (string, error) {
	query := ehr.ProvenanceQuery(target)
	if searchFirst(t, j) {
		ids, err := t.client.Search(ctx, "Provenance", query)
		if err != nil || len(ids) > 0 {
			return first(ids), err
		}
	}
	p, err := ehr.NewProvenance(ehr.ProvenanceInput{Target: target, Author: author, Recorded: v.signedAt})
	if err != nil {
		return "", err
	}
	id, _, _, err := t.client.Create(ctx, p, query)
	return id, err
}

func first(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}
