// The clinician's live waiting-room console at /console.
//
// Signs in (GET /api/v1/me; 401 sends the browser to the sign-in page), opens
// /ws (docs/signaling.md) and renders every `waiting_room` snapshot. Rows are
// updated in place, keyed by visit id, so keyboard focus survives the
// snapshots. Wait times tick locally between snapshots.
//
// HIPAA: patient names appear only in the page body, never in the title, the
// URL or the browser console. This module logs nothing.
import { openSocket } from "/static/call.js";

const $ = (id) => document.getElementById(id);

const state = {
  me: null, // GET /api/v1/me
  clinics: new Map(), // id → name
  clinicID: null, // the watched clinic
  clinicians: new Map(), // id → display name, of the watched clinic
  cliniciansOf: null, // the clinic the map belongs to
  entries: [],
  receivedAt: 0, // performance.now() of the last snapshot
  rows: new Map(), // visit id → row refs
  lastCount: null,
  busy: new Set(), // visit ids with a request under way
};

const hello = {}; // mutated: clinic_id after a choice, sent again on reconnect
let sock = null;

// ---- small helpers ----

function setState(s) {
  document.body.dataset.state = s;
}

function announce(text) {
  // Re-setting the same text would not be announced again.
  const el = $("status");
  el.textContent = el.textContent === text ? text + "\u00a0" : text;
}

function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = !text;
}

async function problemText(r, fallback) {
  try {
    const p = await r.json();
    if (p && typeof p.detail === "string" && p.detail) return p.detail;
    if (p && typeof p.title === "string" && p.title) return p.title;
  } catch {
    // not JSON
  }
  return fallback + " (" + r.status + ")";
}

function signIn() {
  location.assign("/auth/login?return_to=" + encodeURIComponent("/console"));
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) {
    signIn();
    throw new Error("signed out");
  }
  return r;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("aria-") || k === "role") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  if (m < 1) return s + " s";
  if (m < 60) return m + " min";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function waitSeconds(e) {
  return e.wait_seconds + (performance.now() - state.receivedAt) / 1000;
}

const VERDICT_TONE = { ok: "good", warning: "warn", problem: "bad", not_run: "neutral" };
const DEVICE_NAMES = { camera: "Camera", microphone: "Microphone", speaker: "Speaker" };

// deviceWords says in plain words what the patient's device test found:
// "Devices OK", "Camera problem", "Weak network, speaker not tested"...
function deviceWords(e) {
  const d = e.device_test;
  if (!d) return ["Device test not run", "neutral"];
  const parts = [];
  for (const [k, name] of Object.entries(DEVICE_NAMES)) {
    if (d[k] === "fail") parts.push(name + " problem");
  }
  if (d.network === "failed") parts.push("Network problem");
  if (d.network === "poor") parts.push("Weak network");
  for (const [k, name] of Object.entries(DEVICE_NAMES)) {
    if (d[k] === "skipped") parts.push(name + " not tested");
  }
  if (d.network === "skipped") parts.push("Network not tested");
  if (parts.length === 0) return ["Devices OK", "good"];
  const text = parts.join(", ").toLowerCase();
  const tone = VERDICT_TONE[e.device_verdict] === "good" ? "neutral" : VERDICT_TONE[e.device_verdict] || "neutral";
  return [text.charAt(0).toUpperCase() + text.slice(1), tone];
}

