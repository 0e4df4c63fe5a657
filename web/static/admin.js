// The admin's page at /admin: the clinic's EHR writes (state, the EHR's
// reason, retry), its EHR settings, its recording retention, the release
// requests waiting for a decision, and a visit's recordings (playback,
// release of information: every request of a recording, read from the
// server). Nothing here goes to the console; the EHR's diagnostics (which
// may echo PHI), request notes and presigned links are shown on the page
// only, never in the title, the URL or a log.

import { api as request, problemText as apiProblemText } from "/static/api.js";
import { loadClinics } from "/static/clinics.js";

const $ = (id) => document.getElementById(id);

const STATE_TEXT = { pending: "Pending", in_flight: "Sending", delivered: "Delivered", failed: "Failed" };
const KIND_TEXT = {
  encounter_status: "Encounter status",
  note_create: "Signed note",
  note_amend: "Note amendment",
  note_retract: "Note retraction",
};
const REQUEST_TEXT = { pending: "Pending", approved: "Approved", denied: "Denied" };

const page = {
  clinics: [],
  clinic: null,
  before: null, // next_before of the jobs list
  recordings: [],
  releases: new Map(), // recording id → its release requests as the server last listed them
  releaseSeq: new Map(), // recording id → number of the latest list request
};

function announce(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function setState(state, text, isError = false) {
  document.body.dataset.state = state;
  if (text !== undefined) announce(text, isError);
}

function signIn() {
  setState("signing_in", "Your session has ended. Taking you to sign in…");
  location.assign("/auth/login?return_to=" + encodeURIComponent("/admin"));
}

// problemText: a problem's detail is safe to show (docs/openapi.json,
// Problem): it never carries PHI.
function problemText(r, fallback) {
  if (r.status === 503) return "Recording storage is not configured or not reachable on this server.";
  return apiProblemText(r, fallback);
}

// api is the shared request helper, sending the admin to sign in on a 401.
function api(method, path, body) {
  return request(method, path, body, { onUnauthorized: signIn });
}

function fieldError(input, errorEl, text) {
  $(errorEl).textContent = text || "";
  if (text) $(input).setAttribute("aria-invalid", "true");
  else $(input).removeAttribute("aria-invalid");
}

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "data") Object.assign(e.dataset, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function clinicPath(suffix) {
  return `/api/v1/clinics/${encodeURIComponent(page.clinic.id)}/${suffix}`;
}

// ---- Start ----

async function start() {
  wire();
  const me = await api("GET", "/api/v1/me");
  if (me.status === 401) return; // signIn() is on its way
  if (me.status !== 200 || !me.data) {
    setState("error", problemText(me, "Your account could not be read."), true);
    return;
  }
  if (!(me.data.roles || []).includes("admin")) {
    setState("forbidden", "This page is for administrators. Your account is not an administrator.", true);
    return;
  }
  page.clinics = await loadClinics(api, "televisit.admin.clinic", (state, text) => setState(state, text, true));
  if (!page.clinics) return;
  const select = $("clinic");
  $("clinic-form").hidden = false;
  for (const id of ["jobs-section", "ehr-section", "retention-section", "queue-section", "recordings-section"]) {
    $(id).hidden = false;
  }
  await chooseClinic(select.value);
}

async function chooseClinic(id) {
  page.clinic = page.clinics.find((c) => c.id === id) || page.clinics[0];
  sessionStorage.setItem("televisit.admin.clinic", page.clinic.id);
  document.body.dataset.state = "loading";
  const results = await Promise.all([loadJobs(false), loadEHR(), loadRetention(), loadQueue()]);
  const failed = results.find((r) => r);
  if (failed) setState("error", failed, true);
  else setState("ready", jobsSummary());
}

function wire() {
  $("clinic").addEventListener("change", () => chooseClinic($("clinic").value));
  $("clinic-form").addEventListener("submit", (e) => e.preventDefault());
  $("job-state").addEventListener("change", () => refreshJobs());
  $("jobs-refresh").addEventListener("click", () => refreshJobs());
  $("jobs-form").addEventListener("submit", (e) => { e.preventDefault(); refreshJobs(); });
  $("jobs-more").addEventListener("click", async () => {
    const err = await loadJobs(true);
    if (err !== null) announce(err || jobsSummary(), !!err);
  });
  $("jobs-body").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action='retry']");
    if (b) retry(b);
  });
  $("ehr-form").addEventListener("submit", saveEHR);
  $("ehr-profile").addEventListener("change", syncProfile);
  $("retention-form").addEventListener("submit", saveRetention);
  $("recordings-form").addEventListener("submit", findRecordings);
  $("recordings-list").addEventListener("click", recordingAction);
  $("queue-list").addEventListener("click", queueAction);
  $("queue-refresh").addEventListener("click", refreshQueue);
  $("release-copy").addEventListener("click", () => copyLink());
}

