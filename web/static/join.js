// The patient page at /join#<token>: open the link, pass the date-of-birth
// check, check in (state, device and network test, recording consent),
// wait, and join the call when admitted. The token is read from the URL
// fragment (never sent to the server in a URL) and removed from the address
// bar at once. Nothing here logs PHI: the page logs nothing at all.
//
// document.body.dataset.state is the page's step, which tests rely on:
// loading, unsupported, no_link, link_error (with dataset.reason expired,
// revoked, locked or invalid), dob, checkin, waiting, joining, connecting,
// in_call, reconnecting (while the socket is down; the page then returns
// to the step it was in), left, over, ended, error.
import { Call, openSocket } from "/static/call.js";
import { mountControls, ReconnectBanner } from "/static/controls.js";
import { camMicAdvice, describe, DeviceCheck, summary } from "/static/devicetest.js";
import { NetworkTest, networkText } from "/static/nettest.js";
import { api, problemText } from "/static/api.js";

const STATES = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
  "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
  "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR",
  "GU", "VI", "AS", "MP"];

// SCREENS are the sections of which show() displays some and hides the rest.
const SCREENS = ["unsupported", "link-error", "dob-form", "checkin-form", "waiting-section", "call-section",
  "left-screen", "end-screen", "session-ended"];

const ENDED = new Set(["completed", "cancelled", "no_show"]);

const $ = (id) => document.getElementById(id);
let token = "";
let sock = null;
let call = null;
let banner = null;
let phase = "link"; // link, checkin, waiting, call, over
let beforeReconnect = null; // the step to return to when the socket is back
let devices = null;
let netTest = null;
let testRun = null; // the running device test (a promise)
const results = { camera: "skipped", microphone: "skipped", speaker: "skipped", network: "skipped" };
const seenMessages = new Set();

function setState(state, text, isError = false) {
  document.body.dataset.state = state;
  const st = $("status");
  st.textContent = text;
  st.classList.toggle("error", isError);
}

function show(id, on = true) {
  $(id).hidden = !on;
}

// showOnly shows the given screens and hides the others.
function showOnly(...ids) {
  for (const id of SCREENS) show(id, ids.includes(id));
}

