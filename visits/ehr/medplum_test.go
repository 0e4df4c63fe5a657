package ehr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/fhirtest"
)

// newMedplumClient starts the real FHIR server and a client without auth.
func newMedplumClient(t *testing.T, opts ...fhirtest.Option) (*Client, *fhirtest.Server, func() string) {
	t.Helper()
	srv := fhirtest.Start(t, opts...)
	log, buf := testLogger()
	c, err := NewClient(Config{BaseURL: srv.BaseURL, Timeout: 20 * time.Second}, nil, srv.HTTPClient(), log)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, buf.String
}

// createRaw creates a hand-written resource and returns "Type/id".
func createRaw(ctx context.Context, t *testing.T, c *Client, typ, body string) string {
	t.Helper()
	id, _, created, err := c.Create(ctx, rawResource{typ: typ, body: json.RawMessage(body)}, "")
	if err != nil || !created {
		t.Fatalf("create %s: created=%v err=%v", typ, created, err)
	}
	return typ + "/" + id
}

// visitFixture creates the Patient and Practitioner an EHR would hold.
func visitFixture(ctx context.Context, t *testing.T, c *Client) (patient, practitioner string) {
	patient = createRaw(ctx, t, c, "Patient", `{"resourceType":"Patient","name":[{"family":"Testpatient","given":["Ada"]}],"birthDate":"1980-02-29"}`)
	practitioner = createRaw(ctx, t, c, "Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Testdoctor"}]}`)
	return patient, practitioner
}

func testEncounter(t *testing.T, visitID, patient, practitioner string, statuses ...EncounterStatus) *Encounter {
	t.Helper()
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var changes []StatusChange
	for i, s := range statuses {
		changes = append(changes, StatusChange{Status: s, At: start.Add(time.Duration(i) * 7 * time.Minute)})
	}
	e, err := NewEncounter(EncounterInput{IdentifierSystem: visitSystem, VisitID: visitID, Changes: changes, Patient: patient, Practitioners: []string{practitioner}})
	if err != nil {
		t.Fatalf("NewEncounter: %v", err)
	}
	return e
}

func testNote(t *testing.T, version, patient, encounter, author, replaces string) *DocumentReference {
	t.Helper()
	d, err := NewDocumentReference(NoteInput{
		IdentifierSystem: noteSystem, NoteVersionID: version, Patient: patient, Encounter: encounter,
		Author: author, SignedAt: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC), Text: secretNote, Replaces: replaces,
	})
	if err != nil {
		t.Fatalf("NewDocumentReference: %v", err)
	}
	return d
}

// TestMedplum checks the client's FHIR behaviour against one real FHIR
// server (Medplum) over HTTPS; each subtest uses its own identifiers.
func TestMedplum(t *testing.T) {
	c, srv, logs := newMedplumClient(t, fhirtest.WithTLS())
	if !strings.HasPrefix(srv.BaseURL, "https://") {
		t.Fatalf("BaseURL %s is not https", srv.BaseURL)
	}
	t.Run("EncounterNoteAndProvenanceRoundTrip", func(t *testing.T) { testEncounterNoteAndProvenanceRoundTrip(t, c, logs) })
	t.Run("ConditionalCreateReplayAndSearch", func(t *testing.T) { testConditionalCreateReplayAndSearch(t, c, logs) })
	t.Run("EncounterStatusUpdateKeepsHistory", func(t *testing.T) { testEncounterStatusUpdateKeepsHistory(t, c, logs) })
	t.Run("AmendmentSupersedesAndRetractionEntersInError", func(t *testing.T) { testAmendmentSupersedesAndRetractionEntersInError(t, c, logs) })
	t.Run("InvalidResourceIsPermanentWithOutcome", func(t *testing.T) { testInvalidResourceIsPermanentWithOutcome(t, c, logs) })
}

func testEncounterNoteAndProvenanceRoundTrip(t *testing.T, c *Client, logs func() string) {
	ctx := testContext(t)
	patient, practitioner := visitFixture(ctx, t, c)

	enc := testEncounter(t, "visit-1", patient, practitioner, EncounterArrived, EncounterInProgress, EncounterFinished)
	encID, encVer, created, err := c.Create(ctx, enc, IdentifierQuery(visitSystem, "visit-1"))
	if err != nil || !created || encVer == "" {
		t.Fatalf("create Encounter: id=%q version=%q created=%v err=%v", encID, encVer, created, err)
	}
	var gotEnc Encounter
	if ver, err := c.Read(ctx, "Encounter", encID, &gotEnc); err != nil || ver != encVer {
		t.Fatalf("read Encounter: version %q (want %q), err %v", ver, encVer, err)
	}
	gotEnc.ID, gotEnc.Meta = "", nil
	if !reflect.DeepEqual(&gotEnc, enc) {
		t.Fatalf("Encounter read back differs:\n got %+v\nwant %+v", gotEnc, *enc)
	}

	doc := testNote(t, "note-1-v1", patient, "Encounter/"+encID, practitioner, "")
	docID, _, created, err := c.Create(ctx, doc, IdentifierQuery(noteSystem, "note-1-v1"))
	if err != nil || !created {
		t.Fatalf("create DocumentReference: created=%v err=%v", created, err)
	}
	var gotDoc DocumentReference
	if _, err := c.Read(ctx, "DocumentReference", docID, &gotDoc); err != nil {
		t.Fatalf("read DocumentReference: %v", err)
	}
	gotDoc.ID, gotDoc.Meta = "", nil
	if !reflect.DeepEqual(&gotDoc, doc) {
		t.Fatalf("DocumentReference read back differs:\n got %+v\nwant %+v", gotDoc, *doc)
	}
	if text, _ := base64.StdEncoding.DecodeString(gotDoc.Content[0].Attachment.Data); string(text) != secretNote {
		t.Fatalf("note text read back = %q", text)
	}

	prov, err := NewProvenance(ProvenanceInput{Target: "DocumentReference/" + docID, Author: practitioner, Recorded: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	provID, _, created, err := c.Create(ctx, prov, ProvenanceQuery("DocumentReference/"+docID))
	if err != nil || !created {
		t.Fatalf("create Provenance: created=%v err=%v", created, err)
	}
	var gotProv Provenance
	if _, err := c.Read(ctx, "Provenance", provID, &gotProv); err != nil {
		t.Fatalf("read Provenance: %v", err)
	}
	gotProv.ID, gotProv.Meta = "", nil
	if !reflect.DeepEqual(&gotProv, prov) {
		t.Fatalf("Provenance read back differs:\n got %+v\nwant %+v", gotProv, *prov)
	}
	_, _, created, err = c.Create(ctx, prov, ProvenanceQuery("DocumentReference/"+docID))
	if err != nil || created {
		t.Fatalf("Provenance replay: created=%v err=%v, want the existing one", created, err)
	}
	assertNoPHI(t, logs())
}

func assertNoPHI(t *testing.T, logs string) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(secretNote))
	for _, phi := range []string{secretNote, b64[:20], "Testpatient", "1980-02-29"} {
		if strings.Contains(logs, phi) {
			t.Fatalf("log contains PHI %q:\n%s", phi, logs)
		}
	}
}

func testConditionalCreateReplayAndSearch(t *testing.T, c *Client, logs func() string) {
	ctx := testContext(t)
	patient, practitioner := visitFixture(ctx, t, c)
	enc := testEncounter(t, "visit-replay", patient, practitioner, EncounterArrived)
	cond := IdentifierQuery(visitSystem, "visit-replay")
	id1, v1, created1, err := c.Create(ctx, enc, cond)
	if err != nil || !created1 {
		t.Fatalf("first create: created=%v err=%v", created1, err)
	}
	id2, v2, created2, err := c.Create(ctx, enc, cond)
	if err != nil || created2 || id2 != id1 || v2 != v1 {
		t.Fatalf("replay: id %q version %q created=%v err=%v; want id %q version %q created=false", id2, v2, created2, err, id1, v1)
	}
	ids, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "visit-replay")
	if err != nil || !reflect.DeepEqual(ids, []string{id1}) {
		t.Fatalf("search: %v, %v; want [%s]", ids, err, id1)
	}
	var none Encounter
	if _, err := c.Read(ctx, "Encounter", "no-such-id", &none); !NotFound(err) || Retryable(err) {
		t.Fatalf("read of a missing id: %v, want a permanent not-found error", err)
	}
	ids, err = c.SearchByIdentifier(ctx, "Encounter", visitSystem, "no-such-visit")
	if err != nil || len(ids) != 0 {
		t.Fatalf("search for unknown identifier: %v, %v; want none", ids, err)
	}
}

func testEncounterStatusUpdateKeepsHistory(t *testing.T, c *Client, logs func() string) {
	ctx := testContext(t)
	patient, practitioner := visitFixture(ctx, t, c)
	id, v1, _, err := c.Create(ctx, testEncounter(t, "visit-upd", patient, practitioner, EncounterArrived), "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled := testEncounter(t, "visit-upd", patient, practitioner, EncounterArrived, EncounterCancelled)
	v2, err := c.Update(ctx, id, cancelled)
	if err != nil || v2 == "" || v2 == v1 {
		t.Fatalf("update: version %q (was %q), err %v", v2, v1, err)
	}
	var got Encounter
	if _, err := c.Read(ctx, "Encounter", id, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != EncounterCancelled || len(got.StatusHistory) != 2 || got.Period.End == "" {
		t.Fatalf("after update: status %q, %d history entries, period %+v", got.Status, len(got.StatusHistory), got.Period)
	}
}

func testAmendmentSupersedesAndRetractionEntersInError(t *testing.T, c *Client, logs func() string) {
	ctx := testContext(t)
	patient, practitioner := visitFixture(ctx, t, c)
	encID, _, _, err := c.Create(ctx, testEncounter(t, "visit-amend", patient, practitioner, EncounterFinished), "")
	if err != nil {
		t.Fatal(err)
	}
	v1 := testNote(t, "note-2-v1", patient, "Encounter/"+encID, practitioner, "")
	v1ID, _, _, err := c.Create(ctx, v1, IdentifierQuery(noteSystem, "note-2-v1"))
	if err != nil {
		t.Fatal(err)
	}
	v2 := testNote(t, "note-2-v2", patient, "Encounter/"+encID, practitioner, "DocumentReference/"+v1ID)
	v2ID, _, _, err := c.Create(ctx, v2, IdentifierQuery(noteSystem, "note-2-v2"))
	if err != nil {
		t.Fatalf("create amendment: %v", err)
	}
	setStatus(ctx, t, c, v1ID, DocumentSuperseded)
	setStatus(ctx, t, c, v2ID, DocumentEnteredInError)

	var old, amended DocumentReference
	if _, err := c.Read(ctx, "DocumentReference", v1ID, &old); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, "DocumentReference", v2ID, &amended); err != nil {
		t.Fatal(err)
	}
	if old.Status != DocumentSuperseded || old.DocStatus != "final" {
		t.Fatalf("old version: status %q docStatus %q, want superseded/final", old.Status, old.DocStatus)
	}
	want := []DocumentRelatesTo{{Code: "replaces", Target: Reference{Reference: "DocumentReference/" + v1ID}}}
	if amended.Status != DocumentEnteredInError || amended.DocStatus != "amended" || !reflect.DeepEqual(amended.RelatesTo, want) {
		t.Fatalf("amendment: status %q docStatus %q relatesTo %+v", amended.Status, amended.DocStatus, amended.RelatesTo)
	}
}

// setStatus reads the note, changes its status and writes it back.
func setStatus(ctx context.Context, t *testing.T, c *Client, id string, s DocumentStatus) {
	t.Helper()
	var d DocumentReference
	if _, err := c.Read(ctx, "DocumentReference", id, &d); err != nil {
		t.Fatal(err)
	}
	next, err := d.WithStatus(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, id, next); err != nil {
		t.Fatalf("update status to %s: %v", s, err)
	}
}

func testInvalidResourceIsPermanentWithOutcome(t *testing.T, c *Client, logs func() string) {
	ctx := testContext(t)
	bad := rawResource{typ: "DocumentReference", body: json.RawMessage(`{"resourceType":"DocumentReference",
		"date":"2026-13-45T99:00:00Z","description":"` + secretNote + `"}`)}
	_, _, _, err := c.Create(ctx, bad, "")
	var oe *OutcomeError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v (%T), want *OutcomeError", err, err)
	}
	if oe.Status != 400 || Retryable(err) || len(oe.Issues) == 0 {
		t.Fatalf("outcome: status %d retryable %v issues %+v; want permanent 400 with issues", oe.Status, Retryable(err), oe.Issues)
	}
	wantExpr := map[string]bool{"DocumentReference.status": false, "DocumentReference.content": false, "DocumentReference.date": false}
	for _, is := range oe.Issues {
		if is.Severity != "error" || is.Code == "" || is.Diagnostics == "" {
			t.Errorf("issue %+v lacks severity, code or text", is)
		}
		for _, x := range is.Expression {
			if _, ok := wantExpr[x]; ok {
				wantExpr[x] = true
			}
		}
	}
	for x, seen := range wantExpr {
		if !seen {
			t.Errorf("no issue at %s in %+v", x, oe.Issues)
		}
	}
	if strings.Contains(err.Error(), "2026-13-45") || strings.Contains(err.Error(), "chest pain") {
		t.Fatalf("error text carries submitted values: %v", err)
	}
	assertNoPHI(t, logs())
}

func TestLostAnswerAndOutageAreRetryable(t *testing.T) {
	c, srv, _ := newMedplumClient(t)
	ctx := testContext(t)
	patient, practitioner := visitFixture(ctx, t, c)
	enc := testEncounter(t, "visit-lost", patient, practitioner, EncounterArrived)
	cond := IdentifierQuery(visitSystem, "visit-lost")

	srv.DropNextWriteResponse()
	_, _, _, err := c.Create(ctx, enc, cond)
	var te *TransportError
	if !errors.As(err, &te) || !Retryable(err) {
		t.Fatalf("lost answer: err = %v (%T), want a retryable *TransportError", err, err)
	}
	ids, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "visit-lost")
	if err != nil || len(ids) != 1 {
		t.Fatalf("after the lost answer the write is applied once: ids %v err %v", ids, err)
	}
	if _, _, created, err := c.Create(ctx, enc, cond); err != nil || created {
		t.Fatalf("retry after lost answer: created=%v err=%v, want the existing one", created, err)
	}

	srv.Stop()
	_, err = c.SearchByIdentifier(ctx, "Encounter", visitSystem, "visit-lost")
	if !errors.As(err, &te) || !Retryable(err) {
		t.Fatalf("EHR down: err = %v, want a retryable *TransportError", err)
	}
	srv.Start()
	if ids, err := c.SearchByIdentifier(ctx, "Encounter", visitSystem, "visit-lost"); err != nil || len(ids) != 1 {
		t.Fatalf("EHR back: ids %v err %v", ids, err)
	}
}