// ---- EHR writes ----

function jobsSummary() {
  const n = $("jobs-body").children.length;
  const failed = $("jobs-body").querySelectorAll("tr[data-state='failed']").length;
  const shown = n === 1 ? "1 EHR write shown" : `${n} EHR writes shown`;
  return failed ? `${shown}, ${failed} failed.` : `${shown}.`;
}

async function refreshJobs() {
  document.body.dataset.state = "loading";
  const err = await loadJobs(false);
  if (err === null) return; // a later refresh answers instead
  setState(err ? "error" : "ready", err || jobsSummary(), !!err);
}

// loadJobs reads one page of jobs (more: the next, older page); it
// returns an error text, "", or null when a later load superseded it.
async function loadJobs(more) {
  const seq = page.jobsSeq = (page.jobsSeq || 0) + 1;
  const q = new URLSearchParams({ clinic_id: page.clinic.id, limit: "50" });
  const state = $("job-state").value;
  if (state) q.set("state", state);
  if (more && page.before) q.set("before", String(page.before));
  const r = await api("GET", "/api/v1/ehr/jobs?" + q);
  if (seq !== page.jobsSeq) return null;
  if (r.status !== 200 || !r.data) return problemText(r, "The EHR writes could not be read.");
  const rows = (r.data.items || []).map(jobRow);
  if (more) $("jobs-body").append(...rows);
  else $("jobs-body").replaceChildren(...rows);
  page.before = r.data.next_before;
  $("jobs-more").hidden = !page.before;
  const empty = $("jobs-body").children.length === 0;
  $("jobs-empty").hidden = !empty;
  $("jobs-table").hidden = empty;
  return "";
}

function jobRow(j) {
  const tr = el("tr", { data: { job: String(j.id), state: j.state } });
  const visit = el("td", { class: "mono", title: j.visit_id }, j.visit_id.slice(0, 8));
  let kind = KIND_TEXT[j.kind] || j.kind;
  if (j.encounter_status) kind += ` (${j.encounter_status})`;
  if (j.note_version) kind += ` v${j.note_version}`;
  const badge = el("span", { class: `badge job-${j.state}` }, STATE_TEXT[j.state] || j.state);
  const err = el("td", { class: "job-error" });
  if (j.last_error && j.state !== "delivered") err.append(el("span", {}, j.last_error));
  if (j.state === "delivered" && j.fhir_ref) err.append(el("span", { class: "note" }, j.fhir_ref));
  if ((j.outcome || []).length) err.append(outcomeDetails(j.outcome));
  const act = el("td", { class: "actions" });
  if (j.state === "failed") {
    act.append(el("button", { type: "button", class: "secondary", data: { action: "retry", job: String(j.id) },
      textContent: "Retry", ariaLabel: `Retry write ${j.id}` }));
  }
  tr.append(
    visit,
    el("td", {}, kind),
    el("td", {}, badge),
    el("td", { class: "num" }, String(j.attempts)),
    el("td", {}, jobWhen(j)),
    err,
    act,
  );
  // On a phone the table stacks into cards; each cell shows its column's name.
  ["Visit", "Write", "State", "Attempts", "When", "Error or result", ""].forEach((label, i) => {
    if (label) tr.children[i].dataset.label = label;
  });
  return tr;
}

function jobWhen(j) {
  if (j.state === "delivered") return `Delivered ${when(j.delivered_at)}`;
  if (j.state === "failed") return "Waits for a retry";
  if (j.state === "in_flight") return "Being sent";
  return `Next try ${when(j.next_attempt_at)}`;
}

// outcomeDetails shows the EHR's OperationOutcome issues (admins only:
// diagnostics may echo what was sent).
function outcomeDetails(issues) {
  const ul = el("ul", { class: "issues" });
  for (const is of issues) {
    const where = (is.expression || []).join(", ");
    const text = [`${is.severity} ${is.code}`, where, is.diagnostics].filter(Boolean).join(": ");
    ul.append(el("li", {}, text));
  }
  return el("details", {}, el("summary", {}, "The EHR's answer"), ul);
}

