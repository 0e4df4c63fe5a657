package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/internal/fhirtest"
	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

const (
	adminTestPatient = "Katherine Johnson"
	adminTestDOB     = "1968-08-26"
	adminGoodSystem  = "urn:televisit:demo"
)

// adminServer is startSeededServer's televisit plus an EHR endpoint "main"
// on a real FHIR R4 server (Medplum, fhirtest) and the test's own pool.
type adminServer struct {
	*consoleServer
	fhir  *fhirtest.Server
	store store.Config // the recordings bucket on MinIO
	minio *miniotest.Server
}

// startAdminServer serves televisit with the demo clinic, its staff and an
// EHR endpoint (a configuration file: endpoints cannot come from the
// environment) whose worker polls every 100 ms.
func startAdminServer(t *testing.T) *adminServer {
	t.Helper()
	fhir := fhirtest.Start(t)
	mio, sc := recordingMinIO(t)
	yaml := fmt.Sprintf("ehr:\n  endpoints:\n    - name: main\n      base_url: %s\n      auth: none\n"+
		"  poll_interval: 100ms\n  retry_base: 100ms\n  retry_max: 500ms\n", fhir.BaseURL)
	cs := startServer(t, serverOptions{config: yaml, env: recordingEnv(mio, t.TempDir())})
	return &adminServer{consoleServer: cs, fhir: fhir, store: sc, minio: mio}
}

