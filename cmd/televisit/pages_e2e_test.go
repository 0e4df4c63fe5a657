package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/visits"
)

// The accessibility test visits every page in its main states at phone and
// desktop width: it writes a screenshot of each (page-<page>-<state>-<width>.png
// in screenshotDir), runs axe-core (WCAG 2.1 A/AA and best practices; any
// serious or critical violation fails) and walks the page with the Tab key
// (every visible control reachable, named and showing a focus indicator;
// the page's main actions in the order given).

// pageWidths: a phone and a desktop.
var pageWidths = []struct{ w, h int64 }{{375, 812}, {1280, 800}}

// maxTabs bounds a keyboard walk; no page has this many controls.
const maxTabs = 80

// shotReadyJS puts the page at its top without a focused control (an
// earlier keyboard walk may have scrolled it) and resolves once the layout
// of the viewport has been painted.
const shotReadyJS = `(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0),
	new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))`

// pageAudit checks pages and writes their screenshots to dir.
type pageAudit struct {
	dir string
}

// check audits the page of tab in its current state: screenshot and axe at
// each width, then the keyboard walk at desktop width, in which each of
// mainActions (an id, data-action or accessible name) must be focused.
func (a pageAudit) check(t *testing.T, tab context.Context, name string, mainActions ...string) {
	t.Helper()
	for _, size := range pageWidths {
		label := fmt.Sprintf("%s at %d px", name, size.w)
		step(t, tab, "screenshot and axe: "+label, func(ctx context.Context) error {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				return err
			}
			if err := evalJS(ctx, shotReadyJS); err != nil {
				return err
			}
			if err := browsertest.Screenshot(ctx, filepath.Join(a.dir, fmt.Sprintf("page-%s-%d.png", name, size.w))); err != nil {
				return err
			}
			browsertest.RequireNoSeriousA11y(t, ctx, label)
			return nil
		})
	}
	step(t, tab, "keyboard walk: "+name, func(ctx context.Context) error {
		w, err := browsertest.TabOrder(ctx, maxTabs)
		if err != nil {
			return err
		}
		var order []string
		for _, f := range w.Order {
			order = append(order, f.String())
			if strings.TrimSpace(f.Name) == "" {
				t.Errorf("keyboard %s: %s has no accessible name", name, f)
			}
			if f.NoRing {
				t.Errorf("keyboard %s: %s shows no focus indicator", name, f)
			}
		}
		t.Logf("keyboard %s: tab order (wrapped %v):\n  %s", name, w.Wrapped, strings.Join(order, "\n  "))
		for _, f := range w.Unreached {
			t.Errorf("keyboard %s: %s is visible but Tab never reaches it", name, f)
		}
		last, prev := -1, ""
		for _, key := range mainActions {
			i := w.Index(key)
			switch {
			case i < 0:
				t.Errorf("keyboard %s: the main action %q is not in the tab order", name, key)
			case i < last:
				t.Errorf("keyboard %s: the main action %q comes before %q, want after", name, key, prev)
			default:
				last, prev = i, key
			}
		}
		return nil
	})
}

// clinicianActor acts as the demo clinician through the service (used by
// note_e2e_test.go; the same as patient_e2e_test.go's demoClinician).
func (s *consoleServer) clinicianActor() visits.Actor { return s.demoClinician() }

// pagesSignIn signs user in on the dev provider's login page and waits for
// the page return_to leads to.
func pagesSignIn(t *testing.T, tab context.Context, base, returnTo, user string) {
	t.Helper()
	step(t, tab, user+" opens the sign-in page", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, base+"/auth/login?return_to="+url.QueryEscape(returnTo)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!!document.getElementById("username")`, browserStepTimeout)
	})
	step(t, tab, user+" signs in", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(() => { document.getElementById("username").value = %q;
			document.getElementById("password").value = %q;
			document.querySelector("form").submit(); return true; })()`, user, "demo-"+user)); err != nil {
			return err
		}
		path, _, _ := strings.Cut(returnTo, "?")
		return browsertest.WaitFor(ctx, fmt.Sprintf(`location.pathname === %q`, path), browserStepTimeout)
	})
}

// checkNoPHI: no console message of b carries any of phi.
func checkNoPHI(t *testing.T, b *browsertest.Browser, phi ...string) {
	t.Helper()
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
	for _, m := range b.Messages() {
		for _, p := range phi {
			if strings.Contains(m.Text, p) {
				t.Errorf("the browser console carries PHI or a link token: %q", m.Text)
			}
		}
	}
}

// TestBrowserPagesAccessible: every page in its main states passes axe
// (no serious or critical violation), is usable with the Tab key and is
// photographed at 375 and 1280 px.
func TestBrowserPagesAccessible(t *testing.T) {
	srv := startSeededServer(t, nil)
	audit := pageAudit{dir: screenshotDir(t)}
	t.Logf("screenshots in %s", audit.dir)

	t.Run("landing and link errors", func(t *testing.T) { auditEntryPages(t, srv, audit) })
	t.Run("check-in", func(t *testing.T) { auditCheckIn(t, srv, audit) })
	t.Run("schedule", func(t *testing.T) { auditSchedule(t, srv, audit) })
	t.Run("visit", func(t *testing.T) { auditVisit(t, srv, audit) })
}

