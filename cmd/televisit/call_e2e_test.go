package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/browsertest"
)

// The in-call tests start from runBrowserVisit: patient (/join, 375 px)
// and clinician (/call) in a call, decoding each other's video. The staff
// page mounts web/static/controls.js itself; on the patient page the test
// mounts the same controls when join.js does not (yet).

// ensureControls mounts the in-call controls on a page that has none.
const ensureControlsJS = `(async () => {
  if (!document.getElementById("chat-log")) {
    const m = await import("/static/controls.js");
    const box = document.createElement("div");
    document.getElementById("call-section").append(box);
    m.mountControls(window.call, box, {role: "patient", onLeave: () => {}, preview: document.getElementById("local")});
  }
  return !!document.getElementById("chat-log");
})()`

// chatJS sends text from the page's chat form.
func chatJS(text string) string {
	return fmt.Sprintf(`(() => { document.getElementById("chat-input").value = %q;
		document.getElementById("chat-form").requestSubmit(); return document.getElementById("chat-input").value === ""; })()`, text)
}

// chatHasJS: the last message in #chat-log is from sender with text.
func chatHasJS(sender, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#chat-log .chat-message")].some((li) =>
		li.querySelector(".chat-sender").textContent === %q && li.querySelector(".chat-text").textContent === %q &&
		li.querySelector("time").textContent !== "")`, sender, text)
}

func clickJS(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel)
}

// clinicianTileJS finds the clinician's tile on the patient page.
const clinicianTileJS = `document.querySelector('#participants li[data-participant^="clinician:"]')`

// moreFrames waits until b's call has decoded browserMinFrames more video
// frames than now.
func moreFrames(t *testing.T, b *browsertest.Browser, what string) {
	t.Helper()
	v, err := browsertest.ReadInboundVideo(b.Context(), "window.call.pc")
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	after, err := browsertest.WaitFramesDecoded(b.Context(), "window.call.pc", v.FramesDecoded+browserMinFrames, browserMediaWindow)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: %d frames decoded (%d before)", what, after.FramesDecoded, v.FramesDecoded)
}

// TestBrowserCallControls: chat both ways, mute and camera off seen on the
// other side, a camera switch and a screen share by replaceTrack (no
// renegotiation) that keep video decoding, the recording indicator, and the
// staff page's keyboard order and 375 px layout.
func TestBrowserCallControls(t *testing.T) {
	patient, clinician := runBrowserVisit(t, nil)
	ptab, ctab := patient.Context(), clinician.Context()
	step(t, ptab, "the patient page has the in-call controls", func(ctx context.Context) error {
		return evalJS(ctx, ensureControlsJS)
	})

	step(t, ctab, "the clinician sends a chat message", func(ctx context.Context) error {
		return evalJS(ctx, chatJS("Hello, can you hear me? <b>x</b>"))
	})
	step(t, ptab, "the patient sees it from the clinician, as text", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, chatHasJS("Clinician", "Hello, can you hear me? <b>x</b>")+
			` && !document.querySelector("#chat-log b")`, browserStepTimeout)
	})
	step(t, ctab, "the clinician sees their own message as You", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, chatHasJS("You", "Hello, can you hear me? <b>x</b>"), browserStepTimeout)
	})
	step(t, ptab, "the patient answers", func(ctx context.Context) error {
		return evalJS(ctx, chatJS("Yes, loud and clear."))
	})
	step(t, ctab, "the clinician sees the patient's answer", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, chatHasJS("Patient", "Yes, loud and clear."), browserStepTimeout)
	})

	step(t, ctab, "the clinician mutes the microphone", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#mute-mic")+` && (() => { const b = document.getElementById("mute-mic");
			return b.getAttribute("aria-pressed") === "true" && b.textContent === "Unmute" &&
				window.call.stream.getAudioTracks().every((t) => !t.enabled); })()`)
	})
	step(t, ptab, "the patient sees the clinician muted", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, clinicianTileJS+`.dataset.audioMuted === "true" && `+
			clinicianTileJS+`.textContent.includes("Microphone off")`, browserStepTimeout)
	})
	step(t, ctab, "the clinician unmutes", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#mute-mic")+` && document.getElementById("mute-mic").textContent === "Mute"`)
	})
	step(t, ptab, "the patient sees the clinician unmuted", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, clinicianTileJS+`.dataset.audioMuted === "false"`, browserStepTimeout)
	})

	step(t, ctab, "the clinician turns the camera off", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#camera-off")+` && document.getElementById("camera-off").getAttribute("aria-pressed") === "true" &&
			window.call.stream.getVideoTracks().every((t) => !t.enabled)`)
	})
	step(t, ptab, "the patient sees the clinician's camera off", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, clinicianTileJS+`.dataset.videoMuted === "true"`, browserStepTimeout)
	})
	step(t, ctab, "the clinician turns the camera on again", func(ctx context.Context) error {
		return evalJS(ctx, clickJS("#camera-off")+` && window.call.stream.getVideoTracks().every((t) => t.enabled)`)
	})
	step(t, ptab, "the patient sees the clinician's camera on", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, clinicianTileJS+`.dataset.videoMuted === "false"`, browserStepTimeout)
	})
	moreFrames(t, patient, "patient, after the camera came back")

	// The fake device is one camera: choosing it again re-acquires it, and
	// the new track replaces the old one on the sender (no renegotiation).
	step(t, ctab, "the clinician switches the camera", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.sentBefore = window.call.senders.video.track,
			window.sdpBefore = window.call.pc.localDescription.sdp,
			document.getElementById("camera-select").options.length >= 1)`); err != nil {
			return err
		}
		if err := evalJS(ctx, `(() => { const s = document.getElementById("camera-select");
			s.value = s.options[0].value; s.dispatchEvent(new Event("change")); return true; })()`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `window.call.senders.video.track !== window.sentBefore &&
			window.sentBefore.readyState === "ended" && window.call.senders.video.track.readyState === "live" &&
			window.call.stream.getVideoTracks()[0] === window.call.senders.video.track &&
			document.getElementById("local").srcObject === window.call.stream &&
			window.call.pc.localDescription.sdp === window.sdpBefore`, browserStepTimeout)
	})
	moreFrames(t, patient, "patient, after the clinician's camera switch")

	// Screen share needs a real click (user activation); Chromium's fake UI
	// picks the screen.
	step(t, ctab, "the clinician shares the screen", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.cameraTrack = window.call.senders.video.track, true)`); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.Click("#share-screen")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `(() => { const b = document.getElementById("share-screen"), t = window.call.senders.video.track;
			return b.getAttribute("aria-pressed") === "true" && b.textContent === "Stop sharing" && t !== window.cameraTrack &&
				t.readyState === "live" && window.cameraTrack.readyState === "live" && window.call.stream.getVideoTracks()[0] === t &&
				window.call.pc.localDescription.sdp === window.sdpBefore; })()`, browserStepTimeout)
	})
	moreFrames(t, patient, "patient, while the clinician shares the screen")
	step(t, ctab, "the clinician stops sharing: the camera is sent again", func(ctx context.Context) error {
		if err := evalJS(ctx, `(window.screenTrack = window.call.senders.video.track, true)`); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.Click("#share-screen")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("share-screen").getAttribute("aria-pressed") === "false" &&
			window.call.senders.video.track === window.cameraTrack && window.screenTrack.readyState === "ended"`, browserStepTimeout)
	})
	moreFrames(t, patient, "patient, after the screen share")

	step(t, ptab, "a recording_state message shows the recording indicator", func(ctx context.Context) error {
		return evalJS(ctx, `(window.call.handle({v: 1, type: "recording_state", active: true}), (() => {
			const el = document.getElementById("recording-indicator");
			return !el.hidden && el.offsetParent !== null && el.textContent.trim() === "Recording" && el.getAttribute("role") === "status";
		})())`)
	})
	step(t, ptab, "and active false hides it", func(ctx context.Context) error {
		return evalJS(ctx, `(window.call.handle({v: 1, type: "recording_state", active: false}),
			document.getElementById("recording-indicator").hidden)`)
	})
	step(t, ptab, "the patient page with controls fits 375 px", func(ctx context.Context) error {
		return evalJS(ctx, fitsJS)
	})
	checkStaffKeyboard(t, ctab)
	step(t, ctab, "the staff page fits 375 px", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, fitsJS, 5*time.Second)
	})
}

