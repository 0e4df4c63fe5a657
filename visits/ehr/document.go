package ehr

import (
	"encoding/base64"
	"time"
	"unicode/utf8"
)

// DocumentReference is a signed note as a US Core clinical-note
// DocumentReference.
type DocumentReference struct {
	ResourceType string                 `json:"resourceType"`
	ID           string                 `json:"id,omitempty"`
	Meta         *Meta                  `json:"meta,omitempty"`
	Identifier   []Identifier           `json:"identifier"`
	Status       DocumentStatus         `json:"status"`
	DocStatus    string                 `json:"docStatus,omitempty"`
	Type         CodeableConcept        `json:"type"`
	Category     []CodeableConcept      `json:"category"`
	Subject      Reference              `json:"subject"`
	Date         string                 `json:"date"`
	Author       []Reference            `json:"author"`
	RelatesTo    []DocumentRelatesTo    `json:"relatesTo,omitempty"`
	Content      []DocumentContent      `json:"content"`
	Context      *DocumentReferenceCtxt `json:"context,omitempty"`
}

// FHIRType is "DocumentReference".
func (*DocumentReference) FHIRType() string { return "DocumentReference" }

// DocumentRelatesTo links an amendment to the note it replaces.
type DocumentRelatesTo struct {
	Code   string    `json:"code"`
	Target Reference `json:"target"`
}

// DocumentContent is the note text.
type DocumentContent struct {
	Attachment Attachment `json:"attachment"`
}

// DocumentReferenceCtxt is the encounter the note belongs to.
type DocumentReferenceCtxt struct {
	Encounter []Reference `json:"encounter"`
}

// NoteInput is what NewDocumentReference needs.
type NoteInput struct {
	IdentifierSystem string    // our system URI for note versions
	NoteVersionID    string    // our id of this signed version, the identifier value
	Patient          string    // "Patient/<id>"
	Encounter        string    // "Encounter/<id>"
	Author           string    // "Practitioner/<id>", who signed
	SignedAt         time.Time // DocumentReference.date
	Text             string    // the note, plain text (PHI: never logged)
	Replaces         string    // "DocumentReference/<id>" of the version this amends, or ""
}

// NewDocumentReference builds a current note: docStatus final, or amended
// with relatesTo replaces when in.Replaces is set.
func NewDocumentReference(in NoteInput) (*DocumentReference, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	d := &DocumentReference{
		ResourceType: "DocumentReference",
		Identifier:   []Identifier{{System: in.IdentifierSystem, Value: in.NoteVersionID}},
		Status:       DocumentCurrent,
		DocStatus:    docStatusFinal,
		Type:         CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: codeProgressNote, Display: "Progress note"}}},
		Category:     []CodeableConcept{{Coding: []Coding{{System: SystemUSCoreDocCat, Code: codeClinicalNote, Display: "Clinical Note"}}}},
		Subject:      Reference{Reference: in.Patient},
		Date:         fhirTime(in.SignedAt),
		Author:       []Reference{{Reference: in.Author}},
		Content: []DocumentContent{{Attachment: Attachment{
			ContentType: "text/plain",
			Data:        base64.StdEncoding.EncodeToString([]byte(in.Text)),
		}}},
		Context: &DocumentReferenceCtxt{Encounter: []Reference{{Reference: in.Encounter}}},
	}
	if in.Replaces != "" {
		d.DocStatus = docStatusAmended
		d.RelatesTo = []DocumentRelatesTo{{Code: relatesReplaces, Target: Reference{Reference: in.Replaces}}}
	}
	return d, nil
}

// WithStatus returns a copy of d with status s, for marking the old version
// superseded after an amendment or the note entered-in-error on retraction.
// The server's id and meta are dropped; Update sets the id.
func (d *DocumentReference) WithStatus(s DocumentStatus) (*DocumentReference, error) {
	if !s.valid() {
		return nil, &InputError{Field: "status", Reason: "not current, superseded or entered-in-error"}
	}
	out := *d
	out.ID, out.Meta, out.Status = "", nil, s
	return &out, nil
}

func (in *NoteInput) check() error {
	if err := checkIdentifier("identifier", in.IdentifierSystem, in.NoteVersionID); err != nil {
		return err
	}
	for _, c := range []struct{ field, ref, typ string }{
		{"Patient", in.Patient, "Patient"},
		{"Encounter", in.Encounter, "Encounter"},
		{"Author", in.Author, "Practitioner"},
	} {
		if err := checkRef(c.field, c.ref, c.typ); err != nil {
			return err
		}
	}
	if in.Replaces != "" {
		if err := checkRef("Replaces", in.Replaces, "DocumentReference"); err != nil {
			return err
		}
	}
	if err := checkTime("SignedAt", in.SignedAt); err != nil {
		return err
	}
	if in.Text == "" || !utf8.ValidString(in.Text) {
		return &InputError{Field: "Text", Reason: "empty or not UTF-8"}
	}
	return nil
}
