package visits

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// Patient is who a visit is for. Every field is PHI: sealed at rest, never
// logged.
type Patient struct {
	Name         string `json:"name"`
	DateOfBirth  string `json:"date_of_birth"` // YYYY-MM-DD
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	EHRPatientID string `json:"ehr_patient_id,omitempty"`
}

type contact struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// aad binds a sealed value to its row and column.
func aad(visitID uuid.UUID, column string) []byte {
	return []byte("visits/" + visitID.String() + "/" + column)
}

func (s *Service) seal(visitID uuid.UUID, column, value string) ([]byte, error) {
	b, err := s.keys.Seal([]byte(value), aad(visitID, column))
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", column, err)
	}
	return b, nil
}

func (s *Service) open(visitID uuid.UUID, column string, sealed []byte) (string, error) {
	if sealed == nil {
		return "", nil
	}
	b, err := s.keys.Open(sealed, aad(visitID, column))
	if err != nil {
		return "", fmt.Errorf("open %s: %w", column, err)
	}
	return string(b), nil
}

// sealedPatient is the patient as stored.
type sealedPatient struct {
	name, dob, contact, ehrID []byte
}

func (s *Service) sealPatient(id uuid.UUID, p Patient) (sp sealedPatient, err error) {
	c, _ := json.Marshal(contact{Email: p.Email, Phone: p.Phone})
	if sp.name, err = s.seal(id, "patient_name", p.Name); err != nil {
		return sp, err
	}
	if sp.dob, err = s.seal(id, "patient_dob", p.DateOfBirth); err != nil {
		return sp, err
	}
	if sp.contact, err = s.seal(id, "patient_contact", string(c)); err != nil {
		return sp, err
	}
	if p.EHRPatientID != "" {
		sp.ehrID, err = s.seal(id, "ehr_patient_id", p.EHRPatientID)
	}
	return sp, err
}

func (s *Service) openPatient(id uuid.UUID, sp sealedPatient) (p Patient, err error) {
	if p.Name, err = s.open(id, "patient_name", sp.name); err != nil {
		return p, err
	}
	if p.DateOfBirth, err = s.open(id, "patient_dob", sp.dob); err != nil {
		return p, err
	}
	raw, err := s.open(id, "patient_contact", sp.contact)
	if err != nil {
		return p, err
	}
	var c contact
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return p, fmt.Errorf("decode contact: %w", err)
	}
	p.Email, p.Phone = c.Email, c.Phone
	p.EHRPatientID, err = s.open(id, "ehr_patient_id", sp.ehrID)
	return p, err
}
