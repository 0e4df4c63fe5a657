package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/internal/turntest"
	"github.com/televisit/televisit/visits"
)

// The patient's pre-call journey on /join in real Chromium against the
// real server: link errors, the date-of-birth check, an unsupported
// browser, a blocked camera, the device and network test (the media
// server's probe and TURN), the waiting room, the reconnecting banner and
// the end screen.

// patientLink issues a fresh link for visit (revoking earlier ones).
func (s *consoleServer) patientLink(t *testing.T, visit uuid.UUID) string {
	t.Helper()
	link, err := s.svc.IssueLink(context.Background(), seedActor, visit, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return link.URL
}

// openLink loads link on a 375 px wide phone and waits for state.
func openLink(t *testing.T, tab context.Context, link, state string) {
	t.Helper()
	step(t, tab, "open the link (want "+state+")", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740)); err != nil {
			return err
		}
		// From a blank page: a link to the page already open would change
		// only the fragment (the page then reloads itself).
		if err := browsertest.Navigate(ctx, "about:blank"); err != nil {
			return err
		}
		if err := browsertest.Navigate(ctx, link); err != nil {
			return err
		}
		return waitState(ctx, state)
	})
}

// submitDOB enters dob and submits the date-of-birth form.
func submitDOB(ctx context.Context, dob string) error {
	return evalJS(ctx, fmt.Sprintf(`(() => { document.getElementById("dob").value = %q;
		document.getElementById("dob-form").requestSubmit(); return true; })()`, dob))
}

// linkErrorJS: the page shows the link error screen for reason, with
// advice, and nothing of the other steps.
func linkErrorJS(reason string) string {
	return fmt.Sprintf(`document.body.dataset.state === "link_error" && document.body.dataset.reason === %q &&
		!document.getElementById("link-error").hidden && document.getElementById("link-error-action").textContent.length > 20 &&
		document.getElementById("dob-form").hidden && document.getElementById("checkin-form").hidden && %s`, reason, fitsJS)
}