// US states and territories by their code (visits/validate.go).
const US_STATES = {
  AL: "Alabama", AK: "Alaska", AZ: "Arizona", AR: "Arkansas", CA: "California", CO: "Colorado",
  CT: "Connecticut", DE: "Delaware", DC: "District of Columbia", FL: "Florida", GA: "Georgia",
  HI: "Hawaii", ID: "Idaho", IL: "Illinois", IN: "Indiana", IA: "Iowa", KS: "Kansas", KY: "Kentucky",
  LA: "Louisiana", ME: "Maine", MD: "Maryland", MA: "Massachusetts", MI: "Michigan", MN: "Minnesota",
  MS: "Mississippi", MO: "Missouri", MT: "Montana", NE: "Nebraska", NV: "Nevada", NH: "New Hampshire",
  NJ: "New Jersey", NM: "New Mexico", NY: "New York", NC: "North Carolina", ND: "North Dakota",
  OH: "Ohio", OK: "Oklahoma", OR: "Oregon", PA: "Pennsylvania", RI: "Rhode Island",
  SC: "South Carolina", SD: "South Dakota", TN: "Tennessee", TX: "Texas", UT: "Utah", VT: "Vermont",
  VA: "Virginia", WA: "Washington", WV: "West Virginia", WI: "Wisconsin", WY: "Wyoming",
  PR: "Puerto Rico", GU: "Guam", VI: "U.S. Virgin Islands", AS: "American Samoa", MP: "Northern Mariana Islands",
};

function locationName(code) {
  if (!code) return "not given";
  return US_STATES[code] || code;
}
const CONSENT = {
  yes: ["Recording: yes", "good"],
  no: ["Recording: no", "neutral"],
  undecided: ["Recording: undecided", "neutral"],
};
const STATUS = {
  scheduled: "Scheduled",
  waiting: "Waiting",
  in_progress: "In visit",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "No-show",
};

function assignment(e) {
  if (e.clinician_id === null || e.clinician_id === undefined) return { kind: "pool", text: "Pool" };
  if (state.me && e.clinician_id === state.me.staff_id) return { kind: "mine", text: "Assigned to me" };
  const name = state.clinicians.get(e.clinician_id);
  return { kind: "colleague", text: name ? "Assigned to " + name : "Assigned to a colleague" };
}

// ---- rows ----

function makeRow(e) {
  const nameID = "name-" + e.visit_id;
  const r = {};
  r.name = el("h3", { class: "patient-name", id: nameID });
  r.wait = el("span", { class: "wait" });
  r.status = el("span", { class: "badge badge-status" });
  r.location = el("span", { class: "location-name" });
  r.identity = el("span", { class: "badge" });
  r.device = el("span", { class: "badge" });
  r.consent = el("span", { class: "badge" });
  r.assign = el("span", { class: "badge" });
  r.actions = el("div", { class: "actions", role: "group", "aria-labelledby": nameID });
  r.li = el(
    "li",
    { class: "entry", dataset: { visit: e.visit_id } },
    el(
      "article",
      { "aria-labelledby": nameID },
      el("div", { class: "entry-head" }, r.name, el("span", { class: "waited" }, "Waiting ", r.wait)),
      el(
        "div",
        { class: "facts" },
        r.status,
        el("p", { class: "location" }, el("span", { class: "location-label" }, "Location: "), r.location),
      ),
      el("p", { class: "badges" }, r.assign, r.identity, r.device, r.consent),
      r.actions,
    ),
  );
  r.actionsKey = null;
  return r;
}

function badge(span, text, tone) {
  span.textContent = text;
  span.className = "badge badge-" + tone;
}