async function retry(button) {
  const id = button.dataset.job;
  button.disabled = true;
  announce(`Retrying write ${id}…`);
  const r = await api("POST", `/api/v1/ehr/jobs/${encodeURIComponent(id)}/retry`);
  if (r.status !== 200 || !r.data) {
    button.disabled = false;
    announce(problemText(r, "The write could not be retried."), true);
    return;
  }
  const row = button.closest("tr");
  const next = jobRow(r.data);
  row.replaceWith(next);
  next.querySelector("td").tabIndex = -1;
  next.querySelector("td").focus();
  announce(`Write ${id} is pending again and will be sent shortly.`);
}

// ---- EHR settings ----

async function loadEHR() {
  const r = await api("GET", clinicPath("ehr"));
  if (r.status !== 200 || !r.data) return problemText(r, "The clinic's EHR settings could not be read.");
  fillEHR(r.data);
  return "";
}

function fillEHR(s) {
  $("ehr-profile").value = s.profile;
  $("ehr-endpoint").value = s.endpoint || "";
  $("ehr-system").value = s.identifier_system || "";
  syncProfile();
}

function syncProfile() {
  const none = $("ehr-profile").value === "none";
  $("ehr-endpoint").required = !none;
  $("ehr-system").required = !none;
}

async function saveEHR(e) {
  e.preventDefault();
  $("ehr-form-error").textContent = "";
  fieldError("ehr-endpoint", "ehr-endpoint-error", "");
  fieldError("ehr-system", "ehr-system-error", "");
  const body = { profile: $("ehr-profile").value };
  if (body.profile !== "none") {
    body.endpoint = $("ehr-endpoint").value.trim();
    body.identifier_system = $("ehr-system").value.trim();
    let bad = false;
    if (!body.endpoint) { fieldError("ehr-endpoint", "ehr-endpoint-error", "Enter the endpoint name."); bad = true; }
    if (!body.identifier_system) { fieldError("ehr-system", "ehr-system-error", "Enter the identifier system."); bad = true; }
    if (bad) {
      announce("Check the EHR settings.", true);
      return;
    }
  }
  $("ehr-save").disabled = true;
  const r = await api("PUT", clinicPath("ehr"), body);
  $("ehr-save").disabled = false;
  if (r.status !== 200 || !r.data) {
    const text = problemText(r, "The EHR settings could not be saved.");
    const field = r.data && r.data.field;
    if (field === "endpoint") fieldError("ehr-endpoint", "ehr-endpoint-error", text);
    else if (field === "identifier_system") fieldError("ehr-system", "ehr-system-error", text);
    else $("ehr-form-error").textContent = text;
    announce("The EHR settings were not saved.", true);
    return;
  }
  fillEHR(r.data);
  announce("EHR settings saved.");
}

// ---- Recording retention ----

async function loadRetention() {
  const r = await api("GET", clinicPath("recording-retention"));
  if (r.status !== 200 || !r.data) return problemText(r, "The clinic's recording retention could not be read.");
  fillRetention(r.data);
  return "";
}

function fillRetention(p) {
  $("retention-days").value = String(p.days);
  $("mode-governance").checked = p.mode === "GOVERNANCE";
  $("mode-compliance").checked = p.mode === "COMPLIANCE";
  $("retention-source").textContent = p.source === "clinic"
    ? `Set for this clinic on ${when(p.updated_at)}.`
    : "The server's default: not set for this clinic yet.";
}

async function saveRetention(e) {
  e.preventDefault();
  $("retention-form-error").textContent = "";
  fieldError("retention-days", "retention-days-error", "");
  const days = Number($("retention-days").value);
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    fieldError("retention-days", "retention-days-error", "Enter a whole number of days from 1 to 36500.");
    announce("Check the retention.", true);
    return;
  }
  const mode = $("mode-compliance").checked ? "COMPLIANCE" : $("mode-governance").checked ? "GOVERNANCE" : "";
  if (!mode) {
    $("retention-form-error").textContent = "Choose a mode.";
    announce("Check the retention.", true);
    return;
  }
  $("retention-save").disabled = true;
  const r = await api("PUT", clinicPath("recording-retention"), { days, mode });
  $("retention-save").disabled = false;
  if (r.status !== 200 || !r.data) {
    const text = problemText(r, "The retention could not be saved.");
    if (r.data && r.data.field === "days") fieldError("retention-days", "retention-days-error", text);
    else $("retention-form-error").textContent = text;
    announce("The retention was not saved.", true);
    return;
  }
  fillRetention(r.data);
  const unit = r.data.days === 1 ? "day" : "days";
  announce(`Retention saved: ${r.data.days} ${unit}, ${r.data.mode === "COMPLIANCE" ? "compliance" : "governance"} mode.`);
}