// auditEntryPages: the landing page, an expired patient link and a guest
// link that does not work.
func auditEntryPages(t *testing.T, srv *consoleServer, audit pageAudit) {
	expired := srv.completedVisitLink(t)
	b := browsertest.Start(t, browsertest.WithName("visitor"))
	tab := b.Context()

	step(t, tab, "the landing page", func(ctx context.Context) error {
		return browsertest.Navigate(ctx, srv.base+"/")
	})
	audit.check(t, tab, "landing", "Staff sign in")

	openLink(t, tab, expired, "link_error")
	step(t, tab, "the expired patient link says so", func(ctx context.Context) error {
		return evalJS(ctx, `document.getElementById("status").textContent.includes("expired")`)
	})
	audit.check(t, tab, "join-link-expired")

	step(t, tab, "a guest link that does not work", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, srv.base+"/guest#not-a-guest-token-at-all"); err != nil {
			return err
		}
		return waitState(ctx, "link_error")
	})
	audit.check(t, tab, "guest-link-error")
	checkNoPHI(t, b, expired[strings.Index(expired, "#")+1:], "Emery Endedtest", "1968-02-29")
}

// auditCheckIn: the patient's date-of-birth step and the check-in after
// the device test.
func auditCheckIn(t *testing.T, srv *consoleServer, audit pageAudit) {
	const name, dob = "Devon Checkintest", "1992-09-30"
	link := srv.patientLink(t, srv.newVisit(t, name, dob, "clinician"))
	b := browsertest.Start(t, browsertest.WithName("patient"))
	tab := b.Context()

	openLink(t, tab, link, "dob")
	audit.check(t, tab, "join-dob", "dob", "Continue")

	step(t, tab, "the patient confirms the date of birth and runs the device test", func(ctx context.Context) error {
		if err := submitDOB(ctx, dob); err != nil {
			return err
		}
		if err := waitState(ctx, "checkin"); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("device-test").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("device-test-section").dataset.done === "1"`, browserStepTimeout)
	})
	audit.check(t, tab, "join-checkin", "location-state", "device-test", "Check in")
	checkNoPHI(t, b, name, dob, link[strings.Index(link, "#")+1:])
}

// auditSchedule: the scheduler's day view with visits, and the dialog that
// creates a visit.
func auditSchedule(t *testing.T, srv *consoleServer, audit pageAudit) {
	srv.newVisit(t, "Sasha Scheduletest", "1975-06-15", "clinician")
	srv.newVisit(t, "Jules Pooltest", "2003-12-01", "")
	b := browsertest.Start(t, browsertest.WithName("scheduler"))
	tab := b.Context()

	pagesSignIn(t, tab, srv.base, "/schedule", "scheduler")
	step(t, tab, "the day view shows the visits", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "ready" && document.querySelectorAll("li.visit").length >= 2`, browserStepTimeout)
	})
	audit.check(t, tab, "schedule-day", "day", "next-day", "new-visit")

	step(t, tab, "the new-visit dialog", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("new-visit").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("visit-dialog").open`, browserStepTimeout)
	})
	audit.check(t, tab, "schedule-new-visit", "v-name", "v-dob")
	checkNoPHI(t, b, "Sasha Scheduletest", "Jules Pooltest", "1975-06-15", "2003-12-01")
}

// auditVisit: the patient's waiting room, the clinician's waiting room with
// that patient, the call page before and after admission, and the patient
// in the call.
func auditVisit(t *testing.T, srv *consoleServer, audit pageAudit) {
	const name, dob = "Avery Pagetest", "1979-11-23"
	id := srv.newVisit(t, name, dob, "clinician")
	link := srv.patientLink(t, id)
	patient := browsertest.Start(t, browsertest.WithName("patient"))
	clinician := browsertest.Start(t, browsertest.WithName("clinician"))
	ptab, ctab := patient.Context(), clinician.Context()

	openLink(t, ptab, link, "dob")
	step(t, ptab, "the patient confirms the date of birth", func(ctx context.Context) error {
		if err := submitDOB(ctx, dob); err != nil {
			return err
		}
		return waitState(ctx, "checkin")
	})
	step(t, ptab, "the patient checks in", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("location-state").value = "NY";
			document.querySelector('input[name="consent"][value="no"]').checked = true;
			document.getElementById("checkin-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		return waitState(ctx, "waiting")
	})
	audit.check(t, ptab, "join-waiting")

	pagesSignIn(t, ctab, srv.base, "/console", "clinician")
	step(t, ctab, "the waiting room shows the patient", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "live" && `+rowJS(id, "")+` !== null`, browserStepTimeout)
	})
	audit.check(t, ctab, "console-queue", "admit")

	step(t, ctab, "the call page before admission", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, srv.base+"/call?visit="+id.String()); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("admit").hidden`, browserStepTimeout)
	})
	audit.check(t, ctab, "call-before", "admit")

	step(t, ctab, "the clinician admits the patient", func(ctx context.Context) error {
		return evalJS(ctx, `(document.getElementById("admit").click(), true)`)
	})
	for _, tab := range []context.Context{ctab, ptab} {
		step(t, tab, "in the call, the other's video decodes", func(ctx context.Context) error {
			if err := waitState(ctx, "in_call"); err != nil {
				return err
			}
			_, err := browsertest.WaitFramesDecoded(ctx, "window.call.pc", browserMinFrames, browserMediaWindow)
			return err
		})
	}
	audit.check(t, ctab, "call-in-call", "mute-mic", "camera-off", "leave-call", "end-visit")
	audit.check(t, ptab, "join-in-call", "mute-mic", "camera-off", "leave-call")

	for _, b := range []*browsertest.Browser{patient, clinician} {
		checkNoPHI(t, b, name, dob, link[strings.Index(link, "#")+1:])
	}
}
