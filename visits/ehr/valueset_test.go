package ehr

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// r4ValueSets are the codes the FHIR R4 value sets allow for each coded
// element we send, copied from the R4 specification (hl7.org/fhir/R4) and
// US Core. Medplum does not check bindings, so this test does.
var r4ValueSets = map[string][]string{
	// encounter-status (required)
	"Encounter.status":               {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"},
	"Encounter.statusHistory.status": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"},
	// v3-ActEncounterCode (extensible), system v3-ActCode
	"Encounter.class": {SystemActCode + "|AMB", SystemActCode + "|EMER", SystemActCode + "|FLD", SystemActCode + "|HH",
		SystemActCode + "|IMP", SystemActCode + "|ACUTE", SystemActCode + "|NONAC", SystemActCode + "|OBSENC",
		SystemActCode + "|PRENC", SystemActCode + "|SS", SystemActCode + "|VR"},
	// encounter-participant-type (extensible)
	"Encounter.participant.type": {SystemParticipation + "|ADM", SystemParticipation + "|ATND", SystemParticipation + "|CALLBCK",
		SystemParticipation + "|CON", SystemParticipation + "|DIS", SystemParticipation + "|ESC", SystemParticipation + "|REF",
		SystemParticipation + "|SPRF", SystemParticipation + "|PPRF", SystemParticipation + "|PART"},
	// document-reference-status (required)
	"DocumentReference.status": {"current", "superseded", "entered-in-error"},
	// composition-status (required)
	"DocumentReference.docStatus": {"preliminary", "final", "amended", "entered-in-error"},
	// document-relationship-type (required)
	"DocumentReference.relatesTo.code": {"replaces", "transforms", "signs", "appends"},
	// US Core DocumentReference category (required): clinical-note
	"DocumentReference.category": {SystemUSCoreDocCat + "|clinical-note"},
	// US Core clinical note types (LOINC)
	"DocumentReference.type": {SystemLOINC + "|11488-4", SystemLOINC + "|18842-5", SystemLOINC + "|34117-2", SystemLOINC + "|11506-3",
		SystemLOINC + "|28570-0", SystemLOINC + "|18748-4", SystemLOINC + "|11502-2", SystemLOINC + "|11526-1"},
	// provenance-agent-type (extensible), system provenance-participant-type
	"Provenance.agent.type": {SystemProvenanceAgent + "|enterer", SystemProvenanceAgent + "|performer", SystemProvenanceAgent + "|author",
		SystemProvenanceAgent + "|verifier", SystemProvenanceAgent + "|legal", SystemProvenanceAgent + "|attester",
		SystemProvenanceAgent + "|informant", SystemProvenanceAgent + "|custodian", SystemProvenanceAgent + "|assembler",
		SystemProvenanceAgent + "|composer"},
}

// TestBuildersSendOnlyR4Codes builds every variant of every resource and
// checks each coded element of its JSON against r4ValueSets.
func TestBuildersSendOnlyR4Codes(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range allBuilderVariants(t) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for path, codes := range codedElements(r.FHIRType(), m) {
			allowed, ok := r4ValueSets[path]
			if !ok {
				t.Fatalf("%s: coded element without a value set in the table", path)
			}
			for _, c := range codes {
				if !slices.Contains(allowed, c) {
					t.Errorf("%s = %q, not in its R4 value set", path, c)
				}
			}
			seen[path] = true
		}
	}
	for path := range r4ValueSets {
		if !seen[path] {
			t.Errorf("%s: no builder output checked", path)
		}
	}
}

// allBuilderVariants covers every status and option the builders have.
func allBuilderVariants(t *testing.T) []Resource {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []Resource
	for _, s := range []EncounterStatus{EncounterArrived, EncounterInProgress, EncounterFinished, EncounterCancelled} {
		e, err := NewEncounter(EncounterInput{IdentifierSystem: visitSystem, VisitID: "v", Patient: "Patient/p", Practitioners: []string{"Practitioner/d"},
			Changes: []StatusChange{{Status: EncounterArrived, At: at}, {Status: s, At: at.Add(time.Minute)}}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	for _, replaces := range []string{"", "DocumentReference/old"} {
		d, err := NewDocumentReference(NoteInput{IdentifierSystem: noteSystem, NoteVersionID: "n", Patient: "Patient/p", Encounter: "Encounter/e",
			Author: "Practitioner/d", SignedAt: at, Text: "x", Replaces: replaces})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
		for _, s := range []DocumentStatus{DocumentCurrent, DocumentSuperseded, DocumentEnteredInError} {
			ds, err := d.WithStatus(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ds)
		}
	}
	p, err := NewProvenance(ProvenanceInput{Target: "DocumentReference/x", Author: "Practitioner/d", Organization: "Organization/o", Recorded: at})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, p)
}

// codedElements extracts the codes of the coded elements of a resource as
// path -> codes; codings are "system|code", plain codes are the code.
func codedElements(typ string, m map[string]any) map[string][]string {
	out := map[string][]string{}
	add := func(path string, v any) {
		if v != nil {
			out[path] = append(out[path], codesOf(v)...)
		}
	}
	switch typ {
	case "Encounter":
		add("Encounter.status", m["status"])
		add("Encounter.class", m["class"])
		for _, h := range list(m["statusHistory"]) {
			add("Encounter.statusHistory.status", h["status"])
		}
		for _, p := range list(m["participant"]) {
			add("Encounter.participant.type", p["type"])
		}
	case "DocumentReference":
		add("DocumentReference.status", m["status"])
		add("DocumentReference.docStatus", m["docStatus"])
		add("DocumentReference.type", m["type"])
		add("DocumentReference.category", m["category"])
		for _, r := range list(m["relatesTo"]) {
			add("DocumentReference.relatesTo.code", r["code"])
		}
	case "Provenance":
		for _, a := range list(m["agent"]) {
			add("Provenance.agent.type", a["type"])
		}
	}
	return out
}

func list(v any) []map[string]any {
	var out []map[string]any
	for _, x := range asSlice(v) {
		if mm, ok := x.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

func asSlice(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	return []any{v}
}

// codesOf reads a code, a Coding, a CodeableConcept or a list of them.
func codesOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, codesOf(e)...)
		}
		return out
	case map[string]any:
		if codings, ok := x["coding"]; ok {
			return codesOf(codings)
		}
		sys, _ := x["system"].(string)
		code, _ := x["code"].(string)
		return []string{sys + "|" + code}
	}
	return []string{"<unexpected>"}
}
