package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/browsertest"
)

// TestBrowserWholeVisit: a whole visit across three browsers, each signed
// in the way its user is. The scheduler creates the visit on /schedule and
// takes the patient's link from the page; the patient opens it on a phone,
// passes the date-of-birth check, runs the device test, checks in and
// waits; the clinician, signed in through the dev provider's login page,
// sees the patient appear on /console and admits them, which opens the
// call; both decode the other's video; they exchange chat messages; the
// clinician writes and signs the note and ends the visit; the patient sees
// the end screen. No page logs PHI or the link token.
func TestBrowserWholeVisit(t *testing.T) {
	srv := startSeededServer(t, nil)
	const (
		name = "Avery Wholevisit"
		dob  = "1979-11-02"
		note = "Follow-up in two weeks."
	)
	scheduler := browsertest.Start(t, browsertest.WithName("scheduler"))
	link, visitID := scheduleVisit(t, srv, scheduler.Context(), name, dob)

	patient := browsertest.Start(t, browsertest.WithName("patient"))
	ptab := patient.Context()
	openLink(t, ptab, link, "dob")
	step(t, ptab, "patient confirms the date of birth", func(ctx context.Context) error {
		if err := submitDOB(ctx, dob); err != nil {
			return err
		}
		return waitState(ctx, "checkin")
	})
	step(t, ptab, "patient runs the device test", func(ctx context.Context) error {
		if err := evalJS(ctx, clickJS("#device-test")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `(() => { const d = document.getElementById("device-test-section").dataset;
			return d.done === "1" && d.camera === "pass" && d.microphone === "pass"; })()`, browserStepTimeout)
	})
	step(t, ptab, "patient checks in and waits", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("location-state").value = "NY";
			document.querySelector('input[name="consent"][value="yes"]').checked = true;
			document.getElementById("checkin-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		return waitState(ctx, "waiting")
	})

	clinician := browsertest.Start(t, browsertest.WithName("clinician"))
	ctab := clinician.Context()
	step(t, ctab, "clinician uses a laptop", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	})
	pagesSignIn(t, ctab, srv.base, "/console", "clinician")
	step(t, ctab, "clinician sees the patient waiting and admits them", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, rowJS(visitID, ` button[data-action="admit"]`)+` !== null`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(`+rowJS(visitID, "")+`.textContent.includes(`+jsString(name)+`))`); err != nil {
			return err
		}
		return evalJS(ctx, `(`+rowJS(visitID, ` button[data-action="admit"]`)+`.click(), true)`)
	})
	step(t, ctab, "the call page opens", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, fmt.Sprintf(`location.pathname === "/call" && location.search.includes(%q)`, visitID.String()), browserStepTimeout)
	})
	for _, tab := range []context.Context{ptab, ctab} {
		step(t, tab, "in the call", func(ctx context.Context) error { return waitState(ctx, "in_call") })
	}
	decodeBothWays(t, patient, clinician)

	step(t, ptab, "patient sends a chat message", func(ctx context.Context) error { return evalJS(ctx, chatJS("Hello, can you see me?")) })
	step(t, ctab, "clinician reads it and answers", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, chatHasJS("Patient", "Hello, can you see me?"), browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, chatJS("Yes, clearly."))
	})
	step(t, ptab, "patient reads the answer", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, chatHasJS("Clinician", "Yes, clearly."), browserStepTimeout)
	})

	step(t, ctab, "clinician writes the note, which saves itself", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `document.getElementById("note-panel")?.dataset.state === "ready"`, browserStepTimeout); err != nil {
			return err
		}
		if err := typeNote(ctx, note); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteStateJS("saved", "Saved"), browserStepTimeout)
	})
	step(t, ctab, "clinician signs the note", func(ctx context.Context) error {
		if err := evalJS(ctx, clickJS("#note-sign")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteVersionsJS("final"), browserStepTimeout)
	})
	step(t, ctab, "clinician ends the visit after confirming", func(ctx context.Context) error {
		if err := evalJS(ctx, clickJS("#end-visit")); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!document.getElementById("end-confirm").hidden`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, clickJS("#end-confirm-yes")); err != nil {
			return err
		}
		return waitState(ctx, "ended_visit")
	})
	step(t, ptab, "patient sees the end screen", func(ctx context.Context) error {
		if err := waitState(ctx, "over"); err != nil {
			return err
		}
		return evalJS(ctx, `!document.getElementById("end-screen").hidden && `+fitsJS)
	})
	browsertest.RequireNoSeriousA11y(t, ptab, "patient end screen")

	token := link[strings.Index(link, "#")+1:]
	for _, b := range []*browsertest.Browser{scheduler, patient, clinician} {
		checkNoPHI(t, b, name, dob, token, note)
	}
	if logs := srv.logs.String(); strings.Contains(logs, name) || strings.Contains(logs, dob) || strings.Contains(logs, note) {
		t.Error("the server log carries PHI")
	}
	v, err := srv.svc.GetVisit(context.Background(), srv.clinicianActor(), visitID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "completed" {
		t.Errorf("visit status %q, want completed", v.Status)
	}
}

