package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/internal/devoidc/devoidctest"
	"github.com/televisit/televisit/visits"
)

// consoleServer is a running televisit (no media needed) with the visits
// service of its database, for seeding and checking from the test.
type consoleServer struct {
	base   string
	svc    *visits.Service
	pool   *pgxpool.Pool       // the server's database, for checks the service does not offer
	idp    *devoidctest.Server // the dev OpenID provider it signs staff in with
	clinic uuid.UUID
	staff  map[string]uuid.UUID
	logs   *syncBuffer
}

func startConsoleServer(t *testing.T) *consoleServer { return startSeededServer(t, nil) }

// newVisit schedules a visit of the demo clinic (clinician "" = the pool).
func (s *consoleServer) newVisit(t *testing.T, name, dob, clinician string) uuid.UUID {
	t.Helper()
	p := demoPatient{patient: visits.Patient{Name: name, DateOfBirth: dob, Email: "console@example.org"}, clinician: clinician}
	v, err := createDemoVisit(context.Background(), s.svc, s.clinic, s.staff, p, time.Now().Truncate(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// goodDevices is a device test that passed.
var goodDevices = visits.DeviceTest{Camera: "pass", Microphone: "pass", Speaker: "pass", Network: "good"}

// checkIn takes the patient's own path: a fresh link, the date-of-birth
// check (identity checked) and the check-in from New York with working
// devices, through the service.
func (s *consoleServer) checkIn(t *testing.T, visit uuid.UUID, dob, consent string) {
	t.Helper()
	s.checkInAs(t, visit, dob, visits.CheckIn{LocationState: "NY", RecordingConsent: consent, DeviceTest: goodDevices})
}

// checkInAs checks in with ci and returns the patient's session token.
func (s *consoleServer) checkInAs(t *testing.T, visit uuid.UUID, dob string, ci visits.CheckIn) string {
	t.Helper()
	ctx := context.Background()
	link, err := s.svc.IssueLink(ctx, seedActor, visit, visits.IssueLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(link.URL, "#")
	anon := visits.Actor{Kind: visits.ActorAnonymous, ID: "console-test", ClientAddr: "127.0.0.1"}
	ps, err := s.svc.VerifyPatient(ctx, anon, token, dob)
	if err != nil {
		t.Fatalf("date-of-birth check: %v", err)
	}
	a, err := s.svc.AuthenticatePatient(ctx, ps.Token, "127.0.0.1", "console-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.CheckIn(ctx, a, ci); err != nil {
		t.Fatalf("check-in: %v", err)
	}
	return ps.Token
}

// waitVisit polls the service until ok(visit) or 10 s pass.
func (s *consoleServer) waitVisit(t *testing.T, id uuid.UUID, what string, ok func(visits.Visit) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := s.svc.GetVisit(context.Background(), seedActor, id)
		if err == nil && ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: visit status %q clinician %v (%v)", what, v.Status, v.ClinicianID, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshotDir is where the browser tests write screenshots:
// $TELEVISIT_SCREENSHOTS when set (a relative path is taken from the
// repository root, so docs/screenshots works), else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TELEVISIT_SCREENSHOTS"); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join("..", "..", d) // go test runs in cmd/televisit
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func rowJS(visit uuid.UUID, rest string) string {
	return fmt.Sprintf(`document.querySelector('#queue li[data-visit=%q]%s')`, visit.String(), rest)
}

// TestBrowserConsole: the clinician signs in on the provider's login page
// and watches the live waiting room on /console; patients who check in
// appear without a reload; the clinician takes a pool visit, marks a
// no-show (confirming in a dialog) and admits a patient, which opens the
// call page.
func TestBrowserConsole(t *testing.T) {
	srv := startConsoleServer(t)
	shots := screenshotDir(t)
	type pt struct{ name, dob string }
	robin := pt{"Robin Consoletest", "1984-03-12"}
	morgan := pt{"Morgan Pooltest", "2001-07-04"}
	casey := pt{"Casey Noshowtest", "1990-01-02"}
	mine := srv.newVisit(t, robin.name, robin.dob, "clinician")
	pooled := srv.newVisit(t, morgan.name, morgan.dob, "")
	absent := srv.newVisit(t, casey.name, casey.dob, "clinician")
	me := srv.staff["clinician"]

	b := browsertest.Start(t, browsertest.WithName("console"))
	tab := b.Context()

	step(t, tab, "the console sends the clinician to sign in", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		if err := browsertest.Navigate(ctx, srv.base+"/console"); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!!document.getElementById("username")`, browserStepTimeout)
	})
	step(t, tab, "the clinician signs in and sees the empty waiting room", func(ctx context.Context) error {
		if err := evalJS(ctx, `(() => { document.getElementById("username").value = "clinician";
			document.getElementById("password").value = "demo-clinician";
			document.querySelector("form").submit(); return true; })()`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `location.pathname === "/console" && document.body.dataset.state === "live" &&
			document.querySelectorAll("#queue li").length === 0 && !document.getElementById("empty").hidden`, browserStepTimeout)
	})

	start := time.Now()
	robinToken := srv.checkInAs(t, mine, robin.dob, visits.CheckIn{LocationState: "NY", RecordingConsent: "yes", DeviceTest: goodDevices})
	step(t, tab, "a patient who checks in appears within 2 s, announced", func(ctx context.Context) error {
		err := browsertest.WaitFor(ctx, rowJS(mine, "")+` !== null && document.getElementById("status").textContent.trim() ===
			"Robin Consoletest joined the waiting room. 1 waiting."`, 2*time.Second-time.Since(start))
		t.Logf("the patient appeared after %s", time.Since(start).Round(time.Millisecond))
		return err
	})
	srv.checkIn(t, pooled, morgan.dob, "undecided")
	srv.checkInAs(t, absent, casey.dob, visits.CheckIn{LocationState: "CA", RecordingConsent: "no",
		DeviceTest: visits.DeviceTest{Camera: "fail", Microphone: "pass", Speaker: "skipped", Network: "good"}})
	step(t, tab, "three patients, with their details", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `document.querySelectorAll("#queue li").length === 3`, 5*time.Second); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`(() => {
			const row = (id) => document.querySelector('#queue li[data-visit="' + id + '"]');
			const mine = row(%q).textContent, pool = row(%q).textContent, absent = row(%q);
			const status = (id) => row(id).querySelector(".badge-status").textContent;
			const place = (id) => row(id).querySelector(".location").textContent;
			return mine.includes(%q) && mine.includes("Assigned to me") && mine.includes("Recording: yes") &&
				mine.includes("Devices OK") && mine.includes("Identity checked") &&
				status(%q) === "Waiting" && place(%q) === "Location: New York" &&
				status(%q) === "Waiting" && place(%q) === "Location: California" &&
				absent.querySelector(".badge-bad").textContent === "Camera problem, speaker not tested" &&
				!document.querySelector("#queue").textContent.includes("State") &&
				pool.includes("Pool") && !!row(%q).querySelector('button[data-action="take"]') &&
				!row(%q).querySelector('button[data-action="take"]') &&
				document.title === "Waiting room — Televisit" &&
				[...document.querySelectorAll("#queue button")].every((b) => b.textContent.trim() !== "" && b.tabIndex === 0);
		})()`, mine, pooled, absent, robin.name, mine, mine, absent, absent, pooled, mine))
	})

	for _, w := range []struct {
		name          string
		width, height int64
	}{{"console-desktop.png", 1280, 900}, {"console-phone.png", 375, 812}} {
		step(t, tab, "screenshot "+w.name, func(ctx context.Context) error {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.width, w.height)); err != nil {
				return err
			}
			if err := evalJS(ctx, fitsJS); err != nil {
				return err
			}
			browsertest.RequireNoSeriousA11y(t, ctx, "console "+w.name)
			return browsertest.Screenshot(ctx, filepath.Join(shots, w.name))
		})
	}
	t.Logf("screenshots in %s", shots)

	step(t, tab, "the row's actions follow each other on the keyboard, and wait times tick", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(mine, ` button[data-action="admit"]`)+`.focus(), true)`); err != nil {
			return err
		}
		var order []string
		for range 5 {
			a, err := browsertest.Eval[string](ctx, `document.activeElement.dataset.action || document.activeElement.id`)
			if err != nil {
				return err
			}
			order = append(order, a)
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
				return err
			}
		}
		if got := strings.Join(order, " "); got != "admit message handoff guest noshow" {
			return fmt.Errorf("tab order %q", got)
		}
		return browsertest.WaitFor(ctx, rowJS(mine, ` .wait`)+`.textContent !== "0 s"`, 5*time.Second)
	})

	patientWS := dialPatient(t, srv.base, robinToken)
	const note = "Running 10 minutes late, sorry!"
	step(t, tab, "the clinician messages a waiting patient, who gets it at once", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(mine, ` button[data-action="message"]`)+`.click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("message-dialog").open &&
			document.activeElement === document.getElementById("message-text") &&
			document.getElementById("message-to").textContent.includes("Robin Consoletest")`, 5*time.Second); err != nil {
			return err
		}
		browsertest.RequireNoSeriousA11y(t, ctx, "console message dialog")
		if err := browsertest.Screenshot(ctx, filepath.Join(shots, "console-message.png")); err != nil {
			return err
		}
		if err := evalJS(ctx, fmt.Sprintf(`(document.getElementById("message-text").value = %q,
			document.getElementById("message-send").click(), true)`, note)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("message-dialog").open &&
			document.getElementById("status").textContent.trim() === "Message sent." &&
			document.getElementById("message-text").value === "" &&
			document.activeElement === `+rowJS(mine, ` button[data-action="message"]`), 5*time.Second)
	})
	if got := patientWS.next(t, 5*time.Second); got.Text != note || got.ID == uuid.Nil || got.At.IsZero() {
		t.Fatalf("the patient got %+v", got)
	}

	step(t, tab, "the clinician takes the pool visit", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(pooled, ` button[data-action="take"]`)+`.click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, rowJS(pooled, ` button[data-action="take"]`)+` === null && `+
			rowJS(pooled, "")+`.textContent.includes("Assigned to me")`, 5*time.Second)
	})
	srv.waitVisit(t, pooled, "take", func(v visits.Visit) bool { return v.ClinicianID != nil && *v.ClinicianID == me })

	step(t, tab, "the clinician marks a no-show, confirming in a dialog", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(absent, ` button[data-action="noshow"]`)+`.click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("confirm-dialog").open &&
			document.activeElement === document.getElementById("confirm-cancel")`, 5*time.Second); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("confirm-ok").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, rowJS(absent, "")+` === null && document.querySelectorAll("#queue li").length === 2 &&
			document.getElementById("status").textContent.trim() === "Casey Noshowtest left the waiting room. 2 waiting."`, 5*time.Second)
	})
	srv.waitVisit(t, absent, "no-show", func(v visits.Visit) bool { return v.Status == visits.StatusNoShow })

	step(t, tab, "the clinician invites a guest and sees the link once", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(pooled, ` button[data-action="guest"]`)+`.click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("guest-dialog").open &&
			document.activeElement === document.getElementById("guest-name")`, 5*time.Second); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("guest-name").value = "Interpreter Test",
			document.getElementById("guest-ok").click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("guest-url").value.startsWith(location.origin + "/guest#") &&
			!document.getElementById("guest-copy").hidden`, 5*time.Second); err != nil {
			return err
		}
		if err := browsertest.Screenshot(ctx, filepath.Join(shots, "console-guest-phone.png")); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("guest-close").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("guest-dialog").open && document.getElementById("guest-url").value === "" &&
			document.activeElement === `+rowJS(pooled, ` button[data-action="guest"]`), 5*time.Second)
	})

	step(t, tab, "the socket drops: a banner shows until it is back", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.consoleSocket.reconnect(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!document.getElementById("banner").hidden`, 5*time.Second); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("banner").hidden && document.body.dataset.state === "live" &&
			document.querySelectorAll("#queue li").length === 2`, 10*time.Second)
	})

	step(t, tab, "the clinician hands a visit off to a colleague", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(pooled, ` button[data-action="handoff"]`)+`.click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("handoff-dialog").open &&
			document.getElementById("handoff-select").selectedOptions[0].textContent === "Dr. Jordan Clinician"`, 5*time.Second); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("handoff-ok").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, rowJS(pooled, "")+`.textContent.includes("Assigned to Dr. Jordan Clinician") && `+
			rowJS(pooled, ` button[data-action="admit"]`)+` === null && `+rowJS(pooled, ` button[data-action="message"]`)+` !== null`, 5*time.Second)
	})
	srv.waitVisit(t, pooled, "hand-off", func(v visits.Visit) bool {
		return v.ClinicianID != nil && *v.ClinicianID == srv.staff["clinician2"]
	})

	step(t, tab, "a message to a patient who left meanwhile is refused, and focus survives", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(pooled, ` button[data-action="message"]`)+`.click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("message-dialog").open`, 5*time.Second); err != nil {
			return err
		}
		colleague := visits.Actor{Kind: visits.ActorStaff, ID: srv.staff["clinician2"].String(), StaffID: srv.staff["clinician2"],
			Roles: []visits.Role{visits.RoleClinician}, ClinicIDs: []uuid.UUID{srv.clinic}, ClientAddr: "127.0.0.1"}
		if _, err := srv.svc.MarkNoShow(ctx, colleague, pooled); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("message-text").value = "Almost ready",
			document.getElementById("message-send").click(), true)`); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("message-dialog").open &&
			document.getElementById("message-error").textContent.startsWith("The patient is no longer in the waiting room") &&
			!document.getElementById("message-send").disabled`, 5*time.Second); err != nil {
			return err
		}
		if err := evalJS(ctx, `(document.getElementById("message-cancel").click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `!document.getElementById("message-dialog").open && `+rowJS(pooled, "")+` === null &&
			document.activeElement === document.getElementById("queue-heading")`, 5*time.Second)
	})

	step(t, tab, "the clinician admits a patient and the call page opens", func(ctx context.Context) error {
		if err := evalJS(ctx, `(`+rowJS(mine, ` button[data-action="admit"]`)+`.click(), true)`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fmt.Sprintf(`location.pathname === "/call" && location.search === "?visit=%s"`, mine), 5*time.Second)
	})
	srv.waitVisit(t, mine, "admit", func(v visits.Visit) bool { return v.Status == visits.StatusInProgress })

	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
	for _, m := range b.Messages() {
		for _, phi := range []string{robin.name, robin.dob, morgan.name, casey.name} {
			if strings.Contains(m.Text, phi) {
				t.Errorf("the browser console carries PHI: %q", m.Text)
			}
		}
	}
	if logs := srv.logs.String(); strings.Contains(logs, robin.name) || strings.Contains(logs, morgan.name) {
		t.Error("the server log carries a patient's name")
	}
}

// clinicMessage is a clinic_message as the patient's socket gets it.
type clinicMessage struct {
	Type string    `json:"type"`
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// patientSocket is the patient's side of /ws as a Go client (the patient
// page renders the same messages): it says hello and collects the
// clinic_message messages.
type patientSocket struct {
	msgs chan clinicMessage
}

func dialPatient(t *testing.T, base, token string) *patientSocket {
	t.Helper()
	h := http.Header{"Origin": {base}, "Cookie": {"tv_patient=" + token}}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	if err != nil {
		t.Fatalf("patient socket: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.WriteJSON(map[string]any{"v": 1, "type": "hello", "id": "h1"}); err != nil {
		t.Fatal(err)
	}
	ps := &patientSocket{msgs: make(chan clinicMessage, 64)}
	go func() {
		for {
			var m clinicMessage
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "clinic_message" {
				ps.msgs <- m
			}
		}
	}()
	return ps
}

func (ps *patientSocket) next(t *testing.T, d time.Duration) clinicMessage {
	t.Helper()
	select {
	case m := <-ps.msgs:
		return m
	case <-time.After(d):
		t.Fatalf("no clinic_message within %v", d)
	}
	return clinicMessage{}
}
