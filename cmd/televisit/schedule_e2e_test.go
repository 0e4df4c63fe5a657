package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/visits"
)

// scheduleShot writes a screenshot of the tab at width × height.
func scheduleShot(t *testing.T, tab context.Context, dir, name string, width, height int64) {
	t.Helper()
	step(t, tab, "screenshot "+name, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
			return err
		}
		if err := evalJS(ctx, fitsJS+" && "+dialogFitsJS); err != nil {
			return fmt.Errorf("at %d px: %w", width, err)
		}
		browsertest.RequireNoSeriousA11y(t, ctx, fmt.Sprintf("schedule %s at %d px", name, width))
		return browsertest.Screenshot(ctx, filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)))
	})
}

// labelledJS: every visible control of the page (or of its open dialog)
// has an accessible name and is reachable with the keyboard.
// dialogFitsJS: an open dialog does not scroll sideways either.
const dialogFitsJS = `[...document.querySelectorAll("dialog[open]")].every((d) => d.scrollWidth <= d.clientWidth)`

const labelledJS = `[...document.querySelectorAll("input, select, textarea, button")]
	.filter((el) => el.getClientRects().length > 0)
	.every((el) => el.tabIndex >= 0 && ((el.labels && el.labels.length > 0) || !!el.getAttribute("aria-label") ||
		(el.tagName === "BUTTON" && el.textContent.trim() !== "")))`