// ---- Recordings of a visit ----

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function findRecordings(e) {
  if (e) e.preventDefault();
  const visit = $("rec-visit").value.trim();
  fieldError("rec-visit", "rec-visit-error", "");
  if (!UUID.test(visit)) {
    fieldError("rec-visit", "rec-visit-error", "Enter the visit's id, for example 3f0c…-…; copy it from the EHR writes.");
    announce("Check the visit id.", true);
    return;
  }
  announce("Reading the visit's recordings…");
  const r = await api("GET", "/api/v1/recordings?visit_id=" + encodeURIComponent(visit));
  if (r.status !== 200 || !r.data) {
    $("recordings-list").replaceChildren();
    announce(problemText(r, "The recordings could not be read."), true);
    return;
  }
  page.recordings = r.data.items || [];
  page.releases.clear();
  renderRecordings();
  await Promise.all(page.recordings.map((rec) => loadReleases(rec.id)));
  const n = page.recordings.length;
  announce(n === 0 ? "This visit has no recordings." : n === 1 ? "1 recording." : `${n} recordings.`);
}

function renderRecordings() {
  const out = page.recordings.map((rec, i) => {
    const h = el("h3", { id: `rec-${i}` }, `Recording ${i + 1}: ${rec.state}${rec.stop_reason ? ` (${rec.stop_reason})` : ""}`);
    const sec = el("section", { class: "recording", data: { recording: rec.id } }, h);
    sec.setAttribute("aria-labelledby", h.id);
    sec.append(el("p", { class: "note" }, `Started ${when(rec.started_at)}, stopped ${when(rec.stopped_at)}.`));
    const ul = el("ul", { class: "objects" });
    for (const o of rec.objects || []) ul.append(objectItem(rec, o));
    if (!(rec.objects || []).length) ul.append(el("li", { class: "note" }, "No files."));
    sec.append(ul, releaseBlock(rec));
    return sec;
  });
  $("recordings-list").replaceChildren(...out);
}

function objectItem(rec, o) {
  const who = o.participant_id === "" ? "Manifest" : o.participant_id === "patient" ? "Patient" :
    o.participant_id.startsWith("clinician:") ? "Clinician" : o.participant_id.startsWith("guest:") ? "Guest" : "Participant";
  const size = o.size == null ? "uploading" : `${(o.size / 1048576).toFixed(1)} MiB`;
  const li = el("li", {}, el("span", {}, `${who}: ${o.state}, ${size}, kept until ${when(o.retain_until)}`));
  if (o.state === "stored" && o.participant_id !== "") {
    li.append(el("button", { type: "button", class: "secondary", textContent: "Play",
      ariaLabel: `Play the ${who.toLowerCase()}'s file`, data: { action: "play", recording: rec.id, object: o.id } }));
  }
  return li;
}

function releaseBlock(rec) {
  const box = el("div", { class: "release", data: { releases: rec.id } });
  const headingID = `release-heading-${rec.id}`;
  box.append(el("h4", { id: headingID }, "Release of information"));
  const ul = el("ul", { class: "objects releases", id: `releases-${rec.id}` });
  ul.setAttribute("aria-labelledby", headingID);
  box.append(ul);
  const noteID = `release-note-${rec.id}`;
  box.append(
    el("label", { htmlFor: noteID }, "How the patient asked (optional)"),
    el("input", { id: noteID, type: "text", maxLength: 1000, autocomplete: "off" }),
    el("button", { type: "button", class: "secondary", textContent: "Record the patient's request",
      data: { action: "request", recording: rec.id } }),
  );
  fillReleases(rec.id, ul);
  return box;
}

// loadReleases reads a recording's release requests from the server (all
// of them, whoever recorded them) and shows them; a later call wins.
async function loadReleases(recID) {
  const seq = (page.releaseSeq.get(recID) || 0) + 1;
  page.releaseSeq.set(recID, seq);
  const r = await api("GET", `/api/v1/recordings/${encodeURIComponent(recID)}/release-requests`);
  if (page.releaseSeq.get(recID) !== seq) return;
  if (r.status !== 200 || !r.data) page.releases.set(recID, { error: problemText(r, "The release requests could not be read.") });
  else page.releases.set(recID, r.data.items || []);
  const ul = $(`releases-${recID}`);
  if (ul) fillReleases(recID, ul);
}