function updateRow(r, e) {
  r.entry = e;
  if (r.name.textContent !== e.patient_name) r.name.textContent = e.patient_name;
  r.wait.textContent = formatWait(waitSeconds(e));
  r.status.textContent = STATUS[e.status] || e.status;
  r.location.textContent = locationName(e.location_state);
  badge(r.identity, e.identity_verified ? "Identity checked" : "Identity not checked", e.identity_verified ? "good" : "bad");
  const [vt, vtone] = deviceWords(e);
  badge(r.device, vt, vtone);
  const [ct, ctone] = CONSENT[e.recording_consent] || [e.recording_consent, "neutral"];
  badge(r.consent, ct, ctone);
  const a = assignment(e);
  badge(r.assign, a.text, a.kind === "mine" ? "mine" : a.kind === "pool" ? "pool" : "neutral");
  const busy = state.busy.has(e.visit_id);
  const key = a.kind + "|" + e.status + "|" + busy;
  if (key === r.actionsKey) return;
  // Keep focus on the same action when the buttons are rebuilt.
  const focused = r.actions.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  r.actionsKey = key;
  r.actions.replaceChildren();
  const nameID = "name-" + e.visit_id;
  const add = (action, text, cls = "") => {
    const b = el("button", { type: "button", class: cls, dataset: { action }, "aria-describedby": nameID }, text);
    b.disabled = busy;
    b.addEventListener("click", () => act(action, r.entry));
    r.actions.append(b);
  };
  if (a.kind === "colleague") {
    if (e.status === "waiting") add("message", "Message", "secondary");
    r.actions.append(el("span", { class: "note" }, "Another clinician's patient."));
  } else if (e.status === "waiting") {
    add("admit", "Admit");
    add("message", "Message", "secondary");
    if (a.kind === "pool") add("take", "Take", "secondary");
    add("handoff", "Hand off", "secondary");
    add("guest", "Invite guest", "secondary");
    add("noshow", "No-show", "danger-outline");
  } else if (e.status === "in_progress" && a.kind === "mine") {
    add("open", "Open the call");
    add("sendback", "Send back", "secondary");
    add("guest", "Invite guest", "secondary");
    add("complete", "Complete", "secondary");
  }
  if (focused) {
    const b = r.actions.querySelector('[data-action="' + focused + '"]');
    if (b && !b.disabled) b.focus();
    else $("queue-heading").focus();
  }
}

function render() {
  const list = $("queue");
  const seen = new Set();
  let prev = null;
  for (const e of state.entries) {
    seen.add(e.visit_id);
    let r = state.rows.get(e.visit_id);
    if (!r) {
      r = makeRow(e);
      state.rows.set(e.visit_id, r);
    }
    updateRow(r, e);
    // Move only rows that are out of place (moving a row drops its focus).
    const want = prev ? prev.li.nextSibling : list.firstChild;
    if (want !== r.li) list.insertBefore(r.li, want);
    prev = r;
  }
  for (const [id, r] of state.rows) {
    if (seen.has(id)) continue;
    if (r.li.contains(document.activeElement)) $("queue-heading").focus();
    r.li.remove();
    state.rows.delete(id);
  }
  const n = state.entries.length;
  $("count").textContent = "(" + n + ")";
  $("empty").hidden = n > 0;
}

// announceChanges tells screen-reader users who joined or left the queue
// and how many wait now (names are on screen anyway; never in the console).
function announceChanges(prev, next) {
  const before = new Map(prev.map((e) => [e.visit_id, e]));
  const after = new Set(next.map((e) => e.visit_id));
  const parts = [];
  if (state.lastCount !== null) {
    for (const e of next) if (!before.has(e.visit_id)) parts.push(e.patient_name + " joined the waiting room.");
    for (const e of prev) if (!after.has(e.visit_id)) parts.push(e.patient_name + " left the waiting room.");
  }
  if (parts.length === 0 && next.length === state.lastCount) return;
  state.lastCount = next.length;
  parts.push(next.length + " waiting.");
  announce(parts.join(" "));
}

function tick() {
  for (const r of state.rows.values()) {
    if (r.entry) r.wait.textContent = formatWait(waitSeconds(r.entry));
  }
}

// ---- actions ----

