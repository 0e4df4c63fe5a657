package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/ehr"
)

// ehrKillLease is the EHR job lease of the serve processes: short, so that
// the restarted process takes the killed one's job over quickly, and long
// enough that the killed worker's delivery deadline has not passed when the
// kill comes.
const ehrKillLease = "3s"

// serveProcess is the real `televisit serve` binary, run as a subprocess in
// its own process group.
type serveProcess struct {
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr
	done chan struct{}
	err  error // after done
}

// startServeProcess runs bin as serve with s's configuration until it
// answers /readyz; the test's end kills its whole process group.
func startServeProcess(t *testing.T, bin string, s *ehrServe) *serveProcess {
	t.Helper()
	p := &serveProcess{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", s.cfgFile, "--migrate")
	p.cmd.Env = append(append(environWithoutTelevisit(), s.env...), "TELEVISIT_EHR_LEASE="+ehrKillLease)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(t) })
	p.waitReady(t, s.base)
	return p
}

// environWithoutTelevisit is the test's environment without TELEVISIT_*
// variables, which would change serve's configuration.
func environWithoutTelevisit() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TELEVISIT_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *serveProcess) waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited (%v) before it was ready:\n%s", p.err, p.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 90s:\n%s", tail(p.out.String(), 4000))
		}
	}
}

// kill sends SIGKILL to the process group (no graceful shutdown, nothing
// survives), waits for the exit and checks the group is gone. Safe to call
// again after the process ended.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	pgid := p.cmd.Process.Pid // Setpgid: the group's id is the leader's pid
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill process group %d: %v", pgid, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("serve (pid %d) did not exit within 30s of SIGKILL", pgid)
		return
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d survives its SIGKILL: %v", pgid, err)
	}
}

// noteJob is the database's view of a visit's note_create job.
type noteJob struct {
	id                 int64
	state              string
	attempts           int
	fhirRef, fhirVer   string
	documentID, provID string // the ehr_documents map; "" when absent
}

func readNoteJob(t *testing.T, pool *pgxpool.Pool, visit uuid.UUID) noteJob {
	t.Helper()
	var j noteJob
	err := pool.QueryRow(context.Background(), `SELECT j.id, j.state, j.attempts, j.fhir_ref, j.fhir_version,
			coalesce(d.document_id, ''), coalesce(d.provenance_id, '')
		FROM ehr_jobs j LEFT JOIN ehr_documents d ON d.visit_id = j.visit_id AND d.note_version = j.note_version
		WHERE j.visit_id = $1 AND j.kind = 'note_create'`, visit).
		Scan(&j.id, &j.state, &j.attempts, &j.fhirRef, &j.fhirVer, &j.documentID, &j.provID)
	if err != nil {
		t.Fatalf("read the note job: %v", err)
	}
	return j
}

