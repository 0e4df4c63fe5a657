package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/visits"
)

// The recording consent test: the real `televisit serve` with its
// recorder writing to a real MinIO (TLS, KMS key, object lock), the
// patient (/join, 375 px) and the clinician (/call, 1280 px) in two real
// Chromium processes; the consent dialogs, status lines and buttons of
// web/static/consent.js drive the recording.

// startRecordedCall: the patient checks in on their phone (answering Yes
// to recording before the visit), the clinician signs in on /call and
// admits them; both decode the other's video.
func startRecordedCall(t *testing.T, srv *recServer, name, dob string) (patient, clinician *browsertest.Browser, visit uuid.UUID) {
	t.Helper()
	visit = srv.newVisit(t, name, dob, "clinician")
	link := srv.patientLink(t, visit)
	patient = browsertest.Start(t, browsertest.WithName("patient"))
	clinician = browsertest.Start(t, browsertest.WithName("clinician"))
	ptab, ctab := patient.Context(), clinician.Context()
	openLink(t, ptab, link, "dob")
	step(t, ptab, "patient confirms the date of birth", func(ctx context.Context) error {
		if err := submitDOB(ctx, dob); err != nil {
			return err
		}
		return waitState(ctx, "checkin")
	})
	step(t, ptab, "patient checks in, answering Yes to recording", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("location-state").value = "NY";
			document.querySelector('input[name="consent"][value="yes"]').checked = true;
			document.getElementById("checkin-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		return waitState(ctx, "waiting")
	})
	step(t, ctab, "the clinician's screen is 1280 px wide", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	})
	pagesSignIn(t, ctab, srv.base, "/call?visit="+visit.String(), "clinician")
	step(t, ctab, "clinician admits the patient", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `!document.getElementById("admit").hidden`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, clickJS("#admit"))
	})
	for _, b := range []*browsertest.Browser{patient, clinician} {
		if _, err := browsertest.WaitFramesDecoded(b.Context(), "window.call.pc", browserMinFrames, browserMediaWindow); err != nil {
			t.Fatal(err)
		}
	}
	step(t, ctab, "the record button is ready once the clinician joined", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `(() => { const b = document.getElementById("record-request");
			return !!b && !b.disabled && b.textContent === "Record the visit"; })()`, browserStepTimeout)
	})
	return patient, clinician, visit
}

