package ehr

// Code systems and codes we send. Every code is checked against its FHIR R4
// value set in valueset_test.go.
const (
	SystemActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemParticipation   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	SystemLOINC           = "http://loinc.org"
	SystemUSCoreDocCat    = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
	SystemProvenanceAgent = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

	codeVirtual         = "VR"      // v3-ActCode: virtual
	codeAttender        = "ATND"    // v3-ParticipationType: attender
	codeProgressNote    = "11506-3" // LOINC: Progress note
	codeClinicalNote    = "clinical-note"
	codeProvenanceAuthr = "author"
)

// EncounterStatus is Encounter.status (R4 value set encounter-status).
type EncounterStatus string

// The encounter statuses a visit goes through.
const (
	EncounterArrived    EncounterStatus = "arrived"
	EncounterInProgress EncounterStatus = "in-progress"
	EncounterFinished   EncounterStatus = "finished"
	EncounterCancelled  EncounterStatus = "cancelled"
)

func (s EncounterStatus) valid() bool {
	switch s {
	case EncounterArrived, EncounterInProgress, EncounterFinished, EncounterCancelled:
		return true
	}
	return false
}

// ended reports whether the encounter is over.
func (s EncounterStatus) ended() bool { return s == EncounterFinished || s == EncounterCancelled }

// DocumentStatus is DocumentReference.status (R4 value set
// document-reference-status).
type DocumentStatus string

// The statuses of a note in the EHR.
const (
	DocumentCurrent        DocumentStatus = "current"
	DocumentSuperseded     DocumentStatus = "superseded"
	DocumentEnteredInError DocumentStatus = "entered-in-error"
)

func (s DocumentStatus) valid() bool {
	return s == DocumentCurrent || s == DocumentSuperseded || s == DocumentEnteredInError
}

// docStatus values (R4 value set composition-status) and the relatesTo code
// (document-relationship-type) we send.
const (
	docStatusFinal   = "final"
	docStatusAmended = "amended"
	relatesReplaces  = "replaces"
)