async function act(action, e) {
  const id = e.visit_id;
  const path = "/api/v1/visits/" + encodeURIComponent(id);
  switch (action) {
    case "admit":
      return post(id, path + "/admit", "The patient could not be admitted", () => {
        announce("Patient admitted. Opening the call.");
        location.assign("/call?visit=" + encodeURIComponent(id));
      });
    case "open":
      location.assign("/call?visit=" + encodeURIComponent(id));
      return;
    case "take":
      return post(id, path + "/take", "The visit could not be taken", () => announce("Visit taken. It is now assigned to you."));
    case "sendback":
      return post(id, path + "/send-back", "The patient could not be sent back", () => announce("Patient sent back to the waiting room."));
    case "complete":
      return post(id, path + "/complete", "The visit could not be completed", () => announce("Visit completed."));
    case "noshow":
      if (!(await confirmNoShow(id))) return;
      return post(id, path + "/no-show", "The visit could not be marked as a no-show", () => announce("Marked as no-show."));
    case "handoff":
      return handOff(e);
    case "guest":
      return inviteGuest(e);
    case "message":
      return writeMessage(e);
  }
}

async function post(id, path, failure, done, body) {
  showError("");
  state.busy.add(id);
  render();
  try {
    const r = await api("POST", path, body);
    if (r.ok) {
      done(r);
    } else {
      showError(await problemText(r, failure));
    }
  } catch (err) {
    if (err.message !== "signed out") showError(failure + ": the server could not be reached.");
  } finally {
    state.busy.delete(id);
    render();
  }
}

// openDialog shows a modal dialog for one row's action; when it closes,
// focus goes back to that action's button (or the queue heading when the
// row has gone).
function openDialog(dialog, opener, onClose) {
  dialog.addEventListener(
    "close",
    () => {
      onClose(dialog.returnValue);
      const b = opener && rowButton(opener.visit, opener.action);
      if (b && !b.disabled) b.focus();
      else $("queue-heading").focus();
    },
    { once: true },
  );
  dialog.returnValue = "";
  dialog.showModal();
}

function rowButton(visit, action) {
  const r = state.rows.get(visit);
  return r ? r.actions.querySelector('[data-action="' + action + '"]') : null;
}

function confirmNoShow(visit) {
  return new Promise((resolve) => {
    openDialog($("confirm-dialog"), { visit, action: "noshow" }, (v) => resolve(v === "ok"));
    $("confirm-cancel").focus();
  });
}

async function loadClinicians(clinicID) {
  if (state.cliniciansOf === clinicID) return;
  const r = await api("GET", "/api/v1/clinics/" + encodeURIComponent(clinicID) + "/clinicians");
  if (!r.ok) throw new Error(await problemText(r, "The clinicians could not be loaded"));
  const list = await r.json();
  state.clinicians = new Map((list.items || []).map((c) => [c.id, c.display_name]));
  state.cliniciansOf = clinicID;
}

async function handOff(e) {
  showError("");
  try {
    await loadClinicians(state.clinicID);
  } catch (err) {
    if (err.message !== "signed out") showError(err.message);
    return;
  }
  const sel = $("handoff-select");
  sel.replaceChildren();
  for (const [id, name] of state.clinicians) {
    if (state.me && id === state.me.staff_id) continue;
    if (id === e.clinician_id) continue;
    sel.append(el("option", { value: id }, name));
  }
  const none = sel.options.length === 0;
  $("handoff-none").hidden = !none;
  sel.hidden = none;
  $("handoff-ok").disabled = none;
  openDialog($("handoff-dialog"), { visit: e.visit_id, action: "handoff" }, (v) => {
    if (v === "ok" && sel.value) {
      const path = "/api/v1/visits/" + encodeURIComponent(e.visit_id) + "/hand-off";
      post(e.visit_id, path, "The visit could not be handed off", () => announce("Visit handed off."), { clinician_id: sel.value });
    }
  });
  if (!none) sel.focus();
}

let guestVisit = null;

function inviteGuest(e) {
  showError("");
  guestVisit = e.visit_id;
  $("guest-form").reset();
  $("guest-fields").hidden = false;
  $("guest-result").hidden = true;
  $("guest-url").value = "";
  $("guest-copied").textContent = "";
  $("guest-ok").hidden = false;
  $("guest-close").textContent = "Cancel";
  openDialog($("guest-dialog"), { visit: e.visit_id, action: "guest" }, () => {
    // The link is shown only once: forget it.
    $("guest-url").value = "";
    guestVisit = null;
  });
  $("guest-name").focus();
}