// failedEHRJob makes the clinic's first EHR write fail at the EHR: the
// clinic's identifier system is one the API would refuse (written past
// it, as an older release or a hand edit would), so the FHIR server
// answers 400 with an OperationOutcome. It returns the visit and job ids.
func (s *adminServer) failedEHRJob(t *testing.T) (uuid.UUID, int64) {
	t.Helper()
	ctx := context.Background()
	s.svc.SetEHREndpoints("main") // the test's own service, as serve's knows it
	adminID := s.staff["admin"]
	admin := visits.Actor{Kind: visits.ActorStaff, ID: adminID.String(), StaffID: adminID,
		Roles: []visits.Role{visits.RoleAdmin}, ClinicIDs: []uuid.UUID{s.clinic}}
	if _, err := s.svc.SetClinicEHR(ctx, admin, s.clinic, visits.ClinicEHRSettings{Profile: visits.EHRGeneric,
		Endpoint: "main", IdentifierSystem: adminGoodSystem}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE clinic_ehr SET identifier_system = 'urn:televisit bad' WHERE clinic_id = $1", s.clinic); err != nil {
		t.Fatal(err)
	}
	patient := s.fhirPatient(t)
	clin := s.staff["clinician"]
	v, err := s.svc.CreateVisit(ctx, seedActor, visits.NewVisit{ClinicID: s.clinic, ClinicianID: &clin,
		StartsAt: time.Now().Add(10 * time.Minute), DurationMinutes: 20,
		Patient: visits.Patient{Name: adminTestPatient, DateOfBirth: adminTestDOB, EHRPatientID: patient}})
	if err != nil {
		t.Fatal(err)
	}
	s.checkIn(t, v.ID, adminTestDOB, "no") // the Encounter becomes "arrived": the first job
	deadline := time.Now().Add(90 * time.Second)
	for {
		var id int64
		var state string
		err := s.pool.QueryRow(ctx, "SELECT id, state FROM ehr_jobs WHERE visit_id = $1 ORDER BY seq LIMIT 1", v.ID).Scan(&id, &state)
		if err == nil && state == "failed" {
			return v.ID, id
		}
		if time.Now().After(deadline) {
			t.Fatalf("the EHR write did not fail: %q %v\n%s", state, err, tail(s.logs.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fhirPatient creates a Patient on the FHIR server and returns its id.
func (s *adminServer) fhirPatient(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.fhir.BaseURL+"/Patient",
		strings.NewReader(`{"resourceType":"Patient","name":[{"family":"Johnson"}]}`))
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	_, rest, ok := strings.Cut(string(body), `"id":"`)
	id, _, _ := strings.Cut(rest, `"`)
	if resp.StatusCode != 201 || !ok || id == "" {
		t.Fatalf("create Patient: %d %s", resp.StatusCode, body)
	}
	return id
}

// TestBrowserAdmin (real Medplum, MinIO, PostgreSQL and Chromium): a
// signed-out visit to /admin goes to sign in; the admin signs in on the
// provider's login page and lands on /admin; a write the EHR refused (400)
// shows as failed with the EHR's reason and OperationOutcome; the admin
// fixes the clinic's identifier system on the page, retries the write and
// sees it delivered; sets the recording retention (bad input is refused in
// place), which a reload shows again; plays a visit's recording and issues
// a release link, both of which serve the stored bytes. axe, the keyboard
// walk and screenshots at 375 and 1280 px in five states; no PHI in the
// title, console or log, no link in the console; a scheduler is refused
// the page but records a patient's request for a copy, which the admin
// finds on a fresh page load, approves and releases (adminReleaseQueueSteps).
func TestBrowserAdmin(t *testing.T) {
	srv := startAdminServer(t)
	recVisit, recBody := srv.storedRecording(t)
	visit, job := srv.failedEHRJob(t)
	audit := pageAudit{dir: screenshotDir(t)}
	t.Logf("screenshots in %s", audit.dir)
	row := fmt.Sprintf(`document.querySelector('#jobs-body tr[data-job="%d"]')`, job)

	// The presigned links point at MinIO's self-signed certificate.
	b := browsertest.Start(t, browsertest.WithName("admin"), browsertest.WithFlag("ignore-certificate-errors", true))
	tab := b.Context()
	step(t, tab, "a signed-out visit to /admin goes to sign in", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, srv.base+"/admin"); err != nil {
			return err
		}
		// Wait for the page's own redirect to land on the provider's form:
		// navigating again while it is under way aborts one of the two.
		return browsertest.WaitFor(ctx, `location.pathname !== "/admin" && !!document.getElementById("username")`, browserStepTimeout)
	})
	pagesSignIn(t, tab, srv.base, "/admin", "admin")
	step(t, tab, "the failed write shows with the EHR's reason", func(ctx context.Context) error {
		if err := waitState(ctx, "ready"); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`(() => { const r = %s; return !!r && r.dataset.state === "failed" &&
			r.querySelector(".job-error").textContent.includes("400") &&
			!!r.querySelector(".job-error details li") &&
			!!r.querySelector('button[data-action="retry"]') &&
			r.querySelector("td").title === %q &&
			document.getElementById("ehr-profile").value === "generic" &&
			document.getElementById("ehr-system").value === "urn:televisit bad" &&
			document.getElementById("status").textContent.includes("1 failed"); })()`, row, visit.String()))
	})
	audit.check(t, tab, "admin-failed", "job-state", "retry", "ehr-save", "retention-save", "rec-find")

	step(t, tab, "a bad identifier system is refused next to the field", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("ehr-system").value = "not a uri",
			document.getElementById("ehr-form").requestSubmit(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("ehr-system-error").textContent !== "" &&
			document.getElementById("ehr-system").getAttribute("aria-invalid") === "true"`, browserStepTimeout)
	})
	step(t, tab, "the admin fixes the identifier system", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.getElementById("ehr-system").value = %q,
			document.getElementById("ehr-form").requestSubmit(), true)`, adminGoodSystem)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("status").textContent === "EHR settings saved." &&
			document.getElementById("ehr-system-error").textContent === ""`, browserStepTimeout)
	})
	step(t, tab, "the admin retries the failed write", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("job-state").value = "failed",
			document.getElementById("job-state").dispatchEvent(new Event("change")), true)`); err != nil {
			return err
		}
		if err := waitState(ctx, "ready"); err != nil {
			return err
		}
		if err := evalJS(ctx, row+` && `+row+`.dataset.state === "failed" && document.querySelectorAll("#jobs-body tr").length === 1`); err != nil {
			return err
		}
		if err := evalJS(ctx, `(`+row+`.querySelector('button[data-action="retry"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, row+` && `+row+`.dataset.state !== "failed" &&
			document.getElementById("status").textContent.includes("pending again")`, browserStepTimeout)
	})
	step(t, tab, "the write is delivered to the EHR", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("job-state").value = "",
			document.getElementById("job-state").dispatchEvent(new Event("change")), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.body.dataset.state === "ready" && (document.getElementById("jobs-refresh").click(), true) &&
			!!`+row+` && `+row+`.dataset.state === "delivered" && `+row+`.textContent.includes("Encounter/")`, 90*time.Second); err != nil {
			return err
		}
		return waitState(ctx, "ready") // the last refresh has answered
	})
	var state string
	if err := srv.pool.QueryRow(context.Background(), "SELECT state FROM ehr_jobs WHERE id = $1", job).Scan(&state); err != nil || state != "delivered" {
		t.Fatalf("job %d: %q %v", job, state, err)
	}

	step(t, tab, "a retention of 0 days is refused in place", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("retention-days").value = "0",
			document.getElementById("retention-form").requestSubmit(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("retention-days-error").textContent !== ""`, browserStepTimeout)
	})
	step(t, tab, "the admin sets the retention", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("retention-days").value = "45",
			document.getElementById("mode-compliance").checked = true,
			document.getElementById("retention-form").requestSubmit(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("status").textContent ===
			"Retention saved: 45 days, compliance mode." &&
			document.getElementById("retention-source").textContent.startsWith("Set for this clinic")`, browserStepTimeout)
	})
	step(t, tab, "a visit without recordings", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.getElementById("rec-visit").value = %q,
			document.getElementById("recordings-form").requestSubmit(), true)`, visit)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("status").textContent === "This visit has no recordings."`, browserStepTimeout)
	})
	links := adminRecordingSteps(t, b, tab, srv, recVisit, recBody)
	audit.check(t, tab, "admin-recording", "retention-save", "rec-find", "play", "link", "release-copy")
	checkNoPHI(t, b, links...) // the links are the access itself: never in the console
	step(t, tab, "after a reload the page shows what was saved", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, srv.base+"/admin"); err != nil {
			return err
		}
		if err := waitState(ctx, "ready"); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`document.getElementById("retention-days").value === "45" &&
			document.getElementById("mode-compliance").checked &&
			document.getElementById("retention-source").textContent.startsWith("Set for this clinic") &&
			document.getElementById("ehr-system").value === %q && %s.dataset.state === "delivered" &&
			!document.title.includes(%q)`, adminGoodSystem, row, adminTestPatient))
	})
	audit.check(t, tab, "admin-delivered", "job-state", "ehr-save", "retention-save", "rec-find")
	checkNoPHI(t, b, adminTestPatient, adminTestDOB, "Johnson")

	other := browsertest.Start(t, browsertest.WithName("scheduler"))
	pagesSignIn(t, other.Context(), srv.base, "/admin", "scheduler")
	step(t, other.Context(), "a scheduler is told the page is for administrators", func(ctx context.Context) error {
		if err := waitState(ctx, "forbidden"); err != nil {
			return err
		}
		return evalJS(ctx, `document.getElementById("jobs-section").hidden &&
			document.getElementById("status").textContent.includes("administrators")`)
	})
	adminReleaseQueueSteps(t, b, tab, other, srv, recVisit, recBody, audit)
	for _, phi := range []string{adminTestPatient, adminTestDOB} {
		if strings.Contains(srv.logs.String(), phi) {
			t.Errorf("PHI %q in serve's log", phi)
		}
	}
}