// checkStaffKeyboard: every control of the staff page is reached by Tab,
// in a sensible order: the call controls, chat, then the side panels.
func checkStaffKeyboard(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	w, err := browsertest.TabOrder(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range w.Order {
		ids = append(ids, f.ID)
		if f.Name == "" {
			t.Errorf("%s has no accessible name", f)
		}
	}
	if len(w.Unreached) > 0 {
		t.Errorf("controls Tab never reached: %v", w.Unreached)
	}
	want := []string{"mute-mic", "camera-off", "leave-call", "chat-input", "guest-name", "copy-guest-link", "end-visit"}
	last := -1
	for _, id := range want {
		if id == "copy-guest-link" {
			continue // shown once a guest is invited
		}
		i := slices.Index(ids, id)
		if i <= last {
			t.Errorf("tab order %v: %s missing or out of order (want %v)", ids, id, want)
		}
		last = i
	}
}

// cutSocket drops the page's socket and makes every new one fail to
// connect (as on a dead network) until restore: test code swaps the page's
// WebSocket constructor for one whose upgrade fails, then lets
// call.js drop the open socket (socket.reconnect, as after a network
// change).
func cutSocket(t *testing.T, tab context.Context) (restore func()) {
	t.Helper()
	step(t, tab, "cut the socket", func(ctx context.Context) error {
		return evalJS(ctx, `(window.RealWebSocket = window.WebSocket, window.failedSockets = 0,
			window.WebSocket = class extends window.RealWebSocket {
				constructor(url, protocols) {
					super(url + "-unreachable", protocols); // no such route: the upgrade fails
					this.addEventListener("close", () => window.failedSockets++);
				}
			}, window.call.socket.reconnect(), true)`)
	})
	return func() {
		step(t, tab, "the network is back", func(ctx context.Context) error {
			if err := evalJS(ctx, `window.failedSockets > 0 && (window.WebSocket = window.RealWebSocket, true)`); err != nil {
				d, _ := browsertest.Eval[any](ctx, `[window.failedSockets, window.states]`)
				return fmt.Errorf("%w: %v", err, d)
			}
			return nil
		})
	}
}

// recordStatesJS records every data-state the page takes from now on.
const recordStatesJS = `(window.states = [], new MutationObserver(() => window.states.push(document.body.dataset.state))
	.observe(document.body, {attributes: true, attributeFilter: ["data-state"]}), true)`

// TestBrowserReconnect: the patient's socket is cut (blocked for a few
// seconds); the page says it reconnects, never goes back to the waiting
// room, rejoins by itself (resumed, ICE restart) and video decodes both
// ways again. Then the same for the clinician, whose page shows the
// #reconnecting banner until the call is back.
func TestBrowserReconnect(t *testing.T) {
	patient, clinician := runBrowserVisit(t, nil)
	ptab, ctab := patient.Context(), clinician.Context()

	for _, side := range []struct {
		name string
		tab  context.Context
	}{{"patient", ptab}, {"clinician", ctab}} {
		step(t, side.tab, side.name+": record page states", func(ctx context.Context) error {
			return evalJS(ctx, recordStatesJS+` && (window.pcBeforeDrop = window.call.pc,
				window.restartsBefore = window.call.iceRestarts, true)`)
		})
		restore := cutSocket(t, side.tab)
		step(t, side.tab, side.name+": the page shows that it reconnects", func(ctx context.Context) error {
			return browsertest.WaitFor(ctx, `document.body.dataset.state === "reconnecting" &&
				(!document.getElementById("reconnecting") || !document.getElementById("reconnecting").hidden)`, browserStepTimeout)
		})
		time.Sleep(3 * time.Second) // reconnect attempts fail meanwhile
		step(t, side.tab, side.name+": still reconnecting while the network is down", func(ctx context.Context) error {
			if err := evalJS(ctx, `document.body.dataset.state === "reconnecting"`); err != nil {
				states, _ := browsertest.Eval[[]string](ctx, "window.states")
				return fmt.Errorf("%w (page states %v)", err, states)
			}
			return nil
		})
		restore()
		step(t, side.tab, side.name+": the call is back by itself", func(ctx context.Context) error {
			return browsertest.WaitFor(ctx, `document.body.dataset.state === "in_call" && window.call.pc === window.pcBeforeDrop &&
				window.call.iceRestarts > window.restartsBefore && window.call.pc.signalingState === "stable" &&
				(!document.getElementById("reconnecting") || document.getElementById("reconnecting").hidden)`, browserStepTimeout)
		})
		step(t, side.tab, side.name+": never back in the waiting room", func(ctx context.Context) error {
			states, err := browsertest.Eval[[]string](ctx, "window.states")
			if err == nil && slices.ContainsFunc(states, func(s string) bool { return s == "waiting" || s == "stopped" || s == "ready" }) {
				err = fmt.Errorf("page states %v", states)
			}
			return err
		})
		moreFrames(t, patient, side.name+" reconnected: patient")
		moreFrames(t, clinician, side.name+" reconnected: clinician")
	}
	step(t, ctab, "the staff page has the banner", func(ctx context.Context) error {
		return evalJS(ctx, `(() => { const b = document.getElementById("reconnecting");
			return b.getAttribute("role") === "alert" && b.hidden; })()`)
	})
}

// TestBrowserGuest: the clinician invites a guest on the staff page and
// copies the link; the guest opens it in a third browser (a phone), checks
// the camera and waits; the clinician admits them; the guest decodes video
// and chats under their name; the clinician ends the visit for everyone.
func TestBrowserGuest(t *testing.T) {
	const guestName = "Alex Interpretertest"
	patient, clinician := runBrowserVisit(t, nil)
	ptab, ctab := patient.Context(), clinician.Context()
	base, err := browsertest.Eval[string](ctab, "location.origin")
	if err != nil {
		t.Fatal(err)
	}
	guest := browsertest.Start(t, browsertest.WithName("guest"))
	gtab := guest.Context()

	step(t, guest.NewTab(t), "a link that does not work gets a plain-language error", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, base+"/guest#not-a-real-token"); err != nil {
			return err
		}
		if err := waitState(ctx, "link_error"); err != nil {
			return err
		}
		return evalJS(ctx, `!location.href.includes("#") && document.getElementById("status").textContent.includes("does not work")`)
	})

	step(t, ctab, "the clinician may use the clipboard", func(ctx context.Context) error {
		return grantClipboard(ctx, base)
	})
	step(t, ctab, "the clinician invites a guest", func(ctx context.Context) error {
		if err := evalJS(ctx, fmt.Sprintf(`(() => { document.getElementById("guest-name").value = %q;
			document.getElementById("guest-role").value = "interpreter";
			document.getElementById("guest-form").requestSubmit(); return true; })()`, guestName)); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `document.getElementById("guest-link").value.startsWith(location.origin + "/guest#") &&
			!document.getElementById("guest-link-box").hidden && !!document.querySelector("#guest-list li[data-status=invited]")`, browserStepTimeout)
	})
	var link string
	step(t, ctab, "the clinician copies the link", func(ctx context.Context) error {
		if err := evalJS(ctx, clickJS("#copy-guest-link")); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `document.getElementById("copy-status").textContent === "Link copied."`, browserStepTimeout); err != nil {
			return err
		}
		var err error
		link, err = browsertest.Eval[string](ctx, `navigator.clipboard.readText()`)
		if err == nil && !strings.HasPrefix(link, base+"/guest#") {
			err = fmt.Errorf("clipboard holds %q", link)
		}
		return err
	})

	step(t, gtab, "the guest opens the link on a 375 px phone", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740)); err != nil {
			return err
		}
		if err := browsertest.Navigate(ctx, link); err != nil {
			return err
		}
		if err := waitState(ctx, "device_check"); err != nil {
			return err
		}
		return evalJS(ctx, `!location.href.includes("#") && document.getElementById("clinic-name").textContent === "Demo Clinic"`)
	})
	step(t, gtab, "the guest sees the camera preview and continues", func(ctx context.Context) error {
		if err := browsertest.WaitFor(ctx, `document.getElementById("check-preview").videoWidth > 0 &&
			document.getElementById("check-camera").options.length > 0 && document.getElementById("check-mic").options.length > 0`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, fitsJS); err != nil {
			return err
		}
		if err := evalJS(ctx, clickJS("#device-ready")); err != nil {
			return err
		}
		return waitState(ctx, "waiting")
	})
	step(t, ctab, "the clinician sees the guest waiting and admits them", func(ctx context.Context) error {
		admit := `document.querySelector("#guest-list li[data-status=waiting] button.admit-guest")`
		if err := browsertest.WaitFor(ctx, "!!"+admit, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, fmt.Sprintf(`%s.getAttribute("aria-label") === %q`, admit, "Admit "+guestName)); err != nil {
			return err
		}
		return evalJS(ctx, "("+admit+".click(), true)")
	})
	step(t, gtab, "the guest is in the call", func(ctx context.Context) error {
		return waitState(ctx, "in_call")
	})
	v, err := browsertest.WaitFramesDecoded(gtab, "window.call.pc", browserMinFrames, browserMediaWindow)
	if err != nil {
		t.Fatalf("guest: %v", err)
	}
	t.Logf("guest decoded %d frames (%d streams)", v.FramesDecoded, v.Streams)

	step(t, gtab, "the guest chats", func(ctx context.Context) error {
		if err := evalJS(ctx, fitsJS); err != nil {
			return err
		}
		return evalJS(ctx, chatJS("Hello from the interpreter."))
	})
	step(t, ctab, "the clinician sees the guest's name on the message and the tile", func(ctx context.Context) error {
		return browsertest.WaitFor(ctx, chatHasJS(guestName, "Hello from the interpreter.")+
			fmt.Sprintf(` && [...document.querySelectorAll("#participants li")].some((li) => li.textContent.includes(%q))`, guestName), browserStepTimeout)
	})

	step(t, ctab, "the clinician ends the visit after confirming in the page", func(ctx context.Context) error {
		if err := evalJS(ctx, clickJS("#end-visit")+` && !document.getElementById("end-confirm").hidden &&
			document.activeElement.id === "end-confirm-no"`); err != nil {
			return err
		}
		if err := evalJS(ctx, clickJS("#end-confirm-yes")); err != nil {
			return err
		}
		return waitState(ctx, "ended_visit")
	})
	for name, tab := range map[string]context.Context{"guest": gtab, "patient": ptab} {
		step(t, tab, name+" sees the end of the visit", func(ctx context.Context) error {
			return waitState(ctx, "over")
		})
	}
	for _, m := range guest.Messages() {
		if strings.Contains(m.Text, guestName) || strings.Contains(m.Text, link[strings.Index(link, "#")+1:]) {
			t.Errorf("the guest's console carries the guest's name or link token: %q", m.Text)
		}
	}
	for _, b := range []*browsertest.Browser{guest, clinician} {
		if ex := b.Exceptions(); len(ex) > 0 {
			t.Errorf("page exceptions: %+v", ex)
		}
	}
}

// grantClipboard lets the tab's copy buttons write to the clipboard, as a
// person's click may (a headless tab is not focused; the clipboard wants a
// focused document).
func grantClipboard(ctx context.Context, origin string) error {
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		return err
	}
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    cdpbrowser.PermissionSettingGranted,
			Origin:     origin,
		}); err != nil {
			return fmt.Errorf("grant %s: %w", name, err)
		}
	}
	return nil
}