async function submitGuest(ev) {
  if (!ev.submitter || ev.submitter.value !== "ok") return; // Cancel closes the dialog
  ev.preventDefault();
  const name = $("guest-name").value.trim();
  if (!name) {
    $("guest-name").focus();
    return;
  }
  $("guest-ok").disabled = true;
  try {
    const r = await api("POST", "/api/v1/visits/" + encodeURIComponent(guestVisit) + "/guests", {
      display_name: name,
      role: $("guest-role").value,
    });
    if (r.status !== 201) {
      $("guest-dialog").close("failed");
      showError(await problemText(r, "The guest could not be invited"));
      return;
    }
    const link = await r.json();
    $("guest-fields").hidden = true;
    $("guest-result").hidden = false;
    $("guest-url").value = link.url;
    $("guest-ok").hidden = true;
    $("guest-close").textContent = "Done";
    $("guest-url").focus();
    $("guest-url").select();
    announce("Guest invited. The link is ready to copy.");
  } catch (err) {
    if (err.message !== "signed out") {
      $("guest-dialog").close("failed");
      showError("The guest could not be invited: the server could not be reached.");
    }
  } finally {
    $("guest-ok").disabled = false;
  }
}

async function copyGuestLink() {
  const input = $("guest-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  $("guest-copied").textContent = "Copied.";
}

// ---- messages to a waiting patient ----

const MESSAGE_ERRORS = {
  conflict: "The patient is no longer in the waiting room. The message was not sent.",
  invalid: "The message must be 1 to 500 characters of plain text.",
  forbidden: "You may not send this patient a message.",
};
const MESSAGE_WAIT_MS = 10000;

const message = { visit: null, ref: null, seq: 0, timer: null };

function writeMessage(e) {
  showError("");
  message.visit = e.visit_id;
  message.ref = null;
  $("message-form").reset();
  $("message-error").hidden = true;
  $("message-send").disabled = false;
  $("message-to").textContent = "To " + e.patient_name + ", waiting for their visit.";
  openDialog($("message-dialog"), { visit: e.visit_id, action: "message" }, (v) => {
    clearTimeout(message.timer);
    message.visit = null;
    message.ref = null;
    $("message-text").value = ""; // the text is PHI: keep it no longer than needed
    if (v === "sent") announce("Message sent.");
  });
  $("message-text").focus();
}

function messageFailed(text) {
  const box = $("message-error");
  box.textContent = text;
  box.hidden = false;
  $("message-send").disabled = false;
  $("message-text").focus();
}

function submitMessage(ev) {
  if (!ev.submitter || ev.submitter.value !== "ok") return; // Cancel closes the dialog
  ev.preventDefault();
  if (message.ref) return; // one under way
  const text = $("message-text").value.trim();
  if (!text) {
    messageFailed("Write a message first.");
    return;
  }
  $("message-error").hidden = true;
  $("message-send").disabled = true;
  const ref = "msg-" + ++message.seq;
  if (!sock.send({ type: "message_patient", id: ref, visit_id: message.visit, text })) {
    messageFailed("Not connected. Wait for the connection to come back, then send again.");
    return;
  }
  message.ref = ref;
  message.timer = setTimeout(() => {
    if (message.ref !== ref) return;
    message.ref = null;
    messageFailed("No answer from the server. The message may not have been sent.");
  }, MESSAGE_WAIT_MS);
}

// messageAnswered handles the answer to the message under way and reports
// whether msg was that answer.
function messageAnswered(msg) {
  if (!message.ref || msg.ref !== message.ref) return false;
  clearTimeout(message.timer);
  message.ref = null;
  if (msg.type === "message_sent") {
    $("message-dialog").close("sent");
  } else {
    messageFailed(MESSAGE_ERRORS[msg.code] || "The message could not be sent. Please try again.");
  }
  return true;
}

// ---- socket ----

function onMessage(msg) {
  switch (msg.type) {
    case "waiting_room":
      if (state.clinicID !== msg.clinic_id) {
        state.clinicID = msg.clinic_id;
        showClinic();
        loadClinicians(msg.clinic_id)
          .then(render)
          .catch(() => {});
      }
      {
        const prev = state.entries;
        state.entries = Array.isArray(msg.entries) ? msg.entries : [];
        state.receivedAt = performance.now();
        setState("live");
        render();
        announceChanges(prev, state.entries);
      }
      break;
    case "message_sent":
      messageAnswered(msg);
      break;
    case "link_locked":
      if (msg.clinic_id === state.clinicID) announce("A patient's link was locked after wrong answers.");
      break;
    case "error":
      if (messageAnswered(msg)) break;
      if (msg.code === "clinic_required") {
        showPicker(msg.clinics || []);
      } else if (msg.code === "forbidden") {
        showError("You may not watch this clinic's waiting room.");
      } else {
        showError(msg.message || "The server refused a request.");
      }
      break;
  }
}

function showClinic() {
  const name = state.clinics.get(state.clinicID);
  $("clinic-name").textContent = name || "";
  const sel = $("clinic-select");
  if (state.clinicID) sel.value = state.clinicID;
}

function showPicker(clinics) {
  const sel = $("clinic-select");
  sel.replaceChildren();
  for (const c of clinics) {
    state.clinics.set(c.id, c.name);
    sel.append(el("option", { value: c.id }, c.name));
  }
  $("clinic-form").hidden = false;
  if (!state.clinicID) {
    setState("picking");
    announce("Choose a clinic.");
    sel.focus();
  }
}

function chooseClinic(ev) {
  ev.preventDefault();
  const id = $("clinic-select").value;
  if (!id) return;
  hello.clinic_id = id;
  showError("");
  sock.send({ type: "subscribe_waiting_room", clinic_id: id });
}

function onSocketState(s) {
  if (s === "reconnecting") {
    $("banner").hidden = false;
    setState("reconnecting");
  } else if (s === "open") {
    $("banner").hidden = true;
    if (document.body.dataset.state === "reconnecting") setState(state.clinicID ? "live" : "connecting");
  }
}

function onClosed(code) {
  $("banner").hidden = true;
  if (code === 4401) {
    signIn();
    return;
  }
  setState("ended");
  showError(
    code === 4403
      ? "You may no longer use the waiting room. Please contact your administrator."
      : "The connection was closed. Please reload the page.",
  );
}

// ---- start ----

async function start() {
  const r = await fetch("/api/v1/me", { credentials: "same-origin" });
  if (r.status === 401) {
    setState("signin");
    signIn();
    return;
  }
  if (!r.ok) {
    setState("error");
    showError(await problemText(r, "You could not be signed in"));
    return;
  }
  state.me = await r.json();
  if (!(state.me.roles || []).includes("clinician")) {
    setState("forbidden");
    showError("The waiting room is for clinicians.");
    announce("");
    return;
  }
  try {
    const c = await api("GET", "/api/v1/clinics");
    if (c.ok) for (const cl of (await c.json()).items || []) state.clinics.set(cl.id, cl.name);
  } catch {
    // names are a nicety
  }
  $("clinic-form").addEventListener("submit", chooseClinic);
  $("guest-form").addEventListener("submit", submitGuest);
  $("guest-copy").addEventListener("click", copyGuestLink);
  $("message-form").addEventListener("submit", submitMessage);
  setState("connecting");
  announce("Connecting…");
  sock = openSocket({ hello, onMessage, onState: onSocketState, onClosed });
  window.consoleSocket = sock; // for tests: reconnect()
  setInterval(tick, 1000);
}

start().catch(() => {
  setState("error");
  showError("Something went wrong. Please reload the page.");
});
