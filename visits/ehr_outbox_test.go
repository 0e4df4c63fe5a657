package visits

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/fhirtest"
	"github.com/televisit/televisit/visits/ehr"
)

// TestEHROutboxMedplum delivers EHR jobs to one real FHIR server (Medplum
// on loopback, shared by the subtests; each subtest has its own database
// and visits, so its own identifiers).
func TestEHROutboxMedplum(t *testing.T) {
	srv := fhirtest.Start(t)
	t.Run("FullVisit", func(t *testing.T) { testEHRFullVisit(t, srv) })
	t.Run("AmendAndRetract", func(t *testing.T) { testEHRAmendAndRetract(t, srv) })
	t.Run("EHRDownForTheWholeVisit", func(t *testing.T) { testEHRDown(t, srv) })
	t.Run("LostAnswerNoDuplicate", func(t *testing.T) { testEHRLostAnswer(t, srv) })
	t.Run("RejectedJobFailsAndRetries", func(t *testing.T) { testEHRRejected(t, srv) })
	t.Run("WorkerKilledMidDelivery", func(t *testing.T) { testEHRWorkerKilled(t, srv) })
	t.Run("EpicLikeProfile", func(t *testing.T) { testEHREpicLike(t, srv) })
	t.Run("ConcurrentWorkers", func(t *testing.T) { testEHRConcurrentWorkers(t, srv) })
}