function fillReleases(recID, ul) {
  const list = page.releases.get(recID);
  if (list === undefined) {
    ul.replaceChildren(el("li", { class: "note" }, "Reading the release requests…"));
  } else if (list.error) {
    ul.replaceChildren(el("li", { class: "error" }, list.error));
  } else if (list.length === 0) {
    ul.replaceChildren(el("li", { class: "note" }, "No requests for a copy."));
  } else {
    ul.replaceChildren(...list.map((q) => releaseItem(recID, q)));
  }
}

function releaseItem(recID, q) {
  const li = el("li", { class: "release-request", data: { request: q.id, state: q.state } });
  const text = el("div", { class: "release-text" }, el("span", {}, `Patient's request of ${when(q.requested_at)}: `,
    el("span", { class: `badge release-${q.state}` }, REQUEST_TEXT[q.state] || q.state)));
  const facts = [`Recorded by staff ${shortID(q.recorded_by)}`];
  if (q.decided_at) facts.push(`${REQUEST_TEXT[q.state] || q.state} by staff ${shortID(q.decided_by)} on ${when(q.decided_at)}`);
  if (q.links_issued) facts.push(q.links_issued === 1 ? "1 link issued" : `${q.links_issued} links issued`);
  text.append(el("span", { class: "note" }, facts.join(" · ")));
  if (q.note) text.append(el("span", { class: "release-note" }, `Note: ${q.note}`));
  li.append(text);
  const data = { recording: recID, request: q.id };
  const asked = when(q.requested_at);
  if (q.state === "pending") {
    li.append(el("button", { type: "button", textContent: "Approve", ariaLabel: `Approve the request of ${asked}`,
      data: { ...data, action: "approve" } }),
    el("button", { type: "button", class: "secondary danger-text", textContent: "Deny",
      ariaLabel: `Deny the request of ${asked}`, data: { ...data, action: "deny" } }));
  } else if (q.state === "approved") {
    li.append(el("button", { type: "button", textContent: "Get link", ariaLabel: `Get link for the request of ${asked}`,
      data: { ...data, action: "link" } }));
  }
  return li;
}

// shortID is the start of a staff id (not PHI), enough to tell people apart.
function shortID(id) {
  return id ? String(id).slice(0, 8) : "—";
}

async function recordingAction(e) {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  const rec = encodeURIComponent(b.dataset.recording);
  b.disabled = true;
  try {
    switch (b.dataset.action) {
      case "play": return await play(rec, encodeURIComponent(b.dataset.object));
      case "request": return await requestRelease(b.dataset.recording);
      case "approve":
      case "deny": return await decide(b.dataset.recording, b.dataset.request, b.dataset.action);
      case "link": return await releaseLink(b.dataset.recording, b.dataset.request);
    }
  } finally {
    b.disabled = false;
  }
}

async function play(rec, obj) {
  announce("Getting a playback link…");
  const r = await api("POST", `/api/v1/recordings/${rec}/objects/${obj}/playback`);
  if (r.status !== 200 || !r.data) {
    announce(problemText(r, "The recording cannot be played."), true);
    return;
  }
  // The link is the access itself: it goes on the page only. A <video>
  // source the server's CSP does not allow would be blocked and the
  // browser would print the link in its console, so the page plays inline
  // only when media-src allows the store; otherwise it offers a new tab.
  const url = r.data.url;
  const inline = await mediaAllowed(url);
  $("player-box").hidden = false;
  $("player").hidden = !inline;
  $("player-open").href = url;
  if (inline) {
    $("player").src = url;
    $("player").focus();
    announce("Playing the recording.");
  } else {
    $("player").removeAttribute("src");
    $("player-open").focus();
    announce("The recording is ready: open it in a new tab.");
  }
}

// mediaAllowed reports whether the page's Content-Security-Policy lets a
// <video> load url (media-src, or default-src without it).
async function mediaAllowed(url) {
  if (page.mediaSources === undefined) {
    page.mediaSources = [];
    try {
      const resp = await fetch("/admin", { method: "HEAD", credentials: "same-origin" });
      const dirs = (resp.headers.get("Content-Security-Policy") || "").split(";").map((d) => d.trim().split(/\s+/));
      const pick = dirs.find((d) => d[0] === "media-src") || dirs.find((d) => d[0] === "default-src");
      if (pick) page.mediaSources = pick.slice(1);
    } catch {
      page.mediaSources = [];
    }
  }
  const u = new URL(url, location.href);
  return page.mediaSources.some((src) => src === "*" || src === u.protocol ||
    (src === "'self'" && u.origin === location.origin) || src.replace(/\/$/, "") === u.origin);
}

