package visits

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/fhirtest"
	"github.com/televisit/televisit/internal/syncbuf"
	"github.com/televisit/televisit/visits/ehr"
)

const (
	ehrSystem   = "urn:televisit:test"
	ehrNoteText = "S: chest pain since Tuesday. A: musculoskeletal. P: ibuprofen, ECG if it persists."
	ehrPatient  = "Ada Lovelace"
)

// rawFHIR is a hand-written resource (Patient, Practitioner, Encounter the
// EHR already holds), which the worker never builds.
type rawFHIR struct {
	typ  string
	body string
}

func (r rawFHIR) FHIRType() string             { return r.typ }
func (r rawFHIR) MarshalJSON() ([]byte, error) { return []byte(r.body), nil }

// ehrEnv is a fixture whose clinic writes to the real FHIR server srv.
type ehrEnv struct {
	*fixture
	srv          *fhirtest.Server
	client       *ehr.Client
	logs         *syncbuf.Buffer
	patient      string // FHIR id of the patient in the EHR
	practitioner string // FHIR id of f.clin in the EHR
}

func newEHREnv(t *testing.T, srv *fhirtest.Server, profile EHRProfile) *ehrEnv {
	t.Helper()
	e := &ehrEnv{fixture: newFixture(t), srv: srv, logs: &syncbuf.Buffer{}}
	c, err := ehr.NewClient(ehr.Config{BaseURL: srv.BaseURL, Timeout: 20 * time.Second}, nil, srv.HTTPClient(),
		slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	e.patient = e.create(t, "Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace","given":["Ada"]}],"birthDate":"1985-12-10"}`)
	e.practitioner = e.create(t, "Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Clin"}]}`)
	ctx := context.Background()
	e.svc.SetEHREndpoints("main")
	if _, err := e.svc.SetClinicEHR(ctx, e.admin, e.clinic.ID, ClinicEHRSettings{Profile: profile, Endpoint: "main", IdentifierSystem: ehrSystem}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetPractitionerID(ctx, e.admin, e.clin.StaffID, e.practitioner); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *ehrEnv) create(t *testing.T, typ, body string) string {
	t.Helper()
	id, _, _, err := e.client.Create(context.Background(), rawFHIR{typ, body}, "")
	if err != nil {
		t.Fatalf("create %s: %v", typ, err)
	}
	return id
}

// worker is a worker with short backoff, logging into e.logs.
func (e *ehrEnv) worker(t *testing.T, lease time.Duration) *EHRWorker {
	t.Helper()
	w, err := NewEHRWorker(EHRWorkerConfig{Endpoints: map[string]*ehr.Client{"main": e.client}, Lease: lease,
		Poll: 10 * time.Millisecond, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond},
		e.svc, slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// visit is a scheduled visit of f.clin for the patient in the EHR.
func (e *ehrEnv) visit(t *testing.T, encounter string) Visit {
	t.Helper()
	v, err := e.svc.CreateVisit(context.Background(), e.sched, NewVisit{
		ClinicID: e.clinic.ID, ClinicianID: &e.clin.StaffID, StartsAt: time.Now().Add(10 * time.Minute),
		DurationMinutes: 20, Reason: "Chest pain", EHREncounterID: encounter,
		Patient: Patient{Name: ehrPatient, DateOfBirth: "1985-12-10", Email: "ada@example.com", EHRPatientID: e.patient},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fullVisit checks the patient in, admits, signs the note and completes.
func (e *ehrEnv) fullVisit(t *testing.T, encounter string) Visit {
	t.Helper()
	v := e.visit(t, encounter)
	e.checkedIn(t, v.ID)
	if _, err := e.svc.Admit(context.Background(), e.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	e.sign(t, v.ID, e.saveDraft(t, v.ID, ehrNoteText, 0))
	if _, err := e.svc.Complete(context.Background(), e.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	return v
}

// drain runs w until no job is pending or in flight, except those held
// back behind a failed job of their visit.
func (e *ehrEnv) drain(t *testing.T, w *EHRWorker) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Logf("round: %v", err)
		}
		if e.openJobs(t) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("jobs still open: %+v", e.jobs(t, ""))
}

func (e *ehrEnv) openJobs(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM ehr_jobs c WHERE state IN ('pending', 'in_flight') AND NOT EXISTS
			(SELECT 1 FROM ehr_jobs p WHERE p.visit_id = c.visit_id AND p.seq < c.seq AND p.state = 'failed')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// jobs lists the jobs (oldest first) through the admin API of the service.
func (e *ehrEnv) jobs(t *testing.T, state EHRJobState) []EHRJob {
	t.Helper()
	l, err := e.svc.ListEHRJobs(context.Background(), e.admin, EHRJobFilter{State: state, ClinicID: e.clinic.ID})
	if err != nil {
		t.Fatal(err)
	}
	out := l.Items
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// count is how many resources of typ carry our identifier value.
func (e *ehrEnv) count(t *testing.T, typ, value string) []string {
	t.Helper()
	ids, err := e.client.SearchByIdentifier(context.Background(), typ, ehrSystem, value)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (e *ehrEnv) one(t *testing.T, typ, value string) string {
	t.Helper()
	ids := e.count(t, typ, value)
	if len(ids) != 1 {
		t.Fatalf("%d %s with identifier %s, want exactly 1", len(ids), typ, value)
	}
	return ids[0]
}

func (e *ehrEnv) provenances(t *testing.T, doc string) []string {
	t.Helper()
	ids, err := e.client.Search(context.Background(), "Provenance", ehr.ProvenanceQuery("DocumentReference/"+doc))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (e *ehrEnv) readDoc(t *testing.T, id string) ehr.DocumentReference {
	t.Helper()
	var d ehr.DocumentReference
	if _, err := e.client.Read(context.Background(), "DocumentReference", id, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func docText(t *testing.T, d ehr.DocumentReference) string {
	t.Helper()
	if len(d.Content) != 1 || d.Content[0].Attachment.ContentType != "text/plain" {
		t.Fatalf("content %+v, want one text/plain attachment", d.Content)
	}
	b, err := base64.StdEncoding.DecodeString(d.Content[0].Attachment.Data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noPHI checks the worker's logs, the jobs' errors and the audit details
// for the note text and the patient's name and EHR id.
func (e *ehrEnv) noPHI(t *testing.T) {
	t.Helper()
	var audit []string
	rows, err := e.pool.Query(context.Background(), "SELECT detail::text FROM audit_events")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		audit = append(audit, d)
	}
	var errs []string
	for _, j := range e.jobs(t, "") {
		errs = append(errs, j.LastError)
	}
	all := e.logs.String() + strings.Join(audit, "\n") + strings.Join(errs, "\n")
	for _, phi := range []string{ehrNoteText[:20], ehrPatient, "Lovelace", e.patient} {
		if strings.Contains(all, phi) {
			t.Errorf("PHI %q in logs, job errors or audit details", phi)
		}
	}
}

// auditCount counts audit events of action.
func (e *ehrEnv) auditCount(t *testing.T, action string, outcome Outcome) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE action = $1 AND outcome = $2",
		action, string(outcome)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noteValue(v uuid.UUID, version int) string { return noteIdentifier(v, version) }