// testEHRConcurrentWorkers runs two workers (as two processes would) over
// several visits: every resource is written once and each visit's jobs are
// delivered in order.
func testEHRConcurrentWorkers(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	var vs []Visit
	for range 3 {
		vs = append(vs, e.fullVisit(t, ""))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for range 2 {
		w := e.worker(t, 30*time.Second)
		go func() { done <- w.Run(ctx) }()
	}
	deadline := time.Now().Add(90 * time.Second)
	for e.openJobs(t) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range vs {
		e.one(t, "Encounter", v.ID.String())
		if n := len(e.provenances(t, e.one(t, "DocumentReference", noteValue(v.ID, 1)))); n != 1 {
			t.Fatalf("%d Provenance, want 1", n)
		}
	}
	var disorder int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM ehr_jobs a JOIN ehr_jobs b
		ON a.visit_id = b.visit_id AND a.seq < b.seq WHERE a.delivered_at > b.delivered_at OR b.state <> 'delivered'`).
		Scan(&disorder); err != nil || disorder != 0 {
		t.Fatalf("%d jobs delivered out of order or not at all (%v)", disorder, err)
	}
}

// TestEncounterStatusOfEveryVisitState maps each visit state to an R4
// encounter-status code the builder accepts (scheduled: none).
func TestEncounterStatusOfEveryVisitState(t *testing.T) {
	want := map[Status]string{StatusScheduled: "", StatusWaiting: "arrived", StatusInProgress: "in-progress",
		StatusCompleted: "finished", StatusCancelled: "cancelled", StatusNoShow: "cancelled"}
	for st, code := range want {
		got, ok := encounterStatusOf(st)
		if got != code || ok != (code != "") {
			t.Errorf("%s: %q %v, want %q", st, got, ok, code)
		}
		if !ok {
			continue
		}
		_, err := ehr.NewEncounter(ehr.EncounterInput{IdentifierSystem: ehrSystem, VisitID: "v",
			Changes: []ehr.StatusChange{{Status: ehr.EncounterStatus(got), At: time.Now()}}, Patient: "Patient/p"})
		if err != nil {
			t.Errorf("%s: the builder refuses %q: %v", st, got, err)
		}
	}
}

func testEHRFullVisit(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	v := e.fullVisit(t, "")
	jobs := e.jobs(t, "")
	kinds := []string{}
	for _, j := range jobs {
		kinds = append(kinds, string(j.Kind)+":"+j.EncounterStatus)
	}
	want := []string{"encounter_status:arrived", "encounter_status:in-progress", "note_create:", "encounter_status:finished"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("jobs %v, want %v (queued with the changes, in order)", kinds, want)
	}
	e.drain(t, e.worker(t, 30*time.Second))

	encID := e.one(t, "Encounter", v.ID.String())
	var enc ehr.Encounter
	if _, err := e.client.Read(context.Background(), "Encounter", encID, &enc); err != nil {
		t.Fatal(err)
	}
	var hist []string
	for _, h := range enc.StatusHistory {
		hist = append(hist, string(h.Status))
	}
	if enc.Status != ehr.EncounterFinished || !slices.Equal(hist, []string{"arrived", "in-progress", "finished"}) {
		t.Fatalf("encounter status %s history %v", enc.Status, hist)
	}
	if enc.Class.Code != "VR" || enc.Subject.Reference != "Patient/"+e.patient || enc.Period == nil ||
		enc.Period.Start == "" || enc.Period.End == "" {
		t.Fatalf("encounter %s", mustJSON(t, enc))
	}
	if len(enc.Participant) != 1 || enc.Participant[0].Individual.Reference != "Practitioner/"+e.practitioner {
		t.Fatalf("participants %+v", enc.Participant)
	}

	docID := e.one(t, "DocumentReference", noteValue(v.ID, 1))
	d := e.readDoc(t, docID)
	if d.Status != ehr.DocumentCurrent || d.DocStatus != "final" || docText(t, d) != ehrNoteText ||
		d.Subject.Reference != "Patient/"+e.patient || d.Author[0].Reference != "Practitioner/"+e.practitioner ||
		d.Context == nil || d.Context.Encounter[0].Reference != "Encounter/"+encID ||
		d.Type.Coding[0].Code != "11506-3" || d.Category[0].Coding[0].Code != "clinical-note" {
		t.Fatalf("document reference %s", mustJSON(t, d))
	}
	provs := e.provenances(t, docID)
	if len(provs) != 1 {
		t.Fatalf("%d Provenance for the note, want 1", len(provs))
	}
	var p ehr.Provenance
	if _, err := e.client.Read(context.Background(), "Provenance", provs[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Agent[0].Who.Reference != "Practitioner/"+e.practitioner || p.Target[0].Reference != "DocumentReference/"+docID {
		t.Fatalf("provenance %s", mustJSON(t, p))
	}
	for _, j := range e.jobs(t, "") {
		if j.State != JobDelivered || j.FHIRRef == "" || j.Attempts != 1 {
			t.Errorf("job %+v: want delivered at the first attempt with its resource", j)
		}
	}
	if n := e.auditCount(t, "ehr.write", OutcomeSuccess); n != 4 {
		t.Errorf("%d ehr.write audit events, want 4", n)
	}
	e.noPHI(t)
}

func testEHRAmendAndRetract(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	v := e.fullVisit(t, "")
	w := e.worker(t, 30*time.Second)
	e.drain(t, w)
	rev := e.note(t, e.clin, v.ID).Draft.Revision
	e.sign(t, v.ID, e.saveDraft(t, v.ID, ehrNoteText+" Addendum: ECG normal.", rev))
	e.drain(t, w)

	oldID, newID := e.one(t, "DocumentReference", noteValue(v.ID, 1)), e.one(t, "DocumentReference", noteValue(v.ID, 2))
	old, amended := e.readDoc(t, oldID), e.readDoc(t, newID)
	if old.Status != ehr.DocumentSuperseded {
		t.Fatalf("old version is %s, want superseded", old.Status)
	}
	if amended.Status != ehr.DocumentCurrent || amended.DocStatus != "amended" || len(amended.RelatesTo) != 1 ||
		amended.RelatesTo[0].Code != "replaces" || amended.RelatesTo[0].Target.Reference != "DocumentReference/"+oldID ||
		!strings.HasSuffix(docText(t, amended), "ECG normal.") {
		t.Fatalf("amendment %s", mustJSON(t, amended))
	}
	if len(e.provenances(t, newID)) != 1 {
		t.Fatal("the amendment has no single Provenance")
	}

	if _, err := e.svc.RetractNote(context.Background(), e.clin, v.ID, 2, "wrong_patient"); err != nil {
		t.Fatal(err)
	}
	e.drain(t, w)
	if d := e.readDoc(t, newID); d.Status != ehr.DocumentEnteredInError {
		t.Fatalf("retracted version is %s, want entered-in-error", d.Status)
	}
	if n := len(e.count(t, "DocumentReference", noteValue(v.ID, 2))); n != 1 {
		t.Fatalf("%d documents for version 2 after the retraction", n)
	}
	e.noPHI(t)
}

func testEHRDown(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	w := e.worker(t, 30*time.Second)
	srv.Stop()
	v := e.fullVisit(t, "")
	for range 5 {
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond)
	}
	jobs := e.jobs(t, "")
	if jobs[0].State != JobPending || jobs[0].Attempts < 2 || jobs[0].LastError == "" {
		t.Fatalf("first job while the EHR is down: %+v", jobs[0])
	}
	for _, j := range jobs[1:] {
		if j.Attempts != 0 {
			t.Fatalf("job %d (seq %d) was tried before the earlier one was delivered", j.ID, j.Seq)
		}
	}
	srv.Start()
	e.drain(t, w)
	encID := e.one(t, "Encounter", v.ID.String())
	docID := e.one(t, "DocumentReference", noteValue(v.ID, 1))
	if n := len(e.provenances(t, docID)); n != 1 {
		t.Fatalf("%d Provenance, want 1", n)
	}
	var enc ehr.Encounter
	if _, err := e.client.Read(context.Background(), "Encounter", encID, &enc); err != nil {
		t.Fatal(err)
	}
	if enc.Status != ehr.EncounterFinished || len(enc.StatusHistory) != 3 {
		t.Fatalf("encounter after the outage: %s", mustJSON(t, enc))
	}
	e.noPHI(t)
}

func testEHRLostAnswer(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	w := e.worker(t, 30*time.Second)
	v := e.visit(t, "")
	e.checkedIn(t, v.ID)
	if _, err := e.svc.Admit(context.Background(), e.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(t, w)
	e.sign(t, v.ID, e.saveDraft(t, v.ID, ehrNoteText, 0))
	before := srv.Dropped()
	srv.DropNextWriteResponse()
	e.drain(t, w)
	if srv.Dropped() != before+1 {
		t.Fatalf("no write answer was dropped")
	}
	docID := e.one(t, "DocumentReference", noteValue(v.ID, 1))
	if n := len(e.provenances(t, docID)); n != 1 {
		t.Fatalf("%d Provenance, want 1", n)
	}
	note := e.jobs(t, "")[2]
	if note.Kind != JobNoteCreate || note.Attempts != 2 || note.FHIRRef != "DocumentReference/"+docID {
		t.Fatalf("note job %+v: want delivered at the second attempt, to the document the first one wrote", note)
	}
}

func testEHRRejected(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	w := e.worker(t, 30*time.Second)
	ctx := context.Background()
	// A setting written past the API's validation (an older release, a
	// hand edit): the EHR rejects the identifier's system URI with 400.
	if _, err := e.pool.Exec(ctx, "UPDATE clinic_ehr SET identifier_system = 'urn:televisit bad'"); err != nil {
		t.Fatal(err)
	}
	v := e.visit(t, "")
	e.checkedIn(t, v.ID)
	if _, err := e.svc.Admit(ctx, e.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(t, w)
	failed := e.jobs(t, JobFailed)
	if len(failed) != 1 || failed[0].Seq != 1 || !strings.Contains(failed[0].LastError, "400") || len(failed[0].Outcome) == 0 {
		t.Fatalf("failed jobs %+v, want the first with the EHR's 400 and its outcome", failed)
	}
	if failed[0].Outcome[0].Code == "" || !slices.ContainsFunc(failed[0].Outcome, func(is EHRIssue) bool {
		return slices.Contains(is.Expression, "Encounter.identifier[0].system")
	}) {
		t.Fatalf("outcome %+v does not point at the identifier system", failed[0].Outcome)
	}
	if pending := e.jobs(t, JobPending); len(pending) != 1 || pending[0].Attempts != 0 {
		t.Fatalf("the later job must wait behind the failed one: %+v", pending)
	}
	if n := e.auditCount(t, "ehr.write", OutcomeFailure); n != 1 {
		t.Errorf("%d failed ehr.write audit events, want 1", n)
	}
	if _, err := e.svc.RetryEHRJob(ctx, e.clin, failed[0].ID); err == nil {
		t.Fatal("a clinician retried a job")
	}
	if _, err := e.svc.RetryEHRJob(ctx, e.admin, e.jobs(t, JobPending)[0].ID); err == nil {
		t.Fatal("a pending job was retried")
	}

	if _, err := e.svc.SetClinicEHR(ctx, e.admin, e.clinic.ID, ClinicEHRSettings{Profile: EHRGeneric, Endpoint: "main", IdentifierSystem: ehrSystem}); err != nil {
		t.Fatal(err)
	}
	j, err := e.svc.RetryEHRJob(ctx, e.admin, failed[0].ID)
	if err != nil || j.State != JobPending {
		t.Fatalf("retry: %+v %v", j, err)
	}
	e.drain(t, w)
	var enc ehr.Encounter
	if _, err := e.client.Read(ctx, "Encounter", e.one(t, "Encounter", v.ID.String()), &enc); err != nil {
		t.Fatal(err)
	}
	if enc.Status != ehr.EncounterInProgress || len(enc.StatusHistory) != 2 {
		t.Fatalf("encounter after the retry: %s", mustJSON(t, enc))
	}
	for _, j := range e.jobs(t, "") {
		if j.State != JobDelivered || j.LastError != "" || len(j.Outcome) != 0 {
			t.Fatalf("job %+v after the retry", j)
		}
	}
}

// testEHRWorkerKilled: worker A claims the note job and writes it to the
// EHR, then dies before recording the delivery (a killed process: no mark,
// no release). Worker B gets nothing while A's lease runs, then takes the
// job over, finds the document A wrote and delivers without a duplicate.
func testEHRWorkerKilled(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHRGeneric)
	ctx := context.Background()
	v := e.visit(t, "")
	e.checkedIn(t, v.ID)
	if _, err := e.svc.Admit(ctx, e.clin, v.ID); err != nil {
		t.Fatal(err)
	}
	b := e.worker(t, 30*time.Second)
	e.drain(t, b)
	e.sign(t, v.ID, e.saveDraft(t, v.ID, ehrNoteText, 0))

	a := e.worker(t, 2*time.Second)
	jobs, err := a.claim(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].kind != JobNoteCreate {
		t.Fatalf("worker A claimed %+v, %v", jobs, err)
	}
	if _, err := a.deliver(ctx, jobs[0]); err != nil {
		t.Fatalf("worker A's write: %v", err)
	}
	// A is gone. Its lease still runs: B finds nothing to do.
	if n, err := b.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("worker B claimed %d jobs during A's lease (%v)", n, err)
	}
	if j := e.jobs(t, JobInFlight); len(j) != 1 {
		t.Fatalf("in-flight jobs %+v, want A's", j)
	}
	time.Sleep(2100 * time.Millisecond)
	e.drain(t, b)
	docID := e.one(t, "DocumentReference", noteValue(v.ID, 1))
	if n := len(e.provenances(t, docID)); n != 1 {
		t.Fatalf("%d Provenance, want 1", n)
	}
	note := e.jobs(t, "")[2]
	if note.State != JobDelivered || note.Attempts != 2 || note.FHIRRef != "DocumentReference/"+docID {
		t.Fatalf("note job %+v", note)
	}
}

func testEHREpicLike(t *testing.T, srv *fhirtest.Server) {
	e := newEHREnv(t, srv, EHREpicLike)
	ctx := context.Background()
	encID := e.create(t, "Encounter", `{"resourceType":"Encounter","status":"planned",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"VR"},"subject":{"reference":"Patient/`+e.patient+`"}}`)
	v := e.fullVisit(t, encID)
	for _, j := range e.jobs(t, "") {
		if j.Kind != JobNoteCreate {
			t.Fatalf("epic_like queued %s", j.Kind)
		}
	}
	// The EHR already holds the note (filed by an earlier attempt whose
	// answer we never saw): the first attempt must find it, not create.
	pre, err := ehr.NewDocumentReference(ehr.NoteInput{IdentifierSystem: ehrSystem, NoteVersionID: noteValue(v.ID, 1),
		Patient: "Patient/" + e.patient, Encounter: "Encounter/" + encID, Author: "Practitioner/" + e.practitioner,
		SignedAt: time.Now(), Text: ehrNoteText})
	if err != nil {
		t.Fatal(err)
	}
	preID, _, _, err := e.client.Create(ctx, pre, "")
	if err != nil {
		t.Fatal(err)
	}
	w := e.worker(t, 30*time.Second)
	e.drain(t, w)
	if docID := e.one(t, "DocumentReference", noteValue(v.ID, 1)); docID != preID {
		t.Fatalf("document %s, want the one the EHR held (%s)", docID, preID)
	}
	if n := len(e.count(t, "Encounter", v.ID.String())); n != 0 {
		t.Fatalf("epic_like wrote %d Encounters", n)
	}
	var enc ehr.Encounter
	if _, err := e.client.Read(ctx, "Encounter", encID, &enc); err != nil || enc.Status != "planned" {
		t.Fatalf("the EHR's encounter changed: %s %v", enc.Status, err)
	}

	// An amendment: search before create, answer lost, still one document.
	e.sign(t, v.ID, e.saveDraft(t, v.ID, ehrNoteText+" Addendum.", e.note(t, e.clin, v.ID).Draft.Revision))
	srv.DropNextWriteResponse()
	e.drain(t, w)
	newID := e.one(t, "DocumentReference", noteValue(v.ID, 2))
	d := e.readDoc(t, newID)
	if d.Context.Encounter[0].Reference != "Encounter/"+encID || d.Content[0].Attachment.ContentType != "text/plain" ||
		d.RelatesTo[0].Target.Reference != "DocumentReference/"+preID {
		t.Fatalf("epic_like amendment %s", mustJSON(t, d))
	}
	if old := e.readDoc(t, preID); old.Status != ehr.DocumentSuperseded {
		t.Fatalf("replaced note is %s", old.Status)
	}
	e.noPHI(t)
}

// TestEHRBackoff checks the retry delay: exponential with full jitter,
// capped, and never below the EHR's Retry-After.
func TestEHRBackoff(t *testing.T) {
	w := &EHRWorker{cfg: EHRWorkerConfig{RetryBase: time.Second, RetryMax: time.Minute}, jitter: func(n int64) int64 { return n - 1 }}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 80: time.Minute} {
		if got := w.backoff(attempt, 0); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	if got := w.backoff(1, 30*time.Second); got != 30*time.Second {
		t.Errorf("Retry-After 30s gave %v", got)
	}
	w.jitter = func(int64) int64 { return 0 }
	if got := w.backoff(5, 0); got != 0 {
		t.Errorf("full jitter may wait 0, got %v", got)
	}
}
