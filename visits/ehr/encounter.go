package ehr

import "time"

// Encounter is the FHIR R4 Encounter of a video visit.
type Encounter struct {
	ResourceType  string                   `json:"resourceType"`
	ID            string                   `json:"id,omitempty"`
	Meta          *Meta                    `json:"meta,omitempty"`
	Identifier    []Identifier             `json:"identifier"`
	Status        EncounterStatus          `json:"status"`
	StatusHistory []EncounterStatusHistory `json:"statusHistory,omitempty"`
	Class         Coding                   `json:"class"`
	Subject       *Reference               `json:"subject,omitempty"`
	Participant   []EncounterParticipant   `json:"participant,omitempty"`
	Period        *Period                  `json:"period,omitempty"`
}

// FHIRType is "Encounter".
func (*Encounter) FHIRType() string { return "Encounter" }

// EncounterStatusHistory is one past or current status and when it held.
type EncounterStatusHistory struct {
	Status EncounterStatus `json:"status"`
	Period Period          `json:"period"`
}

// EncounterParticipant is a clinician taking part.
type EncounterParticipant struct {
	Type       []CodeableConcept `json:"type,omitempty"`
	Individual Reference         `json:"individual"`
}

// StatusChange is one status of the visit and when it began.
type StatusChange struct {
	Status EncounterStatus
	At     time.Time
}

// EncounterInput is what NewEncounter needs: plain values, no PHI beyond the
// references.
type EncounterInput struct {
	IdentifierSystem string         // our system URI, e.g. urn:televisit:visit
	VisitID          string         // our visit id, the identifier value
	Changes          []StatusChange // in order; the last one is the current status
	Patient          string         // "Patient/<id>" in the EHR
	Practitioners    []string       // "Practitioner/<id>" in the EHR
}

// NewEncounter builds the Encounter: class VR, the current status, its
// history with periods, the visit period (ended when finished or
// cancelled), subject and attending practitioners.
func NewEncounter(in EncounterInput) (*Encounter, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	cur := in.Changes[len(in.Changes)-1]
	e := &Encounter{
		ResourceType: "Encounter",
		Identifier:   []Identifier{{System: in.IdentifierSystem, Value: in.VisitID}},
		Status:       cur.Status,
		Class:        Coding{System: SystemActCode, Code: codeVirtual, Display: "virtual"},
		Subject:      &Reference{Reference: in.Patient},
		Period:       &Period{Start: fhirTime(in.Changes[0].At)},
	}
	for i, c := range in.Changes {
		h := EncounterStatusHistory{Status: c.Status, Period: Period{Start: fhirTime(c.At)}}
		if i+1 < len(in.Changes) {
			h.Period.End = fhirTime(in.Changes[i+1].At)
		}
		e.StatusHistory = append(e.StatusHistory, h)
	}
	if cur.Status.ended() {
		e.Period.End = fhirTime(cur.At)
	}
	for _, p := range in.Practitioners {
		e.Participant = append(e.Participant, EncounterParticipant{
			Type:       []CodeableConcept{{Coding: []Coding{{System: SystemParticipation, Code: codeAttender, Display: "attender"}}}},
			Individual: Reference{Reference: p},
		})
	}
	return e, nil
}

func (in *EncounterInput) check() error {
	if err := checkIdentifier("identifier", in.IdentifierSystem, in.VisitID); err != nil {
		return err
	}
	if len(in.Changes) == 0 {
		return &InputError{Field: "Changes", Reason: "no status"}
	}
	for i, c := range in.Changes {
		if !c.Status.valid() {
			return &InputError{Field: "Changes.Status", Reason: "not arrived, in-progress, finished or cancelled"}
		}
		if err := checkTime("Changes.At", c.At); err != nil {
			return err
		}
		if i > 0 && c.At.Before(in.Changes[i-1].At) {
			return &InputError{Field: "Changes.At", Reason: "not in order"}
		}
	}
	if err := checkRef("Patient", in.Patient, "Patient"); err != nil {
		return err
	}
	for _, p := range in.Practitioners {
		if err := checkRef("Practitioners", p, "Practitioner"); err != nil {
			return err
		}
	}
	return nil
}
