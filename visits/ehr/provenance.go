package ehr

import (
	"net/url"
	"time"
)

// Provenance records who signed a note and when.
type Provenance struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Target       []Reference       `json:"target"`
	Recorded     string            `json:"recorded"`
	Agent        []ProvenanceAgent `json:"agent"`
}

// FHIRType is "Provenance".
func (*Provenance) FHIRType() string { return "Provenance" }

// ProvenanceAgent is the author, acting for an organization when known.
type ProvenanceAgent struct {
	Type       *CodeableConcept `json:"type,omitempty"`
	Who        Reference        `json:"who"`
	OnBehalfOf *Reference       `json:"onBehalfOf,omitempty"`
}

// ProvenanceInput is what NewProvenance needs.
type ProvenanceInput struct {
	Target       string    // "DocumentReference/<id>"
	Author       string    // "Practitioner/<id>"
	Organization string    // "Organization/<id>" the author acts for, or ""
	Recorded     time.Time // when the note was signed
}

// NewProvenance builds the Provenance of a note, agent type author.
func NewProvenance(in ProvenanceInput) (*Provenance, error) {
	if err := checkRef("Target", in.Target, "DocumentReference"); err != nil {
		return nil, err
	}
	if err := checkRef("Author", in.Author, "Practitioner"); err != nil {
		return nil, err
	}
	if err := checkTime("Recorded", in.Recorded); err != nil {
		return nil, err
	}
	agent := ProvenanceAgent{
		Type: &CodeableConcept{Coding: []Coding{{System: SystemProvenanceAgent, Code: codeProvenanceAuthr, Display: "Author"}}},
		Who:  Reference{Reference: in.Author},
	}
	if in.Organization != "" {
		if err := checkRef("Organization", in.Organization, "Organization"); err != nil {
			return nil, err
		}
		agent.OnBehalfOf = &Reference{Reference: in.Organization}
	}
	return &Provenance{
		ResourceType: "Provenance",
		Target:       []Reference{{Reference: in.Target}},
		Recorded:     fhirTime(in.Recorded),
		Agent:        []ProvenanceAgent{agent},
	}, nil
}

// ProvenanceQuery is the If-None-Exist query for the Provenance of target:
// Provenance has no identifier element, so it is found by its target.
func ProvenanceQuery(target string) string {
	return url.Values{"target": {target}}.Encode()
}
