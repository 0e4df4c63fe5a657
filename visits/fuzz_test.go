package visits

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzNewVisit feeds arbitrary request bodies through decoding and
// validation: never a panic, and anything accepted is well formed.
func FuzzNewVisit(f *testing.F) {
	f.Add([]byte(`{"clinic_id":"5f0f6a4c-3b7e-4a53-9d43-1b1c3c1e2a11","starts_at":"2030-01-02T15:00:00Z","duration_minutes":15,"patient":{"name":"A","date_of_birth":"1970-01-01","phone":"+15555550123"}}`))
	f.Add([]byte(`{"patient":{"name":"\u0000","date_of_birth":"0000-00-00","email":"a@b"}}`))
	f.Add([]byte(`{"duration_minutes":-1}`))
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var nv NewVisit
		if json.Unmarshal(body, &nv) != nil {
			return
		}
		err := nv.validate(now)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("validation error of the wrong kind: %v", err)
		}
		if err == nil {
			if _, perr := time.Parse(time.DateOnly, nv.Patient.DateOfBirth); perr != nil || nv.Patient.Name == "" {
				t.Fatalf("accepted a malformed visit")
			}
		}
	})
}

func FuzzCheckIn(f *testing.F) {
	f.Add([]byte(`{"location_state":"NY","recording_consent":"yes","device_test":{"camera":"pass","microphone":"pass","speaker":"pass","network":"good"}}`))
	f.Add([]byte(`{"location_state":"ZZ"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ci CheckIn
		if json.Unmarshal(body, &ci) != nil {
			return
		}
		if err := ci.validate(); err == nil && !usStates[ci.LocationState] {
			t.Fatalf("accepted location %q", ci.LocationState)
		}
	})
}

func FuzzToken(f *testing.F) {
	tok, _ := newToken()
	f.Add(tok)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, s string) {
		if plausibleToken(s) && len(s) != 43 {
			t.Fatalf("accepted a token of length %d", len(s))
		}
		if len(hashToken(s)) != 32 {
			t.Fatal("hash length")
		}
	})
}
