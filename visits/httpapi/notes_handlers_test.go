package httpapi

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// The note schemas join the OpenAPI schema check (TestOpenAPISchemasMatchStructs).
func init() {
	openapiStructs = append(openapiStructs, []struct {
		schema  string
		typ     reflect.Type
		request bool
	}{
		{"Note", reflect.TypeFor[visits.Note](), false},
		{"NoteDraft", reflect.TypeFor[visits.NoteDraft](), false},
		{"NoteVersion", reflect.TypeFor[visits.NoteVersion](), false},
		{"DraftSaved", reflect.TypeFor[visits.DraftSaved](), false},
		{"SignedNote", reflect.TypeFor[visits.SignedNote](), false},
		{"NoteDraftRequest", reflect.TypeFor[noteDraftBody](), true},
		{"NoteSignRequest", reflect.TypeFor[noteSignBody](), true},
		{"NoteRetractRequest", reflect.TypeFor[noteRetractBody](), true},
	}...)
}

// noteDraft saves a draft of visit's note as api-clinician and returns its
// revision.
func (e *env) noteDraft(visit uuid.UUID) int {
	e.t.Helper()
	d, err := e.svc.SaveNoteDraft(context.Background(), e.staff["api-clinician"], visit, "S: rash. P: cream.", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.Revision
}

func noteProblem(t *testing.T, resp *http.Response, status int, typ string) Problem {
	t.Helper()
	var p Problem
	if resp.StatusCode != status {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, status)
	}
	decodeBody(t, resp, &p)
	if p.Type != problemTypeURI+typ {
		t.Fatalf("problem type %q, want %q", p.Type, typ)
	}
	return p
}

func TestNoteHTTPFlow(t *testing.T) {
	e := newEnv(t)
	v, _ := e.visit(visits.StatusInProgress)
	clin := bearer(e.tokens["api-clinician"])
	base := "/api/v1/visits/" + v.ID.String() + "/note"
	const text = "S: rash on forearms. A: dermatitis."

	var saved visits.DraftSaved
	decodeBody(t, e.do("PUT", base+"/draft", map[string]any{"text": text, "revision": 0}, clin), &saved)
	if saved.Revision != 1 {
		t.Fatalf("first save: revision %d", saved.Revision)
	}
	p := noteProblem(t, e.do("PUT", base+"/draft", map[string]any{"text": "lost", "revision": 0}, clin), 409, "note-changed")
	if p.Detail != "The note was changed elsewhere. Reload it." {
		t.Fatalf("stale save detail %q", p.Detail)
	}
	var signed visits.SignedNote
	decodeBody(t, e.do("POST", base+"/sign", map[string]any{"revision": 1}, clin), &signed)
	if signed.Version.Version != 1 || signed.Version.Status != visits.NoteFinal || signed.DraftRevision != 2 {
		t.Fatalf("sign: %+v", signed)
	}
	decodeBody(t, e.do("PUT", base+"/draft", map[string]any{"text": text + " Addendum.", "revision": 2}, clin), &saved)
	decodeBody(t, e.do("POST", base+"/sign", map[string]any{"revision": saved.Revision}, clin), &signed)
	if signed.Version.Version != 2 || signed.Version.Supersedes == nil || *signed.Version.Supersedes != 1 {
		t.Fatalf("amend: %+v", signed.Version)
	}
	var retracted visits.NoteVersion
	decodeBody(t, e.do("POST", base+"/versions/2/retract", map[string]any{"reason": "wrong_visit"}, clin), &retracted)
	if retracted.Status != visits.NoteEnteredInError || retracted.RetractReason != "wrong_visit" {
		t.Fatalf("retract: %+v", retracted)
	}
	var n visits.Note
	resp := e.do("GET", base, nil, bearer(e.tokens["api-clinician-b"]))
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("note response Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	decodeBody(t, resp, &n)
	if n.CanWrite || len(n.Versions) != 2 || n.Versions[0].Status != visits.NoteAmended ||
		n.Versions[1].Status != visits.NoteEnteredInError || n.Versions[0].Text != text {
		t.Fatalf("another clinician reads %+v", n)
	}
}

func TestNoteHTTPBadInput(t *testing.T) {
	e := newEnv(t)
	v, _ := e.visit(visits.StatusInProgress)
	clin := bearer(e.tokens["api-clinician"])
	base := "/api/v1/visits/" + v.ID.String() + "/note"
	secret := "Secret clinical words"
	cases := []struct {
		name, method, path string
		body               any
		status             int
		typ                string
	}{
		{"unknown field", "PUT", "/draft", map[string]any{"text": secret, "revision": 0, "x": 1}, 400, "invalid-json"},
		{"text too long", "PUT", "/draft", map[string]any{"text": strings.Repeat("a", visits.MaxNoteChars+1)}, 400, "invalid"},
		{"revision of the wrong type", "PUT", "/draft", `{"text": "Secret clinical words", "revision": "1"}`, 400, "invalid-json"},
		{"draft larger than any note", "PUT", "/draft", map[string]any{"text": strings.Repeat("a", maxNoteBody)}, 413, "too-large"},
		{"negative revision", "PUT", "/draft", map[string]any{"text": secret, "revision": -1}, 400, "invalid"},
		{"sign without a draft", "POST", "/sign", map[string]any{"revision": 0}, 409, "conflict"},
		{"retract a version that is not a number", "POST", "/versions/one/retract", map[string]any{"reason": "duplicate"}, 404, "not-found"},
		{"retract version 0", "POST", "/versions/0/retract", map[string]any{"reason": "duplicate"}, 404, "not-found"},
		{"retract a missing version", "POST", "/versions/7/retract", map[string]any{"reason": "duplicate"}, 404, "not-found"},
		{"retract for no known reason", "POST", "/versions/1/retract", map[string]any{"reason": secret}, 400, "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := noteProblem(t, e.do(c.method, base+c.path, c.body, clin), c.status, c.typ)
			if strings.Contains(p.Detail, "Secret") {
				t.Errorf("problem detail repeats the text: %q", p.Detail)
			}
		})
	}
	// A note of the full length in multi-byte characters is larger than the
	// API's usual body limit, and still accepted.
	long := strings.Repeat("é", visits.MaxNoteChars)
	if resp := e.do("PUT", base+"/draft", map[string]any{"text": long, "revision": 0}, clin); resp.StatusCode != 200 {
		t.Fatalf("a note of %d characters: %d", visits.MaxNoteChars, resp.StatusCode)
	}
}