// TestBrowserPatientErrors: a wrong date of birth keeps the patient on the
// check with an alert; the fifth wrong answer locks the link; expired and
// revoked links, an unsupported browser and a blocked camera each get a
// plain explanation with what to do.
func TestBrowserPatientErrors(t *testing.T) {
	srv := startSeededServer(t, nil)
	const name, dob = "Quinn Errortest", "1971-08-19"
	visit := srv.newVisit(t, name, dob, "clinician")
	link := srv.patientLink(t, visit)
	b := browsertest.Start(t, browsertest.WithName("patient"))
	tab := b.Context()

	openLink(t, tab, link, "dob")
	step(t, tab, "a wrong date of birth shows an alert and stays on the check", func(ctx context.Context) error {
		if err := submitDOB(ctx, "1971-08-18"); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "dob" && !document.getElementById("dob-form").hidden &&
			document.getElementById("dob-error").getAttribute("role") === "alert" &&
			document.getElementById("dob-error").textContent.includes("does not match") && `+fitsJS, browserStepTimeout)
	})
	for attempt := 2; attempt <= 4; attempt++ {
		step(t, tab, fmt.Sprintf("wrong answer %d", attempt), func(ctx context.Context) error {
			if err := evalJS(ctx, `(document.getElementById("dob-error").textContent = "", true)`); err != nil {
				return err
			}
			if err := submitDOB(ctx, "1971-08-18"); err != nil {
				return err
			}
			return browsertest.WaitFor(ctx, `document.body.dataset.state === "dob" &&
				document.getElementById("dob-error").textContent.includes("does not match")`, browserStepTimeout)
		})
	}
	step(t, tab, "the fifth wrong answer locks the link", func(ctx context.Context) error {
		if err := submitDOB(ctx, "1971-08-18"); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, linkErrorJS("locked"), browserStepTimeout)
	})

	openLink(t, tab, srv.completedVisitLink(t), "link_error")
	step(t, tab, "an expired link says so and what to do", func(ctx context.Context) error {
		return evalJS(ctx, linkErrorJS("expired")+` && document.getElementById("status").textContent.includes("expired")`)
	})

	revoked := srv.newVisit(t, "Rory Revoketest", "1990-04-04", "clinician")
	old := srv.patientLink(t, revoked)
	if err := srv.svc.RevokeLink(context.Background(), seedActor, revoked); err != nil {
		t.Fatal(err)
	}
	openLink(t, tab, old, "link_error")
	step(t, tab, "a revoked link says so and what to do", func(ctx context.Context) error {
		return evalJS(ctx, linkErrorJS("revoked"))
	})
	browsertest.RequireNoSeriousA11y(t, tab, "revoked link")
	openLink(t, tab, srv.base+"/join#not-a-real-token", "link_error")
	step(t, tab, "a mistyped link", func(ctx context.Context) error { return evalJS(ctx, linkErrorJS("invalid")) })

	// A browser without WebRTC (simulated before any script runs).
	old2 := b.NewTab(t)
	step(t, old2, "a browser without WebRTC gets advice", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.RTCPeerConnection;`})
			return chromedp.Void{}, err
		}); err != nil {
			return err
		}
		if err := browsertest.Navigate(ctx, srv.patientLink(t, visitFor(t, srv))); err != nil {
			return err
		}
		if err := waitState(ctx, "unsupported"); err != nil {
			return err
		}
		return evalJS(ctx, `!document.getElementById("unsupported").hidden && document.getElementById("unsupported").textContent.includes("Safari") &&
			!location.href.includes("#")`)
	})

	// The camera is blocked for the site: the check-in step explains how
	// to allow it and offers to try again.
	blockedVisit := visitFor(t, srv)
	// Without the fake permission prompt, which allows everything.
	nb := browsertest.Start(t, browsertest.WithName("no-camera"), browsertest.WithFlag("use-fake-ui-for-media-stream", false))
	blocked := nb.Context()
	step(t, blocked, "deny the camera and microphone to the site", func(ctx context.Context) error {
		if err := chromedp.Do(ctx); err != nil { // the tab exists
			return err
		}
		br := chromedp.FromContext(ctx).Browser
		for _, name := range []string{"camera", "microphone"} {
			_, err := cdp.Call(ctx, br, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingDenied, Origin: srv.base})
			if err != nil {
				return err
			}
		}
		return nil
	})
	openLink(t, blocked, srv.patientLink(t, blockedVisit), "dob")
	step(t, blocked, "a blocked camera shows how to allow it", func(ctx context.Context) error {
		if err := submitDOB(ctx, patientDOB); err != nil {
			return err
		}
		if err := waitState(ctx, "checkin"); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("device-test").click(), true)`); err != nil {
			return err
		}
		err := browsertest.WaitFor(ctx, `document.getElementById("device-test-section").dataset.done === "1"`, browserStepTimeout)
		if err != nil {
			return err
		}
		d, _ := browsertest.Eval[string](ctx, `JSON.stringify({...document.getElementById("device-test-section").dataset, state: document.body.dataset.state, blocked: !document.getElementById("media-blocked").hidden, verdict: document.getElementById("device-result").textContent})`)
		t.Logf("blocked camera: %s", d)
		return browsertest.WaitFor(ctx, `document.getElementById("device-test-section").dataset.done === "1" &&
			document.body.dataset.state === "checkin" && !document.getElementById("media-blocked").hidden &&
			document.getElementById("media-blocked").textContent.includes("Settings > Safari > Camera") &&
			!document.getElementById("media-retry").hidden && document.getElementById("device-test-section").dataset.camera === "fail" &&
			document.getElementById("device-result").textContent.startsWith("Needs attention") && `+fitsJS, browserStepTimeout)
	})
	shot(t, blocked, "patient-camera-blocked")
	browsertest.RequireNoSeriousA11y(t, blocked, "check-in with the camera blocked")
	checkNoPHI(t, b, name, dob, link[strings.Index(link, "#")+1:])
	checkNoPHI(t, nb, patientDOB)
}

// patientDOB is the date of birth of visitFor's patients.
const patientDOB = "1985-05-05"

// visitFor schedules another visit of the demo clinician.
func visitFor(t *testing.T, srv *consoleServer) uuid.UUID {
	t.Helper()
	return srv.newVisit(t, "Sam Patienttest", patientDOB, "clinician")
}

// completedVisitLink is the link of a visit that was held and completed:
// neither revoked nor replaced, it has expired.
func (s *consoleServer) completedVisitLink(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	id := s.newVisit(t, "Emery Endedtest", "1968-02-29", "clinician")
	s.checkIn(t, id, "1968-02-29", "no")
	link := s.patientLink(t, id)
	doc := s.demoClinician()
	if _, err := s.svc.Admit(ctx, doc, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Complete(ctx, doc, id); err != nil {
		t.Fatal(err)
	}
	return link
}

// demoClinician acts as the demo clinician through the service.
func (s *consoleServer) demoClinician() visits.Actor {
	id := s.staff["clinician"]
	return visits.Actor{Kind: visits.ActorStaff, ID: id.String(), StaffID: id,
		Roles: []visits.Role{visits.RoleClinician}, ClinicIDs: []uuid.UUID{s.clinic}}
}

// shot writes a screenshot of tab into the screenshot directory.
func shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	if err := browsertest.Screenshot(tab, filepath.Join(screenshotDir(t), name+".png")); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// TestBrowserPatientDeviceTest: in Chromium with a fake camera and
// microphone the device test passes the camera and microphone, moves the
// level meter, connects to the media server's probe (round trip measured)
// and reaches the test's coturn through relay-only gathering; the patient
// hears the test sound, checks in with those results, waits in the
// waiting room (place, wait, "knows you are here"), sees the reconnecting
// banner come and go, and gets the end screen when the clinician marks the visit a no-show.
func TestBrowserPatientDeviceTest(t *testing.T) {
	turn := turntest.Start(t)
	srv := startSeededServer(t, turn)
	visit := visitFor(t, srv)
	link := srv.patientLink(t, visit)
	b := browsertest.Start(t, browsertest.WithName("patient"))
	tab := b.Context()

	openLink(t, tab, link, "dob")
	step(t, tab, "the date of birth", func(ctx context.Context) error {
		if err := submitDOB(ctx, patientDOB); err != nil {
			return err
		}
		return waitState(ctx, "checkin")
	})
	start := time.Now()
	step(t, tab, "the device test", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("device-test").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("device-test-section").dataset.done === "1"`, browserStepTimeout)
	})
	t.Logf("device test took %v", time.Since(start))
	type outcome struct {
		Camera, Microphone, Network, Rtt, Turn, Verdict string
		Peak                                            float64
		Live                                            bool
	}
	res, err := browsertest.Eval[outcome](tab, `(() => { const d = document.getElementById("device-test-section").dataset;
		const v = document.getElementById("preview").srcObject;
		return {camera: d.camera, microphone: d.microphone, network: d.network, rtt: d.rtt, turn: d.turn,
			verdict: document.getElementById("device-result").textContent,
			peak: Number(document.getElementById("mic-level").dataset.peak || 0),
			live: !!v && v.getVideoTracks().some((t) => t.readyState === "live")}; })()`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device test: %+v", res)
	if res.Camera != "pass" || res.Microphone != "pass" || !res.Live {
		t.Errorf("camera %q, microphone %q, preview live %v; want both pass with a live preview", res.Camera, res.Microphone, res.Live)
	}
	if res.Network != "good" || res.Rtt == "" {
		t.Errorf("network %q, round trip %q ms; want good with a measured round trip", res.Network, res.Rtt)
	}
	if res.Turn != "reachable" {
		t.Errorf("TURN %q, want reachable", res.Turn)
	}
	if res.Verdict != "Your camera, microphone and connection are ready." {
		t.Errorf("verdict %q", res.Verdict)
	}
	step(t, tab, "the microphone meter moves", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `Number(document.getElementById("mic-level").dataset.peak || 0) > 0`, 10*time.Second)
	})
	step(t, tab, "another camera choice re-acquires the camera", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.before = document.getElementById("preview").srcObject,
			document.getElementById("dt-camera").dispatchEvent(new Event("change")), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("preview").srcObject !== window.before &&
			document.getElementById("preview").srcObject.getVideoTracks()[0].readyState === "live" &&
			window.before.getTracks().every((t) => t.readyState === "ended")`, browserStepTimeout)
	})
	step(t, tab, "the speaker test", func(ctx context.Context) error {
		if err := evalJS(ctx, `(document.getElementById("speaker-test").click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!document.getElementById("speaker-question").hidden`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("speaker-yes").click(), true)`); err != nil {
			return err
		}
		return evalJS(ctx, `document.getElementById("device-test-section").dataset.speaker === "pass" && `+fitsJS)
	})
	shot(t, tab, "patient-device-test")
	browsertest.RequireNoSeriousA11y(t, tab, "check-in after the device test")

	step(t, tab, "check in", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("location-state").value = "CA";
			document.querySelector('input[name="consent"][value="yes"]').checked = true;
			document.getElementById("checkin-form").requestSubmit(); return true; })()`); err != nil {
			return err
		}
		if err := waitState(ctx, "waiting"); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("waiting-section").hidden &&
			document.getElementById("waiting-section").textContent.includes("Your clinician knows you are here") &&
			document.getElementById("queue-position").textContent === "You are number 1 in line." &&
			document.getElementById("queue-wait").textContent !== "" &&
			document.getElementById("queue-info").getAttribute("aria-live") === "polite" && `+fitsJS, browserStepTimeout)
	})
	srv.waitVisit(t, visit, "the device test reached the clinician's queue", func(v visits.Visit) bool {
		d := v.DeviceTest
		return d != nil && *d == visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"}
	})
	const note = "Running 5 minutes late <b>sorry</b>"
	if _, err := srv.svc.SendPatientMessage(context.Background(), srv.demoClinician(), visit, note); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "a message from the clinic shows as plain text", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, fmt.Sprintf(`!document.getElementById("messages-section").hidden &&
			document.getElementById("clinic-messages").getAttribute("role") === "log" &&
			[...document.querySelectorAll("#clinic-messages .clinic-message span")].some((s) => s.textContent === %q) &&
			!document.querySelector("#clinic-messages b")`, note), browserStepTimeout)
	})
	shot(t, tab, "patient-waiting")
	browsertest.RequireNoSeriousA11y(t, tab, "waiting room with a clinic message")

	step(t, tab, "the socket drops: the banner shows", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.patientSocket.reconnect(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "reconnecting" && !document.getElementById("reconnecting").hidden &&
			!document.getElementById("waiting-section").hidden`, browserStepTimeout)
	})
	step(t, tab, "the socket is back: the banner goes", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "waiting" && document.getElementById("reconnecting").hidden &&
			!document.getElementById("waiting-section").hidden`, browserStepTimeout)
	})

	if _, err := srv.svc.MarkNoShow(context.Background(), srv.demoClinician(), visit); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the visit is over: the end screen", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, `document.body.dataset.state === "over" && !document.getElementById("end-screen").hidden &&
			document.getElementById("end-screen").textContent.includes("You can close this page") &&
			document.getElementById("waiting-section").hidden &&
			document.getElementById("preview").srcObject.getTracks().every((t) => t.readyState === "ended")`, browserStepTimeout)
	})
	checkNoPHI(t, b, patientDOB, "Sam Patienttest", link[strings.Index(link, "#")+1:])
}