// problemType is the last part of a problem's type URI, e.g. link-expired.
function problemType(r) {
  const t = r.data && typeof r.data.type === "string" ? r.data.type : "";
  return t.slice(t.lastIndexOf("/") + 1);
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

// supported: the browser has what a video visit needs.
function supported() {
  return !!(window.RTCPeerConnection && window.WebSocket && navigator.mediaDevices &&
    navigator.mediaDevices.getUserMedia);
}

async function start() {
  // A new link opened in this tab changes only the fragment: start over.
  window.addEventListener("hashchange", () => {
    if (location.hash.length > 1) location.reload();
  });
  token = location.hash.slice(1);
  if (token) history.replaceState(null, "", location.pathname + location.search); // the token leaves the address bar
  if (!supported()) {
    token = "";
    showOnly("unsupported");
    setState("unsupported", "This browser cannot make video calls.", true);
    return;
  }
  const select = $("location-state");
  for (const s of STATES) select.append(new Option(s, s));
  bindControls();
  if (token) {
    const r = await api("POST", "/api/v1/patient/link", { token });
    if (r.status !== 200) {
      linkProblem(r);
      return;
    }
    showVisit(r.data);
    showOnly("dob-form");
    setState("dob", "Please confirm your date of birth.");
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

function bindControls() {
  $("dob-form").addEventListener("submit", onDOB);
  $("checkin-form").addEventListener("submit", onCheckIn);
  $("device-test").addEventListener("click", () => deviceTest());
  $("media-retry").addEventListener("click", () => deviceTest());
  $("speaker-test").addEventListener("click", speakerTest);
  $("speaker-yes").addEventListener("click", () => speakerAnswer("pass"));
  $("speaker-no").addEventListener("click", () => speakerAnswer("fail"));
  $("rejoin").addEventListener("click", () => {
    show("left-screen", false);
    joinCall();
  });
  devices = new DeviceCheck({ preview: $("preview"), meter: $("mic-level"), cameraSelect: $("dt-camera"), micSelect: $("dt-mic") });
}

// LINK_ERRORS say, per problem, what happened and what to do.
const LINK_ERRORS = {
  expired: ["This link has expired", "Visit links work for a limited time, and this one is no longer valid.",
    "Please contact the clinic and ask for a new link."],
  revoked: ["This link is no longer valid", "The clinic has replaced or cancelled this link.",
    "Use the newest link the clinic sent you, or contact the clinic."],
  locked: ["This link is locked", "The date of birth was entered wrongly too many times, so we locked the link to protect your information.",
    "The clinic has been told. Please contact them for a new link."],
  invalid: ["This link does not work", "The link may be incomplete or mistyped.",
    "Open the link straight from the message you received, or contact the clinic for a new one."],
};

// linkProblem shows why the link cannot be used; errors that are not
// about the link (busy, offline) say to try again.
function linkProblem(r) {
  token = "";
  if (r.status === 0 || r.status === 429 || r.status >= 500) {
    setState("error", r.status === 429 ? "Too many tries. Please wait a minute, then reload the page." :
      "We could not reach the clinic's service. Check your internet connection, then reload the page.", true);
    return;
  }
  const reason = { "link-expired": "expired", "link-revoked": "revoked", "link-locked": "locked" }[problemType(r)] || "invalid";
  const [title, text, action] = LINK_ERRORS[reason];
  $("link-error-heading").textContent = title;
  $("link-error-text").textContent = text;
  $("link-error-action").textContent = action;
  show("visit-info", false);
  showOnly("link-error");
  document.body.dataset.reason = reason;
  setState("link_error", title + ".", true);
}

async function onDOB(ev) {
  ev.preventDefault();
  $("dob-error").textContent = "";
  const r = await api("POST", "/api/v1/patient/session", { token, date_of_birth: $("dob").value });
  if (r.status !== 200) {
    if (problemType(r).startsWith("link-")) {
      linkProblem(r);
      return;
    }
    let text = "That did not work. Please check the date and try again.";
    if (problemType(r) === "knowledge-check-failed") text = problemText(r, text) + " Please check it and try again.";
    if (r.status === 429) text = "Too many tries. Please wait a minute, then try again.";
    if (r.status === 0) text = "We could not reach the clinic's service. Check your internet connection and try again.";
    $("dob-error").textContent = text;
    setState("dob", "Please confirm your date of birth.", true);
    $("dob").focus();
    return;
  }
  token = "";
  const v = await api("GET", "/api/v1/patient/visit");
  if (v.status !== 200) {
    setState("error", problemText(v, "Something went wrong. Please reload the page."), true);
    return;
  }
  afterSession(v.data);
}

function afterSession(view) {
  showVisit(view);
  connect();
  if (view.status === "scheduled" || (view.status === "waiting" && !view.checked_in)) {
    phase = "checkin";
    showOnly("checkin-form");
    setState("checkin", "Please check in.");
    return;
  }
  if (view.status === "waiting" || view.status === "in_progress") {
    enterWaiting(view);
    return;
  }
  endVisit();
}

// connect opens the socket: the network test uses it while checking in,
// the waiting room and the call after.
function connect() {
  if (sock) return;
  banner = new ReconnectBanner($("reconnecting"));
  sock = openSocket({ onOpen, onState: onSocketState, onMessage, onClosed });
  window.patientSocket = sock; // as call.js's window.call: lets tests drop the socket
  netTest = new NetworkTest((m) => sock.send(m));
}

function onOpen() {
  if (document.body.dataset.state === "reconnecting" && beforeReconnect) {
    setState(...beforeReconnect);
  }
  beforeReconnect = null;
  banner.socketOpened(!!(call && call.wantJoined));
  if (call) call.socketOpened();
}

function onSocketState(s) {
  banner.socketState(s);
  if (s !== "reconnecting" || phase === "over") return;
  const body = document.body.dataset.state;
  if (body !== "reconnecting") {
    const st = $("status");
    beforeReconnect = [body, st.textContent, st.classList.contains("error")];
  }
  setState("reconnecting", "Connection lost. Reconnecting…", true);
}

// onClosed: the server ended the session for good (docs/signaling.md,
// close codes).
function onClosed(code) {
  if (phase === "over") return;
  phase = "over";
  banner.clear();
  stopMedia();
  const text = {
    4409: "Your visit is open in another tab or on another device. You can close this page.",
    4403: "You can no longer join this visit. Please contact the clinic if you need help.",
  }[code] || "Your session has ended. To join again, open the link you received.";
  $("session-ended-text").textContent = text;
  showOnly("session-ended");
  setState("ended", text, true);
}

// deviceTest runs the camera and microphone check and the network check
// side by side; check-in waits for a running test.
function deviceTest() {
  devices.context(); // Safari lets audio start only within the click itself
  if (!testRun) testRun = runDeviceTest().finally(() => (testRun = null));
  return testRun;
}

async function runDeviceTest() {
  const btn = $("device-test");
  btn.disabled = true;
  $("media-retry").disabled = true;
  $("device-result").textContent = "Testing your camera, microphone and connection…";
  const section = $("device-test-section");
  delete section.dataset.done;
  try {
    await Promise.all([cameraTest(), networkTest()]);
  } finally {
    btn.disabled = false;
    $("media-retry").disabled = false;
    btn.textContent = "Test again";
  }
  section.dataset.done = "1";
  $("device-result").textContent = summary(results, lastMedia, lastNet);
}

let lastMedia = null; // {camera, microphone, problem}
let lastNet = null; // what NetworkTest.run resolved with

async function cameraTest() {
  setResult("camera", "testing…");
  setResult("microphone", "testing…");
  lastMedia = await devices.start($("dt-camera").value, $("dt-mic").value);
  results.camera = lastMedia.camera;
  results.microphone = lastMedia.microphone;
  show("media-blocked", lastMedia.problem === "blocked");
  show("device-panel", !!devices.stream);
  setResult("camera", describe("camera", results.camera), camMicAdvice(lastMedia, "camera"));
  setResult("microphone", describe("microphone", results.microphone), camMicAdvice(lastMedia, "microphone"));
  const section = $("device-test-section");
  section.dataset.camera = results.camera;
  section.dataset.microphone = results.microphone;
}

async function networkTest() {
  setResult("network", "testing…");
  lastNet = await netTest.run();
  results.network = lastNet.network;
  setResult("network", networkText(lastNet));
  const section = $("device-test-section");
  section.dataset.network = lastNet.network;
  section.dataset.rtt = lastNet.rttMs === null ? "" : String(lastNet.rttMs);
  section.dataset.turn = lastNet.turn;
}

function setResult(what, text, advice = "") {
  $("result-" + what).textContent = advice ? `${text}. ${advice}` : text;
}

async function speakerTest() {
  const btn = $("speaker-test");
  btn.disabled = true;
  try {
    await devices.playTone();
    show("speaker-question");
    $("speaker-yes").focus();
  } catch {
    speakerAnswer("fail");
  } finally {
    btn.disabled = false;
  }
}

function speakerAnswer(result) {
  results.speaker = result;
  $("device-test-section").dataset.speaker = result;
  show("speaker-question", false);
  setResult("speaker", describe("speaker", result));
  if (lastMedia || lastNet) $("device-result").textContent = summary(results, lastMedia, lastNet);
  $("speaker-test").focus();
}

async function onCheckIn(ev) {
  ev.preventDefault();
  if (testRun) await testRun;
  if (!devices.stream && results.camera === "skipped") await cameraTest(); // at least the camera and microphone
  const consent = document.querySelector('input[name="consent"]:checked');
  const r = await api("POST", "/api/v1/patient/check-in", {
    location_state: $("location-state").value,
    device_test: { ...results },
    recording_consent: consent ? consent.value : "no",
  });
  if (r.status !== 200) {
    setState("checkin", problemText(r, "Check-in failed. Please try again."), true);
    return;
  }
  enterWaiting(r.data);
}

function enterWaiting(view) {
  phase = "waiting";
  devices.leave();
  showOnly("waiting-section");
  setState("waiting", "You are in the waiting room.");
  if (view) updateQueue(view);
  if (view && view.status === "in_progress") joinCall();
}

// updateQueue shows the place in line and the estimated wait (a live
// region announces the changes).
function updateQueue(view) {
  const pos = view.position;
  $("queue-position").textContent = pos ? `You are number ${pos} in line.` : "You are in line.";
  const wait = view.estimated_wait_minutes;
  $("queue-wait").textContent = wait > 0 ?
    `Estimated wait: about ${wait} minute${wait === 1 ? "" : "s"}.` : "Your clinician should be with you soon.";
}

function onMessage(msg) {
  if (netTest && netTest.handle(msg)) return;
  if (call && call.handle(msg)) return;
  switch (msg.type) {
    case "patient_status":
      onPatientStatus(msg);
      break;
    case "admitted":
      if (phase === "waiting" || phase === "call") joinCall();
      break;
    case "sent_back":
      if (call) call.leave();
      backToWaiting("You are back in the waiting room. Your clinician will call you in again.");
      break;
    case "visit_ended":
      endVisit();
      break;
    case "clinic_message":
      addClinicMessage(msg);
      break;
  }
}

function onPatientStatus(msg) {
  if (ENDED.has(msg.status)) {
    endVisit();
    return;
  }
  if (phase !== "waiting" && phase !== "call") return; // still checking in
  if (msg.status === "in_progress") {
    joinCall();
  } else if (msg.status === "waiting") {
    updateQueue(msg);
    if (phase === "waiting" && document.body.dataset.state !== "reconnecting") setState("waiting", "You are in the waiting room.");
  }
}

function backToWaiting(text) {
  phase = "waiting";
  showOnly("waiting-section");
  setState("waiting", text);
}

// addClinicMessage shows a message the clinic sent (plain text).
function addClinicMessage(msg) {
  if (!msg.id || !msg.text || seenMessages.has(msg.id)) return;
  seenMessages.add(msg.id);
  const li = document.createElement("p");
  li.className = "clinic-message";
  const time = document.createElement("time");
  const at = new Date(msg.at);
  if (!isNaN(at)) {
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString(undefined, { timeStyle: "short" }) + " ";
  }
  const text = document.createElement("span");
  text.textContent = msg.text;
  li.append(time, text);
  $("clinic-messages").append(li);
  show("messages-section");
}

async function joinCall() {
  if (phase === "over" || (call && call.wantJoined)) return;
  phase = "call";
  setState("joining", "Your clinician is ready. Joining the call…");
  if (!devices.stream) await devices.start();
  if (!devices.stream) {
    setState("media_error", "We could not use your camera or microphone. Allow them in your browser, then reload this page.", true);
    return;
  }
  if (!call) {
    call = new Call({ socket: sock, stream: devices.stream, remotes: $("remotes"), onState: onCallState });
    $("local").srcObject = devices.stream;
    mountControls(call, $("call-controls"), { role: "patient", onLeave: leave, preview: $("local") });
  }
  showOnly("call-section");
  call.join();
}

function onCallState(state, detail) {
  banner.callState(state);
  if (phase !== "call") return;
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
      backToWaiting("The call stopped. Please wait.");
      break;
    case "error":
      if (detail === "not_admitted") backToWaiting("Please wait for your clinician.");
      else setState("call_error", "The call could not start. Please reload the page.", true);
      break;
  }
}

function leave() {
  if (call) call.leave();
  phase = "left";
  showOnly("left-screen");
  setState("left", "You left the call.");
}

function stopMedia() {
  if (devices) {
    devices.leave();
    if (devices.stream) for (const t of devices.stream.getTracks()) t.stop();
  }
}

function endVisit() {
  if (phase === "over") return;
  phase = "over";
  if (call) call.closePC();
  if (sock) sock.close();
  if (banner) banner.clear();
  stopMedia();
  showOnly("end-screen");
  setState("over", "Your visit has ended.");
}

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