// waitPages waits until js holds on every page, all within d of now; it
// returns how long that took.
func waitPages(t *testing.T, what string, d time.Duration, js string, tabs map[string]context.Context) time.Duration {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, tab := range tabs {
		wg.Go(func() {
			if err := browsertest.WaitFor(tab, js, d); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("%s: %s page: not within %s: %v", what, name, d, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return time.Since(start)
}

// recStatusJS: the page's live status line says text.
func recStatusJS(text string) string {
	return fmt.Sprintf(`document.getElementById("recording-status").textContent === %q`, text)
}

// consentDialogJS: the consent dialog is open as a modal, holds the focus
// and shows the server's consent text as plain text.
var consentDialogJS = fmt.Sprintf(`(() => { const d = document.getElementById("consent-dialog");
	return d.open && d.matches(":modal") && d.contains(document.activeElement) &&
		d.getAttribute("aria-labelledby") === "consent-title" &&
		document.getElementById("consent-text").textContent === %q &&
		document.getElementById("consent-requester").textContent === (
			document.querySelector(".call-controls").dataset.role === "clinician" ?
			"You asked to record this visit. Everyone in the call must agree, you too." :
			"Your clinician asks to record this visit."); })()`,
	visits.ConsentText)

// indicatorJS: the recording indicator shows (or not) with the stop
// button of the page's role.
func indicatorJS(on bool) string {
	if !on {
		return `document.getElementById("recording-indicator").hidden && document.getElementById("recording-stop").hidden`
	}
	return `(() => { const el = document.getElementById("recording-indicator"), stop = document.getElementById("recording-stop");
		return !el.hidden && el.offsetParent !== null && !stop.hidden && stop.offsetParent !== null; })()`
}

// TestBrowserRecordingConsent: the clinician asks to record; both
// participants consent in the call's dialog (the patient by keyboard, with
// their check-in answer shown); the indicator shows on both pages within
// 2 s; after about 6 s the patient withdraws and both pages show the stop
// within 2 s. Each participant's WebM in MinIO has VP8 and Opus, decodes
// cleanly, matches its recorded checksum and lasts the recorded time
// (within 10%); the manifest holds the consents. A second request that
// the patient declines makes no object, and both pages say someone said
// no; Escape in the dialog answers no. In a third recording a guest who
// joins is asked first and recorded only from their yes, and the
// clinician's stop shows on all three pages within 2 s.
func TestBrowserRecordingConsent(t *testing.T) {
	const name, dob = "Rosa Consentia", "1979-03-14"
	srv := startRecordingServer(t)
	patient, clinician, visit := startRecordedCall(t, srv, name, dob)
	ptab, ctab := patient.Context(), clinician.Context()
	tabs := map[string]context.Context{"patient": ptab, "clinician": ctab}
	shots := screenshotDir(t)

	step(t, ctab, "the clinician asks to record", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#record-request"))
	})
	waitPages(t, "both are asked in a dialog", browserStepTimeout, consentDialogJS, tabs)
	step(t, ptab, "the patient sees their check-in answer, to confirm again", func(ctx context.Context) error {
		return evalJS(ctx, `(() => { const c = document.getElementById("consent-checkin");
			return !c.hidden && c.textContent.startsWith("Before the visit you answered: Yes.") &&
				document.activeElement.id === "consent-title"; })()`)
	})
	step(t, ctab, "the clinician has no check-in answer; the record button waits", func(ctx context.Context) error {
		return evalJS(ctx, `document.getElementById("consent-checkin").hidden && document.getElementById("record-request").disabled`)
	})
	checkConsentDialog(t, ptab, ctab, shots)

	step(t, ctab, "the clinician says yes", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#consent-yes")+` && !document.getElementById("consent-dialog").open`)
	})
	waitPages(t, "both are told the room waits for everyone", browserStepTimeout, recStatusJS("Waiting for everyone to agree…"), tabs)
	var started time.Time
	step(t, ptab, "the patient says yes by keyboard: Tab, Enter", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			return err
		}
		if err := evalJS(ctx, `document.activeElement.id === "consent-yes"`); err != nil {
			return err
		}
		started = time.Now()
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("consent-dialog").open`, 5*time.Second)
	})
	waitPages(t, "the indicator shows on both pages", 2*time.Second-time.Since(started),
		indicatorJS(true)+" && "+recStatusJS("Recording started"), tabs)
	t.Logf("recording indicator on both pages %s after the last yes", time.Since(started).Round(time.Millisecond))
	step(t, ptab, "the patient may withdraw; the clinician may stop", func(ctx context.Context) error {
		if err := evalJS(ctx, `document.getElementById("recording-stop").textContent === "Withdraw consent"`); err != nil {
			return err
		}
		return evalJS(ctx, fitsJS)
	})
	step(t, ctab, "the clinician's stop button and the disabled record button", func(ctx context.Context) error {
		return evalJS(ctx, `document.getElementById("recording-stop").textContent === "Stop recording" &&
			document.getElementById("record-request").disabled`)
	})
	step(t, ctab, "a second request while recording is refused, and the page says so", func(ctx context.Context) error {
		if err := evalJS(ctx, `window.call.send({type: "recording_request"})`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `(() => { const e = document.getElementById("recording-error");
			return !e.hidden && e.getAttribute("role") === "alert" && e.textContent.startsWith("A recording is already under way") &&
				!document.getElementById("recording-indicator").hidden; })()`, browserStepTimeout)
	})
	recID := recordingID(t, ctab)
	for name, tab := range map[string]context.Context{"375": ptab, "1280": ctab} {
		if err := browsertest.Screenshot(tab, filepath.Join(shots, "recording-indicator-"+name+".png")); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}

	time.Sleep(6*time.Second - time.Since(started))
	var withdrawn time.Time
	step(t, ptab, "the patient withdraws", func(ctx context.Context) error {
		withdrawn = time.Now()
		return evalJS(ctx, clickJS("#recording-stop"))
	})
	waitPages(t, "both pages show the recording stopped", 2*time.Second-time.Since(withdrawn),
		indicatorJS(false)+" && "+recStatusJS("Recording stopped: someone withdrew their consent"), tabs)
	t.Logf("stop shown on both pages %s after the withdrawal; %s recorded by the wall clock",
		time.Since(withdrawn).Round(time.Millisecond), withdrawn.Sub(started).Round(time.Millisecond))
	checkRecordedObjects(t, srv, visit, recID)

	checkDeclined(t, srv, visit, tabs)
	checkClinicianStops(t, srv, tabs)
	for _, b := range []*browsertest.Browser{patient, clinician} {
		checkNoPHI(t, b, name, dob)
	}
	if logs := srv.logs.String(); strings.Contains(logs, name) || strings.Contains(logs, dob) {
		t.Error("the server log carries the patient's name or date of birth")
	}
}

// checkConsentDialog: the dialog has no serious axe violation, its
// keyboard order is the two answers, and it is photographed at 375 px
// (patient) and 1280 px (clinician).
func checkConsentDialog(t *testing.T, ptab, ctab context.Context, shots string) {
	t.Helper()
	browsertest.RequireNoSeriousA11y(t, ptab, "recording consent dialog (patient, 375 px)")
	browsertest.RequireNoSeriousA11y(t, ctab, "recording consent dialog (clinician, 1280 px)")
	step(t, ptab, "the dialog fits 375 px", func(ctx context.Context) error {
		return evalJS(ctx, `(() => { const r = document.getElementById("consent-dialog").getBoundingClientRect();
			return r.left >= 0 && r.right <= window.innerWidth; })()`)
	})
	for name, tab := range map[string]context.Context{"375": ptab, "1280": ctab} {
		if err := browsertest.Screenshot(tab, filepath.Join(shots, "recording-consent-"+name+".png")); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctab, browserStepTimeout)
	defer cancel()
	w, err := browsertest.TabOrder(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range w.Order {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, " ") != "consent-yes consent-no" || len(w.Unreached) > 0 {
		t.Errorf("consent dialog tab order %v (unreached %v), want [consent-yes consent-no]", ids, w.Unreached)
	}
}

// recordingID is the live recording's id as the page got it.
func recordingID(t *testing.T, tab context.Context) uuid.UUID {
	t.Helper()
	s, err := browsertest.Eval[string](tab, `document.getElementById("recording-indicator").dataset.recordingId`)
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatalf("recording id %q: %v", s, err)
	}
	return id
}

// checkDeclined: a second request that the patient declines closes both
// dialogs, both pages say someone said no, the indicator never shows, and
// nothing new is written to the bucket.
func checkDeclined(t *testing.T, srv *recServer, visit uuid.UUID, tabs map[string]context.Context) {
	t.Helper()
	ptab, ctab := tabs["patient"], tabs["clinician"]
	before := bucketObjects(t, srv, visit)
	step(t, ctab, "the clinician asks again", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `!document.getElementById("record-request").disabled`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, clickJS("#record-request"))
	})
	waitPages(t, "both are asked again", browserStepTimeout, consentDialogJS, tabs)
	recID := recordingID(t, ptab)
	var declined time.Time
	step(t, ptab, "the patient says no", func(ctx context.Context) error {
		declined = time.Now()
		return evalJS(ctx, clickJS("#consent-no")+` && !document.getElementById("consent-dialog").open`)
	})
	waitPages(t, "both pages say someone said no", 2*time.Second-time.Since(declined),
		recStatusJS("Recording stopped: someone said no")+` && !document.getElementById("consent-dialog").open && `+indicatorJS(false), tabs)
	rec, err := srv.svc.RecordingByID(context.Background(), visits.SystemActor("test"), recID)
	if err != nil || rec.StopReason != visits.StopDeclined || rec.StartedAt != nil {
		t.Fatalf("declined recording: %v %+v", err, rec)
	}
	time.Sleep(2 * time.Second) // an upload, were there one, would have begun
	if objs, err := srv.svc.RecordingObjects(context.Background(), visits.SystemActor("test"), recID); err != nil || len(objs) != 0 {
		t.Errorf("declined recording has objects: %+v (%v)", objs, err)
	}
	if after := bucketObjects(t, srv, visit); after != before {
		t.Errorf("the bucket held %d objects of the visit before the declined request, %d after", before, after)
	}
	step(t, ptab, "Escape in the dialog answers no: the server gets the answer (to an unknown request)", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(window.call.handle({v: 1, type: "recording_consent_request", request_id: %q,
			recording_id: %q, text: "A test request.", requested_by_role: "clinician"}),
			document.getElementById("consent-dialog").open && document.getElementById("consent-checkin").hidden)`,
			uuid.NewString(), uuid.NewString())); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("consent-dialog").open &&
			document.getElementById("recording-error").textContent.startsWith("A recording is already under way or was already answered")`,
			browserStepTimeout)
	})
	step(t, ctab, "a server without recording: the page says so plainly", func(ctx context.Context) error {
		return evalJS(ctx, `(window.call.handle({v: 1, type: "error", code: "recording_unavailable"}), (() => {
			const e = document.getElementById("recording-error");
			return !e.hidden && e.textContent === "Recording is not available on this server." &&
				!document.getElementById("record-request").disabled; })())`)
	})
}

// checkClinicianStops: a third request that both accept; a guest who
// joins while it records is asked first (the indicator shows behind the
// dialog) and recorded only from their yes; the clinician stops it and
// all three pages show why within 2 s.
func checkClinicianStops(t *testing.T, srv *recServer, tabs map[string]context.Context) {
	t.Helper()
	ptab, ctab := tabs["patient"], tabs["clinician"]
	step(t, ctab, "the clinician asks a third time", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#record-request"))
	})
	waitPages(t, "both are asked", browserStepTimeout, consentDialogJS, tabs)
	for _, tab := range []context.Context{ctab, ptab} {
		step(t, tab, "yes", func(ctx context.Context) error { return evalJS(ctx, clickJS("#consent-yes")) })
	}
	waitPages(t, "recording again", browserStepTimeout, indicatorJS(true), tabs)
	recID := recordingID(t, ctab)

	gtab := joinGuest(t, ctab, "Gale Latejoiner")
	step(t, gtab, "the guest is asked first, with the indicator showing behind the dialog", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, consentDialogJS+` && !document.getElementById("recording-indicator").hidden`,
			browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, clickJS("#consent-yes"))
	})
	all := map[string]context.Context{"patient": ptab, "clinician": ctab, "guest": gtab}
	waitPages(t, "the guest's page shows the recording", browserStepTimeout, indicatorJS(true)+` && `+
		`!document.getElementById("consent-dialog").open`, all)
	time.Sleep(2 * time.Second) // some of the guest's media
	var stopped time.Time
	step(t, ctab, "the clinician stops the recording", func(ctx context.Context) error {
		stopped = time.Now()
		return evalJS(ctx, clickJS("#recording-stop"))
	})
	waitPages(t, "all pages show the clinician stopped it", 2*time.Second-time.Since(stopped),
		indicatorJS(false)+" && "+recStatusJS("Recording stopped: the clinician stopped it"), all)
	checkGuestRecordedAfterYes(t, srv, recID)
}

// joinGuest: the clinician invites a guest in the page, the guest opens
// the link in a third browser and is admitted; it returns the guest's tab.
func joinGuest(t *testing.T, ctab context.Context, name string) context.Context {
	t.Helper()
	var link string
	step(t, ctab, "the clinician invites a guest", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(() => { document.getElementById("guest-name").value = %q;
			document.getElementById("guest-form").requestSubmit(); return true; })()`, name)); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("guest-link").value.startsWith(location.origin + "/guest#")`,
			browserStepTimeout); err != nil {
			return err
		}
		var err error
		link, err = browsertest.Eval[string](ctx, `document.getElementById("guest-link").value`)
		return err
	})
	guest := browsertest.Start(t, browsertest.WithName("guest"))
	gtab := guest.Context()
	step(t, gtab, "the guest opens the link and continues", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740)); err != nil {
			return err
		}
		if err := browsertest.Navigate(ctx, link); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.body.dataset.state === "device_check" &&
			document.getElementById("check-preview").videoWidth > 0`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, clickJS("#device-ready"))
	})
	step(t, ctab, "the clinician admits the guest", func(ctx context.Context) error {
		admit := `document.querySelector("#guest-list li[data-status=waiting] button.admit-guest")`
		if err := browsertest.WaitFor(ctx, "!!"+admit, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, "("+admit+".click(), true)")
	})
	t.Cleanup(func() { checkNoPHI(t, guest, name) })
	return gtab
}
