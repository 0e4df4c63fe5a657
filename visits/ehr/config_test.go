package ehr

import (
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://ehr.example.org/fhir/R4", true},
		{"http://127.0.0.1:8080/fhir/R4", true},
		{"http://localhost/fhir", true},
		{"http://[::1]:1/fhir", true},
		{"http://ehr.example.org/fhir/R4", false},
		{"https://user:pw@ehr.example.org/fhir", false},
		{"https://ehr.example.org/fhir?x=1", false},
		{"ftp://ehr.example.org/", false},
		{"/fhir/R4", false},
		{"", false},
		{"::", false},
	} {
		_, err := NewClient(Config{BaseURL: tc.url}, nil, nil, nil)
		var ie *InputError
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &ie)) {
			t.Errorf("NewClient(%q) = %v, want ok=%v (*InputError otherwise)", tc.url, err, tc.ok)
		}
	}
	if _, err := NewClient(Config{BaseURL: "https://e.example/", Timeout: -time.Second}, nil, nil, nil); err == nil {
		t.Error("negative Timeout accepted")
	}
}

func TestSMARTConfigAndKeys(t *testing.T) {
	rsa := rsaKeyPEM(t, 2048)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, ecKeyPEM(t, elliptic.P384()), 0o600); err != nil {
		t.Fatal(err)
	}
	base := SMARTConfig{ClientID: "c", TokenURL: "https://ehr.example.org/token", Scope: testScope}
	for _, tc := range []struct {
		name    string
		edit    func(*SMARTConfig)
		wantAlg string
	}{
		{"RSA PKCS#1", func(c *SMARTConfig) { c.KeyPEM = rsa }, "RS384"},
		{"EC P-384 from file", func(c *SMARTConfig) { c.KeyFile = keyFile }, "ES384"},
		{"both key sources", func(c *SMARTConfig) { c.KeyPEM, c.KeyFile = rsa, keyFile }, ""},
		{"no key", func(c *SMARTConfig) {}, ""},
		{"missing file", func(c *SMARTConfig) { c.KeyFile = keyFile + ".none" }, ""},
		{"RSA 1024", func(c *SMARTConfig) { c.KeyPEM = rsaKeyPEM(t, 1024) }, ""},
		{"EC P-256", func(c *SMARTConfig) { c.KeyPEM = ecKeyPEM(t, elliptic.P256()) }, ""},
		{"not PEM", func(c *SMARTConfig) { c.KeyPEM = []byte("hello") }, ""},
		{"no client id", func(c *SMARTConfig) { c.KeyPEM, c.ClientID = rsa, "" }, ""},
		{"http token URL", func(c *SMARTConfig) { c.KeyPEM, c.TokenURL = rsa, "http://ehr.example.org/token" }, ""},
		{"no scope", func(c *SMARTConfig) { c.KeyPEM, c.Scope = rsa, " " }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			b, err := NewSMARTBackend(cfg, nil, nil)
			if tc.wantAlg == "" {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want *InputError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(b.key.alg) != tc.wantAlg || len(b.KeyID()) != 43 {
				t.Fatalf("alg %s kid %q, want %s and a SHA-256 thumbprint", b.key.alg, b.KeyID(), tc.wantAlg)
			}
		})
	}
}

func TestJWKSHandlerPublishesOnlyThePublicKey(t *testing.T) {
	b, err := NewSMARTBackend(SMARTConfig{ClientID: "c", TokenURL: "https://e.example/token", Scope: testScope,
		KeyPEM: ecKeyPEM(t, elliptic.P384()), KeyID: "kid-1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	b.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks.json", nil))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || rec.Code != 200 {
		t.Fatalf("GET: %d %s %v", rec.Code, rec.Body, err)
	}
	if len(set.Keys) != 1 || set.Keys[0]["kid"] != "kid-1" || set.Keys[0]["alg"] != "ES384" || set.Keys[0]["crv"] != "P-384" {
		t.Fatalf("JWKS = %+v", set.Keys)
	}
	if _, private := set.Keys[0]["d"]; private {
		t.Fatal("JWKS publishes the private key")
	}
	rec = httptest.NewRecorder()
	b.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

func TestBuilderInputErrorsNameNoValues(t *testing.T) {
	at := time.Now()
	good := NoteInput{IdentifierSystem: noteSystem, NoteVersionID: "n", Patient: "Patient/p", Encounter: "Encounter/e", Author: "Practitioner/d", SignedAt: at, Text: secretNote}
	for name, edit := range map[string]func(*NoteInput){
		"patient not a reference": func(in *NoteInput) { in.Patient = "Ada Testpatient" },
		"author a patient":        func(in *NoteInput) { in.Author = "Patient/p" },
		"short reference":         func(in *NoteInput) { in.Author = "Ab/1" },
		"replaces an encounter":   func(in *NoteInput) { in.Replaces = "Encounter/e" },
		"no signing time":         func(in *NoteInput) { in.SignedAt = time.Time{} },
		"empty text":              func(in *NoteInput) { in.Text = "" },
		"bad UTF-8":               func(in *NoteInput) { in.Text = "\xff" },
		"relative system":         func(in *NoteInput) { in.IdentifierSystem = "notes" },
	} {
		in := good
		edit(&in)
		_, err := NewDocumentReference(in)
		var ie *InputError
		if !errors.As(err, &ie) || strings.Contains(err.Error(), "Testpatient") || strings.Contains(err.Error(), "chest") {
			t.Errorf("%s: err = %v, want *InputError without values", name, err)
		}
	}
	enc := EncounterInput{IdentifierSystem: visitSystem, VisitID: "v", Patient: "Patient/p"}
	for name, changes := range map[string][]StatusChange{
		"none":         nil,
		"bad status":   {{Status: "planned", At: at}},
		"out of order": {{Status: EncounterArrived, At: at}, {Status: EncounterFinished, At: at.Add(-time.Second)}},
		"no time":      {{Status: EncounterArrived}},
	} {
		in := enc
		in.Changes = changes
		if _, err := NewEncounter(in); err == nil {
			t.Errorf("NewEncounter with %s changes: no error", name)
		}
	}
	if _, err := NewProvenance(ProvenanceInput{Target: "Encounter/e", Author: "Practitioner/d", Recorded: at}); err == nil {
		t.Error("Provenance of an Encounter accepted")
	}
	if _, err := (&DocumentReference{}).WithStatus("deleted"); err == nil {
		t.Error("WithStatus(deleted) accepted")
	}
}