// TestBrowserSchedule: the scheduler signs in on the dev provider's login
// page, sees today's visits by clinician, cancels one, creates a visit on
// the next day (first with a malformed date of birth: the field error), issues
// its link and reads it from the page, reschedules it to a clinician,
// revokes the link and issues another, sends one by e-mail and one by text
// message, and sees a visit created elsewhere appear without a reload.
func TestBrowserSchedule(t *testing.T) {
	seeded := startSeededServer(t, nil)
	srv := scheduleCallServer(t, seeded)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)

	// The page itself keeps the CSP: no inline script or style.
	for _, p := range []string{"/schedule", "/static/schedule.js", "/static/schedule.css"} {
		resp, err := http.Get(srv.base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		s := strings.ToLower(string(body))
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", "javascript:", "console.log", ".innerhtml"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}

	b := browsertest.Start(t, browsertest.WithName("scheduler"))
	tab := b.Context()
	zone, err := time.LoadLocation("America/New_York") // the clinic's, see startCallServer
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := time.Now().In(zone).AddDate(0, 0, 1).Format("2006-01-02")
	const (
		newName = "Quinn Testpatient"
		newDOB  = "1990-05-06"
	)

	step(t, tab, "scheduler opens /schedule and lands on the sign-in page", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		// The Copy button writes to the clipboard, as a person's click may.
		// A headless tab is not focused; the clipboard wants a focused document.
		if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return err
		}
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    cdpbrowser.PermissionSettingGranted,
				Origin:     srv.base,
			}); err != nil {
				return fmt.Errorf("grant %s: %w", name, err)
			}
		}
		if err := browsertest.Navigate(ctx, srv.base+"/schedule"); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!!document.getElementById("username")`, browserStepTimeout)
	})
	step(t, tab, "scheduler signs in and sees today's visits by clinician", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("username").value = "scheduler";
			document.getElementById("password").value = "demo-scheduler";
			document.querySelector("form").submit(); return true; })()`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `location.pathname === "/schedule" && document.body.dataset.state === "ready"`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`(() => {
			const li = document.querySelector('li[data-visit-id=%q]');
			return !!li && li.dataset.status === "scheduled" && li.dataset.link === "active" &&
				li.textContent.includes(%q) && li.closest("section").querySelector("h3").textContent === "Dr. Casey Clinician" &&
				document.getElementById("clinic-label").textContent === "Demo Clinic" &&
				!!document.querySelector('section[data-group="pool"] h3') && document.title === "Schedule — Televisit";
		})()`, srv.visitID.String(), srv.name))
	})
	step(t, tab, "every control of the day view is labelled", func(ctx context.Context) error {
		return evalJS(ctx, labelledJS)
	})
	scheduleShot(t, tab, shots, "schedule-day", 1280, 900)
	scheduleShot(t, tab, shots, "schedule-day", 375, 800)

	step(t, tab, "scheduler cancels a visit after confirming", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="cancel"]').click(), true)`, srv.visitID)); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("cancel-dialog").open`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("c-confirm").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("cancel-dialog").open &&
			document.querySelector('li[data-visit-id=%q]').dataset.status === "cancelled" &&
			!document.querySelector('button[data-visit-id=%q]') && document.getElementById("status").textContent.includes("cancelled")`,
			srv.visitID, srv.visitID), browserStepTimeout)
	})

	step(t, tab, "scheduler goes to the next day", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("next-day").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`document.getElementById("day").value === %q &&
			document.body.dataset.state === "ready" && !document.querySelector("li.visit")`, tomorrow), browserStepTimeout)
	})

	fill := func(dob string) string {
		return fmt.Sprintf(`(() => {
			const set = (id, v) => { document.getElementById(id).value = v; };
			set("v-name", %q); set("v-dob", %q); set("v-email", "quinn@example.org"); set("v-phone", "+15555550199");
			set("v-clinician", ""); set("v-date", %q); set("v-time", "10:00"); set("v-duration", "30");
			document.getElementById("visit-form").requestSubmit(); return true; })()`, newName, dob, tomorrow)
	}
	step(t, tab, "a malformed date of birth shows the field error", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("new-visit").click(), document.getElementById("visit-dialog").open)`); err != nil {
			return err
		}
		if err := evalJS(ctx, fill("05/06/1990")); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("v-dob-error").textContent === "Must be a date as YYYY-MM-DD" &&
			document.getElementById("v-dob").getAttribute("aria-invalid") === "true" &&
			document.activeElement === document.getElementById("v-dob") &&
			document.getElementById("v-name-error").textContent === "" &&
			document.getElementById("visit-dialog").open`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, labelledJS)
	})
	scheduleShot(t, tab, shots, "schedule-new-visit-error", 1280, 900)
	scheduleShot(t, tab, shots, "schedule-new-visit-error", 375, 800)

	var visitID string
	step(t, tab, "scheduler creates the visit in the pool and sees it", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		if err := evalJS(ctx, fill(newDOB)); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("visit-dialog").open &&
			document.body.dataset.state === "ready" &&
			[...document.querySelectorAll('section[data-group="pool"] li.visit')].some((li) => li.textContent.includes(%q) &&
				li.querySelector(".time").textContent === "10:00" && li.dataset.status === "scheduled" && li.dataset.link === "none")`,
			newName), browserStepTimeout); err != nil {
			return err
		}
		id, err := browsertest.Eval[string](ctx, `document.querySelector('section[data-group="pool"] li.visit').dataset.visitId`)
		visitID = id
		return err
	})

	issue := func(ctx context.Context) (string, error) {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="link"]').click(),
			document.getElementById("link-dialog").open)`, visitID)); err != nil {
			return "", err
		}
		if err := evalJS(ctx, `(document.getElementById("l-copy-new").click(), true)`); err != nil {
			return "", err
		}
		if err := browsertest.WaitFor(ctx, `!document.getElementById("l-result").hidden && document.getElementById("l-url").value !== ""`, browserStepTimeout); err != nil {
			return "", err
		}
		u, err := browsertest.Eval[string](ctx, `document.getElementById("l-url").value`)
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(u, srv.base+"/join#") || len(u) < len(srv.base+"/join#")+20 {
			return "", fmt.Errorf("the page shows %q, want a %s/join# link", u, srv.base)
		}
		return u, nil
	}
	closeLink := func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.querySelector('#link-dialog [data-close]').click(), true)`); err != nil {
			return err
		}
		// The link is forgotten with the dialog: not in the page, not in storage.
		return browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("link-dialog").open &&
			document.getElementById("l-url").value === "" && !document.body.innerHTML.includes("/join#") &&
			sessionStorage.length <= 1 && localStorage.length === 0 &&
			document.querySelector('li[data-visit-id=%q]').dataset.link === "active"`, visitID), browserStepTimeout)
	}

	var first string
	step(t, tab, "scheduler issues the link and reads it from the page", func(ctx context.Context) error {
		var err error
		first, err = issue(ctx)
		if err != nil {
			return err
		}
		return evalJS(ctx, `(document.getElementById("l-copy").click(), true)`)
	})
	step(t, tab, "the copy is announced, in the dialog too, and the link is on the clipboard", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `document.getElementById("status").textContent === "Link copied." &&
			document.querySelector("#link-dialog .dialog-status").textContent === "Link copied."`, browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`navigator.clipboard.readText().then((s) => s === %q)`, first))
	})
	scheduleShot(t, tab, shots, "schedule-link", 1280, 900)
	scheduleShot(t, tab, shots, "schedule-link", 375, 800)
	step(t, tab, "closing the dialog forgets the link", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		return closeLink(ctx)
	})

	step(t, tab, "scheduler reschedules the visit to a clinician", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="reschedule"]').click(),
			document.getElementById("reschedule-dialog").open)`, visitID)); err != nil {
			return err
		}
		if err := evalJS(ctx, `(() => {
			const sel = document.getElementById("r-clinician");
			sel.value = [...sel.options].find((o) => o.text === "Dr. Jordan Clinician").value;
			document.getElementById("r-time").value = "11:15";
			document.getElementById("r-duration").value = "45";
			document.getElementById("reschedule-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`(() => {
			const li = document.querySelector('li[data-visit-id=%q]');
			return !document.getElementById("reschedule-dialog").open && !!li &&
				li.closest("section").querySelector("h3").textContent === "Dr. Jordan Clinician" &&
				li.querySelector(".time").textContent === "11:15" && li.textContent.includes("45 min") &&
				document.getElementById("status").textContent.startsWith("Visit rescheduled to 11:15");
		})()`, visitID), browserStepTimeout)
	})
	scheduleShot(t, tab, shots, "schedule-rescheduled", 1280, 900)
	scheduleShot(t, tab, shots, "schedule-rescheduled", 375, 800)

	step(t, tab, "scheduler revokes the link", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="revoke"]').click(), true)`, visitID)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`document.querySelector('li[data-visit-id=%q]').dataset.link === "revoked" &&
			!document.querySelector('button[data-visit-id=%q][data-action="revoke"]')`, visitID, visitID), browserStepTimeout)
	})
	step(t, tab, "scheduler issues a new link", func(ctx context.Context) error {
		second, err := issue(ctx)
		if err != nil {
			return err
		}
		if second == first {
			return fmt.Errorf("the new link is the revoked one")
		}
		return closeLink(ctx)
	})

	step(t, tab, "scheduler sends a link by e-mail", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="link"]').click(),
			document.getElementById("link-dialog").open && !document.getElementById("l-email").disabled)`, visitID)); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("l-email").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("link-dialog").open &&
			document.getElementById("status").textContent === "The link is on its way by e-mail." &&
			document.querySelector('li[data-visit-id=%q]').dataset.link === "active" && !document.body.innerHTML.includes("/join#")`,
			visitID), browserStepTimeout)
	})

	step(t, tab, "scheduler sends a link by text message", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="link"]').click(),
			document.getElementById("link-dialog").open && !document.getElementById("l-sms").disabled)`, visitID)); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("l-sms").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("link-dialog").open &&
			document.getElementById("status").textContent === "The link is on its way by text message." &&
			document.querySelector('li[data-visit-id=%q]').dataset.link === "active" && !document.body.innerHTML.includes("/join#")`,
			visitID), browserStepTimeout)
	})

	const otherName = "Avery Refreshtest"
	step(t, tab, "a visit created elsewhere appears by its clinician on the next refresh, focus kept", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(document.querySelector('button[data-visit-id=%q][data-action="reschedule"]').focus(),
			document.body.dataset.refreshMs = "1000", true)`, visitID)); err != nil {
			return err
		}
		at, err := time.ParseInLocation("2006-01-02 15:04", tomorrow+" 14:30", zone)
		if err != nil {
			return err
		}
		p := demoPatient{patient: visits.Patient{Name: otherName, DateOfBirth: "1977-07-07"}, clinician: "clinician"}
		if _, err := createDemoVisit(ctx, seeded.svc, seeded.clinic, seeded.staff, p, at); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`[...document.querySelectorAll("li.visit")].some((li) => li.textContent.includes(%q) &&
				li.querySelector(".time").textContent === "14:30" &&
				li.closest("section").querySelector("h3").textContent === "Dr. Casey Clinician") &&
			document.activeElement === document.querySelector('button[data-visit-id=%q][data-action="reschedule"]')`,
			otherName, visitID), 15*time.Second)
	})

	for _, m := range b.Messages() {
		for _, phi := range []string{srv.dob, srv.name, newName, newDOB, "/join#", otherName} {
			if strings.Contains(m.Text, phi) {
				t.Errorf("the browser console carries PHI or a link: %q", m.Text)
			}
		}
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
	if logs := srv.logs.String(); strings.Contains(logs, newName) || strings.Contains(logs, newDOB) || strings.Contains(logs, srv.name) {
		t.Error("the server log carries a patient's name or date of birth")
	}
}

// scheduleCallServer schedules, on the seeded server, a visit of today for
// the demo clinician with a fresh link (as startCallServer does), keeping
// the service at hand for visits made outside the page.
func scheduleCallServer(t *testing.T, s *consoleServer) *callServer {
	t.Helper()
	ctx := context.Background()
	p := demoPatients[0]
	v, err := createDemoVisit(ctx, s.svc, s.clinic, s.staff, p, time.Now().Truncate(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	link, err := s.svc.IssueLink(ctx, seedActor, v.ID, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return &callServer{base: s.base, visitID: v.ID, link: link.URL, dob: p.patient.DateOfBirth, name: p.patient.Name, logs: s.logs}
}
