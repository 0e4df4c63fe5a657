package ehr

// The FHIR R4 data types we send, with only the elements we use.

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a set of codings.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Reference points at another resource, e.g. "Patient/123".
type Reference struct {
	Reference string `json:"reference,omitempty"`
}

// Identifier is a business identifier: our system URI and our id.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Period is a time range; End may be empty while it lasts.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Attachment is inline content.
type Attachment struct {
	ContentType string `json:"contentType"`
	Data        string `json:"data"` // base64
}

// Meta carries the server's version of a resource we read back.
type Meta struct {
	VersionID   string `json:"versionId,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Resource is a FHIR resource we send.
type Resource interface {
	// FHIRType is the resourceType, e.g. "Encounter".
	FHIRType() string
}