// storedRecording records a visit of the demo clinician (everyone
// consents), stores a real WebM (made by ffmpeg) as the patient's object in
// MinIO, as the recorder does, and stops the recording. It runs before the
// clinic has an EHR profile, so the visit makes no EHR write.
func (s *adminServer) storedRecording(t *testing.T) (visit uuid.UUID, body []byte) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "r.webm")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10",
		"-c:v", "libvpx", "-b:v", "100k", "-f", "webm", "-y", file).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg (Debian's ffmpeg package): %v %s", err, out)
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	clin := s.staff["clinician"]
	v, err := s.svc.CreateVisit(ctx, seedActor, visits.NewVisit{ClinicID: s.clinic, ClinicianID: &clin,
		StartsAt: time.Now().Add(5 * time.Minute), DurationMinutes: 20,
		Patient: visits.Patient{Name: adminTestPatient, DateOfBirth: adminTestDOB}})
	if err != nil {
		t.Fatal(err)
	}
	token := s.checkInAs(t, v.ID, adminTestDOB, visits.CheckIn{LocationState: "NY", RecordingConsent: "yes", DeviceTest: goodDevices})
	patient, err := s.svc.AuthenticatePatient(ctx, token, "127.0.0.1", "admin-test")
	if err != nil {
		t.Fatal(err)
	}
	doc := s.demoClinician()
	if _, err := s.svc.Admit(ctx, doc, v.ID); err != nil {
		t.Fatal(err)
	}
	r, err := s.svc.RequestRecording(ctx, doc, v.ID, []string{"patient"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Consents {
		a := doc
		if c.ParticipantID == "patient" {
			a = patient
		}
		if r, err = s.svc.AnswerConsent(ctx, a, c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	sys := visits.SystemActor("admin-test")
	obj := uuid.New()
	key := store.Key{Visit: v.ID, Recording: obj}
	if err := s.svc.AddRecordingObject(ctx, sys, visits.RecordingObject{ID: obj, RecordingID: r.ID,
		ParticipantID: "patient", Key: key.String()}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, s.store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, key, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := s.svc.RecordingObjectStored(ctx, sys, obj, int64(len(body)), sum[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.StopRecording(ctx, doc, v.ID, visits.StopStopped); err != nil {
		t.Fatal(err)
	}
	return v.ID, body
}

// fetchLink GETs a presigned link shown on the page (MinIO's certificate
// is trusted through its CA) and checks it serves want.
func (s *adminServer) fetchLink(t *testing.T, link string, want []byte) {
	t.Helper()
	if !strings.HasPrefix(link, "https://"+s.minio.Endpoint+"/") {
		t.Fatalf("link %q is not a link of the object store", link)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.minio.CertPool}}}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("GET the link: %d, %d bytes (want %d) %v", resp.StatusCode, len(got), len(want), err)
	}
}

// adminRecordingSteps: the admin finds the visit's recording, plays the
// patient's file (on the page, or in a tab of its own when the server's CSP
// keeps media to the page's origin), records the patient's request for a copy,
// approves it and gets a release link that serves the file.
func adminRecordingSteps(t *testing.T, b *browsertest.Browser, tab context.Context, srv *adminServer, visit uuid.UUID,
	body []byte) (links []string) {
	t.Helper()
	step(t, tab, "a malformed visit id is refused in place", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("rec-visit").value = "visit 12",
			document.getElementById("recordings-form").requestSubmit(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("rec-visit-error").textContent !== "" &&
			document.getElementById("rec-visit").getAttribute("aria-invalid") === "true"`, browserStepTimeout)
	})
	step(t, tab, "the admin finds the visit's recording", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.getElementById("rec-visit").value = %q,
			document.getElementById("recordings-form").requestSubmit(), true)`, visit)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("status").textContent === "1 recording." &&
			!!document.querySelector('#recordings-list button[data-action="play"]')`, browserStepTimeout)
	})
	step(t, tab, "the admin asks to play the patient's file", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.querySelector('#recordings-list button[data-action="play"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("player-box").hidden &&
			document.getElementById("player-open").href.startsWith("https://")`, browserStepTimeout)
	})
	play, err := browsertest.Eval[string](tab, `document.getElementById("player-open").href`)
	if err != nil {
		t.Fatal(err)
	}
	srv.fetchLink(t, play, body)
	inline, err := browsertest.Eval[bool](tab, `!document.getElementById("player").hidden`)
	if err != nil {
		t.Fatal(err)
	}
	// Inline when the server's CSP media-src allows the store; otherwise
	// in a tab of its own, as the link on the page opens it.
	player, js := tab, `document.getElementById("player")`
	if !inline {
		player, js = b.NewTab(t), `document.querySelector("video")`
		step(t, player, "the link opens in a tab", func(ctx context.Context) error { return browsertest.Navigate(ctx, play) })
	}
	step(t, player, "the patient's file plays", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `!!`+js+` && `+js+`.readyState >= 1 && `+js+`.duration > 1`, browserStepTimeout)
	})
	step(t, tab, "the admin records the patient's request and approves it", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.querySelector('#recordings-list input[id^="release-note-"]').value = "By phone",
			document.querySelector('#recordings-list button[data-action="request"]').click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!!document.querySelector('#recordings-list button[data-action="approve"]')`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.querySelector('#recordings-list button[data-action="approve"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!!document.querySelector('#recordings-list button[data-action="link"]') &&
			document.getElementById("status").textContent.startsWith("Request approved")`, browserStepTimeout)
	})
	step(t, tab, "the admin gets the release link", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.querySelector('#recordings-list button[data-action="link"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("release-box").hidden &&
			document.getElementById("release-url").value.startsWith("https://") &&
			document.getElementById("status").textContent.startsWith("Link issued")`, browserStepTimeout)
	})
	link, err := browsertest.Eval[string](tab, `document.getElementById("release-url").value`)
	if err != nil {
		t.Fatal(err)
	}
	srv.fetchLink(t, link, body)
	return []string{play, link}
}

// adminReleaseNote is what the scheduler writes about the patient's request
// (free text, treated as PHI: never in a console or a log).
const adminReleaseNote = "Asked by letter for her lawyer"

// adminReleaseQueueSteps: the scheduler (signed in, refused the admin page)
// records the patient's request for a copy through the API; the admin, on
// a fresh load of /admin, sees it waiting in the queue with its note,
// opens the recording, sees it among the recording's requests (the one
// approved earlier too), approves it, sees the list reloaded from the
// server and the queue empty, and gets a link that serves the file. The
// list and the link are audited.
func adminReleaseQueueSteps(t *testing.T, admin *browsertest.Browser, tab context.Context, sched *browsertest.Browser,
	srv *adminServer, visit uuid.UUID, body []byte, audit pageAudit) {
	t.Helper()
	ctx := context.Background()
	var recording uuid.UUID
	if err := srv.pool.QueryRow(ctx, "SELECT id FROM recordings WHERE visit_id = $1", visit).Scan(&recording); err != nil {
		t.Fatal(err)
	}
	request, err := browsertest.Eval[string](sched.Context(), fmt.Sprintf(`(async () => {
		const r = await fetch("/api/v1/recordings/%s/release-requests", {method: "POST", credentials: "same-origin",
			headers: {"Content-Type": "application/json", Accept: "application/json"},
			body: JSON.stringify({requester: "patient", note: %q})});
		return r.status === 201 ? (await r.json()).id : "status " + r.status; })()`, recording, adminReleaseNote))
	if err != nil || uuid.Validate(request) != nil {
		t.Fatalf("the scheduler records the request: %q %v", request, err)
	}
	item := fmt.Sprintf(`document.querySelector('#recordings-list li[data-request="%s"]')`, request)
	step(t, tab, "on a fresh page load the admin sees the request waiting", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, srv.base+"/admin"); err != nil {
			return err
		}
		if err := waitState(ctx, "ready"); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`(() => { const li = document.querySelector('#queue-list li[data-request="%s"]');
			return !!li && li.textContent.includes(%q) && li.dataset.visit === %q &&
			document.querySelectorAll("#queue-list li").length === 1 &&
			document.getElementById("queue-summary").textContent === "1 release request waits for a decision."; })()`,
			request, adminReleaseNote, visit))
	})
	audit.check(t, tab, "admin-release-queue", "retention-save", "show-release", "rec-find")
	step(t, tab, "the admin opens the recording and sees both requests", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.querySelector('#queue-list button[data-action="show-release"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`document.getElementById("status").textContent === "1 recording." &&
			document.getElementById("rec-visit").value === %q && !!%s && %s.dataset.state === "pending" &&
			%s.textContent.includes(%q) && %s.textContent.includes("Recorded by staff %s") &&
			!!%s.querySelector('button[data-action="approve"]') &&
			document.querySelectorAll('#recordings-list li[data-request][data-state="approved"]').length === 1 &&
			document.querySelector('#recordings-list li[data-state="approved"]').textContent.includes("By phone")`,
			visit, item, item, item, adminReleaseNote, item, srv.staff["scheduler"].String()[:8], item), browserStepTimeout)
	})
	audit.check(t, tab, "admin-release-pending", "rec-find", "play", "approve")
	step(t, tab, "the admin approves it; list and queue reload", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+item+`.querySelector('button[data-action="approve"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, item+` && `+item+`.dataset.state === "approved" &&
			!!`+item+`.querySelector('button[data-action="link"]') && document.activeElement === `+item+`.querySelector("button") &&
			document.getElementById("status").textContent.startsWith("Request approved") &&
			document.getElementById("queue-list").hidden &&
			document.getElementById("queue-summary").textContent === "No release requests wait for a decision."`, browserStepTimeout)
	})
	step(t, tab, "the admin gets the link of the approved request", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("release-url").value = "",
			`+item+`.querySelector('button[data-action="link"]').click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("release-url").value.startsWith("https://") &&
			document.getElementById("status").textContent.startsWith("Link issued")`, browserStepTimeout)
	})
	link, err := browsertest.Eval[string](tab, `document.getElementById("release-url").value`)
	if err != nil {
		t.Fatal(err)
	}
	srv.fetchLink(t, link, body)
	adminID := srv.staff["admin"].String()
	for _, c := range []struct {
		action, resource, actor string
		min                     int
	}{
		{"recording.release.request", request, srv.staff["scheduler"].String(), 1},
		{"recording.release.approve", request, adminID, 1},
		{"recording.release.link", request, adminID, 1},
		{"recording.release.list", recording.String(), adminID, 2}, // the queue and the recording's list
	} {
		var n int
		if err := srv.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = $1 AND resource_id = $2
			AND actor_id = $3 AND outcome = 'success'`, c.action, c.resource, c.actor).Scan(&n); err != nil || n < c.min {
			t.Errorf("%s of %s by %s: %d events, want at least %d (%v)", c.action, c.resource, c.actor, n, c.min, err)
		}
	}
	checkNoPHI(t, admin, adminReleaseNote, link)
	checkNoPHI(t, sched, adminReleaseNote)
	if strings.Contains(srv.logs.String(), adminReleaseNote) {
		t.Error("the request's note is in serve's log")
	}
}