// TestServeKilledMidEHRDelivery kills the real serve process (SIGKILL)
// while the EHR has applied the note's DocumentReference create but its
// answer has not come back, so the job is in flight with the write done. A
// new serve process on the same database takes the job over when its lease
// lapses, searches by our identifier instead of creating again, and
// delivers it: one DocumentReference, one Provenance.
func TestServeKilledMidEHRDelivery(t *testing.T) {
	bin := buildBinary(t)
	s := newEHRServe(t)
	ctx := context.Background()
	fc := s.fhirClient(t)
	clinic, clin, sched, patient := setupEHRClinic(t, s, fc)
	s.stop() // the in-process serve only set the clinic up

	first := startServeProcess(t, bin, s)
	held, release := s.fhir.HoldNextWrite("DocumentReference")
	v := ehrVisit(t, s.svc, sched, clin, clinic, patient)
	select {
	case <-held:
	case <-first.done:
		t.Fatalf("serve exited (%v) before the note was written:\n%s", first.err, first.out)
	case <-time.After(90 * time.Second):
		t.Fatalf("the DocumentReference create did not reach the EHR within 90s:\n%s", tail(first.out.String(), 4000))
	}
	first.kill(t)
	release()

	pool, err := openPool(ctx, envValue(s.env, "TELEVISIT_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	j := readNoteJob(t, pool, v)
	if j.state != string(visits.JobInFlight) || j.attempts != 1 || j.documentID != "" {
		t.Fatalf("after the kill the note job is %+v; want in_flight after one attempt, unmapped", j)
	}
	noteID := v.String() + "/note/1"
	docs, err := fc.SearchByIdentifier(ctx, "DocumentReference", "urn:televisit:north", noteID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("after the kill: DocumentReferences %v %v; want the one the EHR applied", docs, err)
	}
	var jobs int
	var leaseLeft float64 // seconds of the killed worker's lease left after the kill
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM max(lease_until) - now()), 0)::float8
		FROM ehr_jobs WHERE visit_id = $1`, v).Scan(&jobs, &leaseLeft); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %.2fs of the %s lease left; %d jobs", leaseLeft, ehrKillLease, jobs)

	second := startServeProcess(t, bin, s)
	s.waitDelivered(t, jobs)
	j = readNoteJob(t, pool, v)
	checkTakenOver(t, j, docs[0])
	if again, err := fc.SearchByIdentifier(ctx, "DocumentReference", "urn:televisit:north", noteID); err != nil || len(again) != 1 || again[0] != docs[0] {
		t.Fatalf("after the restart: DocumentReferences %v %v; want only %s", again, err, docs[0])
	}
	provs, err := fc.Search(ctx, "Provenance", ehr.ProvenanceQuery("DocumentReference/"+docs[0]))
	if err != nil || len(provs) != 1 || provs[0] != j.provID {
		t.Fatalf("Provenances %v %v; want exactly the mapped %q", provs, err, j.provID)
	}
	checkDeliveryAudited(t, pool, j.id)
	checkNoEHRPHI(t, "the in-process serve", s.logs.String())
	checkNoEHRPHI(t, "the killed serve", first.out.String())
	checkNoEHRPHI(t, "the restarted serve", second.out.String())
	if !strings.Contains(first.out.String(), `"msg":"EHR job delivered"`) {
		t.Errorf("the killed serve's output has no delivered Encounter job (is its log captured?):\n%s", tail(first.out.String(), 4000))
	}
}

// checkTakenOver wants the job delivered by a second attempt that found the
// document by our identifier: a create records the version the EHR
// assigned, a found document has none.
func checkTakenOver(t *testing.T, j noteJob, docID string) {
	t.Helper()
	if j.state != string(visits.JobDelivered) || j.attempts != 2 {
		t.Errorf("note job %+v: want delivered at the second attempt", j)
	}
	if j.fhirRef != "DocumentReference/"+docID || j.documentID != docID || j.provID == "" {
		t.Errorf("note job %+v: want it mapped to DocumentReference/%s with its Provenance", j, docID)
	}
	if j.fhirVer != "" {
		t.Errorf("note job recorded version %q: the second attempt created a DocumentReference instead of finding it", j.fhirVer)
	}
}

// checkDeliveryAudited wants exactly one audited EHR write of the job: the
// second attempt's.
func checkDeliveryAudited(t *testing.T, pool *pgxpool.Pool, job int64) {
	t.Helper()
	var n, attempt int
	err := pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max((detail->>'attempt')::int), 0)
		FROM audit_events WHERE action = 'ehr.write' AND resource_type = 'ehr_job' AND resource_id = $1`,
		strconv.FormatInt(job, 10)).Scan(&n, &attempt)
	if err != nil || n != 1 || attempt != 2 {
		t.Errorf("audit of the note job: %d events, attempt %d, %v; want one, of attempt 2", n, attempt, err)
	}
}

// setupEHRClinic creates the patient and practitioner in the EHR and a
// clinic writing to it with the generic profile, through the running serve.
func setupEHRClinic(t *testing.T, s *ehrServe, fc *ehr.Client) (clinic uuid.UUID, clin, sched visits.Actor, patient string) {
	t.Helper()
	ctx := context.Background()
	patient, _, _, err := fc.Create(ctx, rawFHIR{"Patient", `{"resourceType":"Patient","name":[{"family":"Hopper"}]}`}, "")
	if err != nil {
		t.Fatal(err)
	}
	pract, _, _, err := fc.Create(ctx, rawFHIR{"Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Clin"}]}`}, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.svc.EnsureClinic(ctx, "north", "North", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	clin, sched = ehrStaff(t, s.svc, "clin", visits.RoleClinician, c.ID), ehrStaff(t, s.svc, "sched", visits.RoleScheduler, c.ID)
	if code := s.api(t, "PUT", "/api/v1/clinics/"+c.ID.String()+"/ehr",
		map[string]any{"profile": "generic", "endpoint": "main", "identifier_system": "urn:televisit:north"}, nil); code != 200 {
		t.Fatalf("PUT clinic EHR profile: %d", code)
	}
	if code := s.api(t, "PUT", "/api/v1/ehr/practitioners/"+clin.StaffID.String(), map[string]any{"practitioner_id": pract}, nil); code != 200 {
		t.Fatalf("PUT practitioner: %d", code)
	}
	return c.ID, clin, sched, patient
}

func checkNoEHRPHI(t *testing.T, who, out string) {
	t.Helper()
	for _, phi := range []string{ehrTestNote[:20], ehrTestPatient, "Hopper", "1976-12-09", "g@example.com"} {
		if strings.Contains(out, phi) {
			t.Errorf("PHI %q in the output of %s", phi, who)
		}
	}
}

// envValue is the value of key in a KEY=value list.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