// scheduleVisit signs the scheduler in on /schedule, creates a visit for
// the demo clinician starting now and issues its link; it returns the link
// as the page shows it and the visit's id.
func scheduleVisit(t *testing.T, srv *consoleServer, tab context.Context, name, dob string) (string, uuid.UUID) {
	t.Helper()
	step(t, tab, "scheduler uses a desk computer", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	})
	pagesSignIn(t, tab, srv.base, "/schedule", "scheduler")
	zone, err := time.LoadLocation("America/New_York") // the demo clinic's
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(zone)
	var visitID uuid.UUID
	step(t, tab, "scheduler creates the visit", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `document.body.dataset.state === "ready"`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("new-visit").click(), document.getElementById("visit-dialog").open)`); err != nil {
			return err
		}
		if err := evalJS(ctx, fmt.Sprintf(`(() => {
			const set = (id, v) => { document.getElementById(id).value = v; };
			set("v-name", %q); set("v-dob", %q); set("v-email", "avery@example.org"); set("v-phone", "+15555550123");
			const sel = document.getElementById("v-clinician");
			sel.value = [...sel.options].find((o) => o.text === "Dr. Casey Clinician").value;
			set("v-date", %q); set("v-time", %q); set("v-duration", "30");
			document.getElementById("visit-form").requestSubmit(); return true; })()`,
			name, dob, now.Format("2006-01-02"), now.Format("15:04"))); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("visit-dialog").open &&
			[...document.querySelectorAll("li.visit")].some((li) => li.textContent.includes(%q) &&
				li.closest("section").querySelector("h3").textContent === "Dr. Casey Clinician")`, name), browserStepTimeout); err != nil {
			return err
		}
		id, err := browsertest.Eval[string](ctx, fmt.Sprintf(`[...document.querySelectorAll("li.visit")].find((li) => li.textContent.includes(%q)).dataset.visitId`, name))
		if err != nil {
			return err
		}
		visitID, err = uuid.Parse(id)
		return err
	})
	var link string
	step(t, tab, "scheduler issues the link and takes it from the page", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="link"]').click(),
			document.getElementById("link-dialog").open)`, visitID)); err != nil {
			return err
		}
		if err := evalJS(ctx, clickJS("#l-copy-new")); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!document.getElementById("l-result").hidden && document.getElementById("l-url").value !== ""`, browserStepTimeout); err != nil {
			return err
		}
		u, err := browsertest.Eval[string](ctx, `document.getElementById("l-url").value`)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(u, srv.base+"/join#") {
			return fmt.Errorf("the page shows %q, want a %s/join# link", u, srv.base)
		}
		link = u
		return nil
	})
	return link, visitID
}

// decodeBothWays waits until each browser's call has decoded video.
func decodeBothWays(t *testing.T, a, b *browsertest.Browser) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, br := range []*browsertest.Browser{a, b} {
		wg.Go(func() {
			v, err := browsertest.WaitFramesDecoded(br.Context(), "window.call.pc", browserMinFrames, browserMediaWindow)
			if err != nil {
				errs[i] = err
				return
			}
			t.Logf("browser %d decoded %d frames (%dx%d %s)", i, v.FramesDecoded, v.FrameWidth, v.FrameHeight, v.Codec)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string { return fmt.Sprintf("%q", s) }