async function requestRelease(recID) {
  const body = { requester: "patient" };
  const input = $(`release-note-${recID}`);
  const note = input.value.trim();
  if (note) body.note = note;
  const r = await api("POST", `/api/v1/recordings/${encodeURIComponent(recID)}/release-requests`, body);
  if (r.status !== 201 || !r.data) {
    announce(problemText(r, "The request could not be recorded."), true);
    return;
  }
  input.value = "";
  await Promise.all([loadReleases(recID), loadQueue()]);
  announce("The patient's request is recorded and waits for approval.");
}

async function decide(recID, reqID, action) {
  const r = await api("POST",
    `/api/v1/recordings/${encodeURIComponent(recID)}/release-requests/${encodeURIComponent(reqID)}/${action}`);
  if (r.status !== 200 || !r.data) {
    announce(problemText(r, "The request could not be decided."), true);
    await loadReleases(recID); // someone else may have decided it
    return;
  }
  await Promise.all([loadReleases(recID), loadQueue()]);
  const next = document.querySelector(`#releases-${CSS.escape(recID)} li[data-request="${CSS.escape(reqID)}"] button`);
  if (next) next.focus();
  announce(action === "approve" ? "Request approved. Get a link when the patient is ready." : "Request denied.");
}

async function releaseLink(recID, reqID) {
  const r = await api("GET",
    `/api/v1/recordings/${encodeURIComponent(recID)}/release-requests/${encodeURIComponent(reqID)}/link`);
  if (r.status !== 200 || !r.data) {
    announce(problemText(r, "No link could be issued."), true);
    return;
  }
  $("release-box").hidden = false;
  $("release-url").value = r.data.url;
  $("release-url").focus();
  $("release-url").select();
  announce(`Link issued; it expires at ${when(r.data.expires_at)}.`);
}

// ---- Release requests waiting for a decision ----

async function refreshQueue() {
  const err = await loadQueue();
  if (err !== null) announce(err || queueSummary(), !!err);
}

function queueSummary() {
  const n = $("queue-list").querySelectorAll("li[data-request]").length;
  return n === 0 ? "No release requests wait for a decision." :
    n === 1 ? "1 release request waits for a decision." : `${n} release requests wait for a decision.`;
}

// loadQueue reads the clinic's pending release requests; it returns an
// error text, "", or null when a later load superseded it.
async function loadQueue() {
  const seq = page.queueSeq = (page.queueSeq || 0) + 1;
  const q = new URLSearchParams({ state: "pending", clinic_id: page.clinic.id });
  const r = await api("GET", "/api/v1/release-requests?" + q);
  if (seq !== page.queueSeq) return null;
  if (r.status !== 200 || !r.data) return problemText(r, "The release requests could not be read.");
  const items = r.data.items || [];
  $("queue-list").replaceChildren(...items.map(queueItem));
  $("queue-list").hidden = items.length === 0;
  $("queue-summary").textContent = queueSummary();
  return "";
}

function queueItem(it) {
  const q = it.request;
  const li = el("li", { data: { request: q.id, visit: it.visit_id } });
  const text = el("div", { class: "release-text" },
    el("span", {}, `Patient's request of ${when(q.requested_at)}, visit `,
      el("span", { class: "mono", title: it.visit_id }, it.visit_id.slice(0, 8))),
    el("span", { class: "note" }, `Recorded by staff ${shortID(q.recorded_by)}`));
  if (q.note) text.append(el("span", { class: "release-note" }, `Note: ${q.note}`));
  li.append(text, el("button", { type: "button", class: "secondary", textContent: "Show the recording",
    ariaLabel: `Show the recording of the request of ${when(q.requested_at)}`,
    data: { action: "show-release", visit: it.visit_id } }));
  return li;
}

async function queueAction(e) {
  const b = e.target.closest("button[data-action='show-release']");
  if (!b) return;
  $("rec-visit").value = b.dataset.visit;
  await findRecordings();
  $("recordings-heading").tabIndex = -1;
  $("recordings-heading").focus();
}

async function copyLink() {
  try {
    await navigator.clipboard.writeText($("release-url").value);
    announce("Link copied.");
  } catch {
    $("release-url").select();
    announce("Copying is not allowed here: the link is selected, copy it with the keyboard.", true);
  }
}

start();
