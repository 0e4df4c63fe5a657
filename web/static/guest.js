// The guest page at /guest#<token> (an interpreter, a family member): open
// the link, check the camera and microphone, wait until the clinician lets
// you in, then the call with the shared controls. The token is read from
// the URL fragment (never sent in a URL) and removed from the address bar
// at once. A guest's socket carries only the visit's room (no status
// messages), so the page reads GET /api/v1/guest/visit while it waits.
// Nothing here logs PHI.
import { Call, getMedia, openSocket } from "/static/call.js";
import { mountControls, ReconnectBanner } from "/static/controls.js";
import { api } from "/static/api.js";

const POLL_MS = 2000;
const LINK_ERRORS = {
  "link-expired": "This guest link has expired. Please ask the clinic for a new one.",
  "link-revoked": "This guest link is no longer valid. Please ask the clinic for a new one.",
  "rate-limited": "Too many tries. Please wait a minute and open the link again.",
};
const INVALID_LINK = "This link does not work. Please check that you opened the whole link, or ask the clinic for a new one.";

const $ = (id) => document.getElementById(id);
let stream = null;
let sock = null;
let call = null;
let banner = null;
let pollTimer = null;
let finished = false;

function setState(state, text, isError = false) {
  if (finished) return;
  document.body.dataset.state = state;
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// linkError is the plain-language text for a refused link.
function linkError(r) {
  const type = ((r.data && r.data.type) || "").split("/").pop();
  return LINK_ERRORS[type] || INVALID_LINK;
}

async function start() {
  banner = new ReconnectBanner($("reconnecting"));
  const token = location.hash.slice(1);
  if (token) {
    history.replaceState(null, "", location.pathname + location.search); // the token leaves the address bar
    const r = await api("POST", "/api/v1/guest/session", { token });
    if (r.status !== 200) {
      setState("link_error", linkError(r), true);
      return;
    }
  }
  const v = await api("GET", "/api/v1/guest/visit");
  if (v.status !== 200) {
    if (token) setState("error", "Something went wrong. Please open your link again.", true);
    else setState("no_link", "Please open the guest link you received from the clinic.", true);
    return;
  }
  showVisit(v.data);
  if (over(v.data)) return;
  deviceCheck();
}

function showVisit(view) {
  $("clinic-name").textContent = view.clinic_name;
  const when = new Date(view.starts_at);
  const opts = { dateStyle: "medium", timeStyle: "short" };
  try {
    $("starts-at").textContent = when.toLocaleString(undefined, { ...opts, timeZone: view.clinic_timezone || undefined });
  } catch {
    $("starts-at").textContent = when.toLocaleString(undefined, opts);
  }
  $("visit-info").hidden = false;
}

// over shows the end screen when the guest can no longer take part.
function over(view) {
  if (view.status === "removed") return finish("removed", "The clinician has removed you from the visit.");
  if (view.status === "left" || ["completed", "cancelled", "no_show"].includes(view.visit_status)) {
    return finish("over", "This visit is over. Thank you.");
  }
  return false;
}

// deviceCheck shows the camera preview and the device pickers.
async function deviceCheck() {
  setState("device_check", "Check your camera and microphone, then continue.");
  $("device-check").hidden = false;
  $("check-camera").addEventListener("change", () => pick());
  $("check-mic").addEventListener("change", () => pick());
  $("device-ready").addEventListener("click", waitToBeAdmitted, { once: true });
  await pick();
}

// pick opens the chosen camera and microphone (the defaults at first).
async function pick() {
  const cam = $("check-camera").value;
  const mic = $("check-mic").value;
  try {
    const fresh = cam || mic
      ? await navigator.mediaDevices.getUserMedia({
        audio: mic ? { deviceId: { exact: mic } } : true,
        video: cam ? { deviceId: { exact: cam } } : true,
      })
      : await getMedia();
    if (stream) for (const t of stream.getTracks()) t.stop();
    stream = fresh;
    $("check-preview").srcObject = stream;
    $("device-result").textContent = "Your camera and microphone work.";
    await listDevices();
  } catch {
    $("device-result").textContent = "We could not use your camera or microphone. Please allow them in your browser and try again.";
  }
}

async function listDevices() {
  const list = await navigator.mediaDevices.enumerateDevices();
  for (const [id, kind, name, track] of [["check-camera", "videoinput", "Camera", stream.getVideoTracks()[0]],
    ["check-mic", "audioinput", "Microphone", stream.getAudioTracks()[0]]]) {
    const current = track ? track.getSettings().deviceId : "";
    $(id).replaceChildren(...list.filter((d) => d.kind === kind && d.deviceId)
      .map((d, i) => new Option(d.label || `${name} ${i + 1}`, d.deviceId, false, d.deviceId === current)));
  }
}

// waitToBeAdmitted opens the socket and asks every POLL_MS whether the
// clinician has let the guest in.
function waitToBeAdmitted() {
  if (!stream) {
    setState("media_error", "We could not use your camera or microphone. Please allow them and reload the page.", true);
    return;
  }
  $("device-check").hidden = true;
  $("check-preview").srcObject = null;
  setState("waiting", "Please wait: the clinician will let you in.");
  sock = openSocket({
    onOpen: () => {
      banner.socketOpened(!!(call && call.wantJoined));
      if (call) call.socketOpened();
    },
    onState: (s) => banner.socketState(s),
    onMessage: (msg) => call && call.handle(msg),
    onClosed,
  });
  poll();
}

// onClosed: the server ended the guest's session for good (the visit
// ended, the guest was removed or joined from another tab).
function onClosed(code) {
  if (code === 4409) return finish("replaced", "You joined from another tab or device. You can close this page.");
  return finish("over", "The visit is over for you. Thank you.");
}

async function poll() {
  clearTimeout(pollTimer);
  if (finished) return;
  const r = await api("GET", "/api/v1/guest/visit").catch(() => ({ status: 0 }));
  if (r.status === 401 || r.status === 403) return finish("over", "The visit is over for you. Thank you.");
  if (r.status === 200) {
    if (over(r.data)) return;
    if (r.data.status === "admitted" && r.data.visit_status === "in_progress") return joinCall();
  }
  pollTimer = setTimeout(poll, POLL_MS);
}

function joinCall() {
  if (!call) {
    call = new Call({ socket: sock, stream, remotes: $("remotes"), onState: onCallState });
    mountControls(call, $("controls"), { role: "guest", onLeave: leave, preview: $("local") });
  }
  $("local").srcObject = stream;
  $("call-area").hidden = false;
  call.join();
}

function onCallState(state, detail) {
  banner.callState(state);
  switch (state) {
    case "joining":
      setState("joining", "Joining the call…");
      break;
    case "connecting":
      setState("connecting", "Connecting…");
      break;
    case "connected":
      setState("in_call", "You are in the call.");
      break;
    case "disconnected":
    case "failed":
      setState("reconnecting", "Connection lost. Reconnecting…", true);
      break;
    case "stopped":
      if (detail === "guest_removed") return finish("removed", "The clinician has removed you from the visit.");
      if (detail === "visit_ended" || detail === "session_ended") return finish("over", "The visit is over for you. Thank you.");
      $("call-area").hidden = true;
      setState("waiting", "Please wait: the clinician will let you in again.");
      poll();
      break;
    case "error":
      if (detail === "not_admitted") {
        setState("waiting", "Please wait: the clinician will let you in.");
        pollTimer = setTimeout(poll, POLL_MS);
      } else {
        setState("call_error", "The call could not start. Please reload the page.", true);
      }
      break;
  }
}

async function leave() {
  finish("left", "You left the visit. Open your link again to rejoin.");
  await api("DELETE", "/api/v1/guest/session").catch(() => {});
}

// finish shows an end screen and stops media and the socket; it returns
// true (for over()).
function finish(state, text) {
  setState(state, text);
  finished = true;
  clearTimeout(pollTimer);
  if (call) call.leave();
  if (sock) sock.close();
  if (stream) for (const t of stream.getTracks()) t.stop();
  banner.clear();
  $("call-area").hidden = true;
  $("device-check").hidden = true;
  return true;
}

// A new link pasted into this tab changes only the fragment: start over.
window.addEventListener("hashchange", () => {
  if (location.hash.length > 1) location.reload();
});

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
