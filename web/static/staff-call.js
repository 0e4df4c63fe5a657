// The staff call page at /call?visit=<visit id> (a visit id is not PHI).
// The clinician is signed in (staff cookie); the page opens /ws, joins the
// visit's room and can admit the waiting patient, invite and admit guests
// (staff-guests.js) and end the visit. The in-call controls come from
// controls.js; the note editor (note-editor.js) mounts itself into
// #note-panel. A #reconnecting banner shows while the socket or the media
// path is down; the call recovers by itself. Nothing here logs PHI.
import { Call, getMedia, openSocket } from "/static/call.js";
import { mountControls, ReconnectBanner } from "/static/controls.js";
import { api, problemText } from "/static/api.js";
import { mountGuests } from "/static/staff-guests.js";

const $ = (id) => document.getElementById(id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let call = null;
let sock = null;
let ended = false;
let refreshGuests = () => {};
let banner = null;

function setState(state, text, isError = false) {
  if (ended) return;
  document.body.dataset.state = state;
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function start() {
  const visitID = new URLSearchParams(location.search).get("visit") || "";
  if (!UUID.test(visitID)) {
    setState("bad_visit", "No visit chosen.", true);
    return;
  }
  const me = await fetch("/api/v1/me", { credentials: "same-origin" });
  if (me.status === 401) {
    location.assign("/auth/login?return_to=" + encodeURIComponent(location.pathname + location.search));
    return;
  }
  let stream;
  try {
    stream = await getMedia();
  } catch {
    setState("media_error", "The camera or microphone is not available.", true);
    return;
  }
  $("local").srcObject = stream;
  banner = new ReconnectBanner($("reconnecting"));
  sock = openSocket({ onOpen: onSocketOpen, onState: onSocketState, onMessage, onClosed: onSocketClosed });
  call = new Call({ socket: sock, stream, remotes: $("remotes"), visitID, onState: onCallState });
  mountControls(call, $("controls"), { role: "clinician", onLeave: leave, preview: $("local") });
  refreshGuests = mountGuests(visitID);
  $("admit").addEventListener("click", () => admit(visitID));
  $("join").addEventListener("click", () => call.join());
  bindEndVisit(visitID);
  setState("ready", "Ready. Admit the patient or join the call.");
  call.wantJoined = true; // join as soon as the socket is open
}

function onSocketOpen() {
  banner.socketOpened(call.wantJoined); // shown until the room has us again
  call.socketOpened();
}

function onSocketState(s) {
  banner.socketState(s);
  if (s !== "reconnecting") return;
  setState("reconnecting", "Connection lost. Reconnecting…", true);
}

function onSocketClosed() {
  banner.clear();
  setState("ended", "Your session has ended. Please sign in again.", true);
}

let guestTimer = null;
function onMessage(msg) {
  if (call.handle(msg)) return;
  // A waiting-room snapshot follows every change in the clinic, guests
  // opening their links included: read the guest list again.
  if (msg.type === "waiting_room") {
    clearTimeout(guestTimer);
    guestTimer = setTimeout(() => refreshGuests(), 200);
  }
}

function leave() {
  call.leave();
  banner.clear();
  $("join").hidden = false;
  setState("left", "You left the call.");
}

async function admit(visitID) {
  $("admit").disabled = true;
  const r = await api("POST", "/api/v1/visits/" + encodeURIComponent(visitID) + "/admit");
  $("admit").disabled = false;
  if (r.status !== 200) {
    setState("admit_error", "The patient could not be admitted (" + r.status + ").", true);
    return;
  }
  $("admit").hidden = true;
  call.join();
}

// bindEndVisit asks in the page (not window.confirm) before ending.
function bindEndVisit(visitID) {
  const confirmBox = $("end-confirm");
  $("end-visit").addEventListener("click", () => {
    confirmBox.hidden = false;
    $("end-confirm-no").focus();
  });
  $("end-confirm-no").addEventListener("click", () => {
    confirmBox.hidden = true;
    $("end-visit").focus();
  });
  $("end-confirm-yes").addEventListener("click", async () => {
    $("end-confirm-yes").disabled = true;
    const r = await api("POST", "/api/v1/visits/" + encodeURIComponent(visitID) + "/complete");
    $("end-confirm-yes").disabled = false;
    if (r.status !== 200) {
      setState(document.body.dataset.state, problemText(r, "The visit could not be ended. Please try again."), true);
      return;
    }
    confirmBox.hidden = true;
    endedVisit();
  });
}

function endedVisit() {
  call.leave();
  sock.close();
  setState("ended_visit", "The visit has ended.");
  ended = true;
  banner.clear();
  for (const id of ["call-section", "controls", "guest-panel", "end-panel"]) $(id).hidden = true;
  $("admit").hidden = $("join").hidden = true;
}

function onCallState(state, detail) {
  banner.callState(state);
  switch (state) {
    case "joining":
      setState("joining", "Joining…");
      break;
    case "connecting":
      $("join").hidden = true;
      setState("connecting", "Connecting…");
      break;
    case "connected":
      $("join").hidden = true;
      setState("in_call", "In the call.");
      break;
    case "disconnected":
      setState("reconnecting", "Connection lost. Reconnecting…", true);
      break;
    case "failed":
      setState("failed", "The connection failed. Trying again…", true);
      break;
    case "stopped":
      $("join").hidden = false;
      setState("stopped", "The call stopped (" + detail + ").");
      break;
    case "error":
      if (detail === "not_admitted") {
        $("admit").hidden = false;
        setState("ready", "The patient is not in the call yet. Admit them when they are waiting.");
      } else {
        setState("call_error", "The call could not start (" + detail + ").", true);
      }
      break;
  }
}

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
