// The patient page at /join#<token>: open the link, pass the date-of-birth
// check, check in, wait, and join the call when admitted. The token is read
// from the URL fragment (never sent to the server in a URL) and removed from
// the address bar at once. Nothing here logs PHI.
import { Call, getMedia, openSocket } from "/static/call.js";

const STATES = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
  "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
  "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR",
  "GU", "VI", "AS", "MP"];

const $ = (id) => document.getElementById(id);
let token = "";
let stream = null;
let sock = null;
let call = null;

function setState(state, text, isError = false) {
  document.body.dataset.state = state;
  const st = $("status");
  st.textContent = text;
  st.classList.toggle("error", isError);
}

function show(id, on = true) {
  $(id).hidden = !on;
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  return { status: resp.status, data };
}

function problemText(r, fallback) {
  // detail is safe to show (docs/openapi.json, Problem).
  return (r.data && (r.data.detail || r.data.title)) || fallback;
}

function showVisit(info) {
  $("clinic-name").textContent = info.clinic_name;
  const when = new Date(info.starts_at);
  const opts = { dateStyle: "medium", timeStyle: "short" };
  try {
    $("starts-at").textContent = when.toLocaleString(undefined, { ...opts, timeZone: info.clinic_timezone || undefined });
  } catch {
    $("starts-at").textContent = when.toLocaleString(undefined, opts);
  }
  show("visit-info");
}

async function start() {
  const select = $("location-state");
  for (const s of STATES) select.append(new Option(s, s));
  $("dob-form").addEventListener("submit", onDOB);
  $("checkin-form").addEventListener("submit", onCheckIn);
  $("device-test").addEventListener("click", deviceTest);
  $("leave").addEventListener("click", () => {
    if (call) call.leave();
    show("call-section", false);
    setState("left", "You left the visit. Reload the page to join again.");
  });

  token = location.hash.slice(1);
  if (token) {
    history.replaceState(null, "", location.pathname + location.search); // the token leaves the address bar
    const r = await api("POST", "/api/v1/patient/link", { token });
    if (r.status !== 200) {
      token = "";
      setState("link_error", problemText(r, "This link does not work. Please ask the clinic for a new one."), true);
      return;
    }
    showVisit(r.data);
    setState("dob", "Please confirm your date of birth.");
    show("dob-form");
    return;
  }
  // No token: perhaps a reload after the check, with the session cookie.
  const r = await api("GET", "/api/v1/patient/visit");
  if (r.status !== 200) {
    setState("no_link", "Please open the personal link you received by e-mail or text message.", true);
    return;
  }
  afterSession(r.data);
}

async function onDOB(ev) {
  ev.preventDefault();
  const r = await api("POST", "/api/v1/patient/session", { token, date_of_birth: $("dob").value });
  if (r.status !== 200) {
    setState("dob", problemText(r, "That did not match. Please try again."), true);
    return;
  }
  token = "";
  show("dob-form", false);
  const v = await api("GET", "/api/v1/patient/visit");
  if (v.status !== 200) {
    setState("error", problemText(v, "Something went wrong. Please try again."), true);
    return;
  }
  afterSession(v.data);
}

function afterSession(view) {
  showVisit(view);
  if (view.status === "scheduled" || (view.status === "waiting" && !view.checked_in)) {
    setState("checkin", "Please check in.");
    show("checkin-form");
    return;
  }
  if (view.status === "waiting" || view.status === "in_progress") {
    waitingRoom();
    return;
  }
  setState("over", "This visit is over.");
}

async function ensureMedia() {
  if (!stream) {
    stream = await getMedia();
    $("local").srcObject = stream;
  }
  return stream;
}

// deviceTest passes camera and microphone when getUserMedia succeeds.
let deviceResult = null;
async function deviceTest() {
  $("device-result").textContent = "Testing…";
  try {
    const s = await ensureMedia();
    deviceResult = {
      camera: s.getVideoTracks().length > 0 ? "pass" : "fail",
      microphone: s.getAudioTracks().length > 0 ? "pass" : "fail",
      speaker: "skipped",
      network: "skipped",
    };
    $("device-result").textContent = `Camera: ${deviceResult.camera}. Microphone: ${deviceResult.microphone}.`;
  } catch {
    deviceResult = { camera: "fail", microphone: "fail", speaker: "skipped", network: "skipped" };
    $("device-result").textContent = "We could not use your camera or microphone. Please allow them and test again.";
  }
}

async function onCheckIn(ev) {
  ev.preventDefault();
  if (!deviceResult) await deviceTest();
  const consent = document.querySelector('input[name="consent"]:checked');
  const r = await api("POST", "/api/v1/patient/check-in", {
    location_state: $("location-state").value,
    device_test: deviceResult,
    recording_consent: consent ? consent.value : "no",
  });
  if (r.status !== 200) {
    setState("checkin", problemText(r, "Check-in failed. Please try again."), true);
    return;
  }
  show("checkin-form", false);
  waitingRoom();
}

function waitingRoom() {
  setState("waiting", "You are in the waiting room.");
  sock = openSocket({
    onOpen: () => call && call.socketOpened(),
    onState: (s) => {
      if (s === "reconnecting") setState("reconnecting", "Connection lost. Reconnecting…", true);
    },
    onMessage,
    onClosed: () => setState("ended", "Your session has ended. Please open your link again.", true),
  });
}

function onMessage(msg) {
  if (call && call.handle(msg)) return;
  switch (msg.type) {
    case "patient_status":
      if (msg.status === "in_progress") {
        joinCall();
      } else if (msg.status === "waiting") {
        if (!call || !call.wantJoined) {
          const pos = msg.position ? ` You are number ${msg.position} in line.` : "";
          const wait = msg.estimated_wait_minutes ? ` About ${msg.estimated_wait_minutes} minutes.` : "";
          setState("waiting", "You are in the waiting room." + pos + wait);
        }
      } else if (msg.status !== "scheduled") {
        endVisit();
      }
      break;
    case "admitted":
      joinCall();
      break;
    case "sent_back":
      if (call) call.leave();
      show("call-section", false);
      setState("waiting", "You are back in the waiting room.");
      break;
    case "visit_ended":
      endVisit();
      break;
  }
}

async function joinCall() {
  if (call && call.wantJoined) return;
  setState("joining", "Joining the call…");
  try {
    await ensureMedia();
  } catch {
    setState("media_error", "We could not use your camera or microphone.", true);
    return;
  }
  if (!call) {
    call = new Call({
      socket: sock,
      stream,
      remotes: $("remotes"),
      onState: onCallState,
    });
  }
  show("call-section");
  call.join();
}

function onCallState(state, detail) {
  switch (state) {
    case "connected":
      setState("in_call", "You are in the call.");
      break;
    case "connecting":
      setState("connecting", "Connecting…");
      break;
    case "failed":
      setState("failed", "The connection failed. Trying again…", true);
      break;
    case "stopped":
      show("call-section", false);
      setState("waiting", "The call stopped. Please wait.");
      break;
    case "error":
      if (detail === "not_admitted") setState("waiting", "Please wait for your clinician.");
      else setState("call_error", "The call could not start.", true);
      break;
  }
}

function endVisit() {
  if (call) call.closePC();
  show("call-section", false);
  if (sock) sock.close();
  setState("over", "This visit is over. Thank you.");
}

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
