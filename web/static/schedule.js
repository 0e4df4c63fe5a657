// The scheduler's page at /schedule: a day of a clinic's visits by
// clinician, and the forms to create, reschedule and cancel visits and to
// issue, send and revoke patient links. PHI (patient names, dates of birth,
// contacts) is shown on the page only: never in the title, the URL or the
// console. An issued link is shown once and never stored.

import { api as request, problemText } from "/static/api.js";
import { loadClinics } from "/static/clinics.js";

const $ = (id) => document.getElementById(id);

const STATUS_TEXT = {
  scheduled: "Scheduled",
  waiting: "Waiting",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
  no_show: "No-show",
};
const LINK_TEXT = {
  none: "No link",
  active: "Link active",
  expired: "Link expired",
  revoked: "Link revoked",
  locked: "Link locked",
};

// Problem fields of the API → the inputs of the create form.
const VISIT_FIELDS = {
  "patient.name": "v-name",
  "patient.date_of_birth": "v-dob",
  "patient.email": "v-email",
  "patient.phone": "v-phone",
  clinician_id: "v-clinician",
  starts_at: "v-time",
  duration_minutes: "v-duration",
  reason: "v-reason",
};
const RESCHEDULE_FIELDS = {
  clinician_id: "r-clinician",
  to_pool: "r-clinician",
  starts_at: "r-time",
  duration_minutes: "r-duration",
};

const page = {
  clinics: [],
  clinic: null,
  clinicians: [],
  visits: new Map(), // id → visit, of the day shown
  current: null, // the visit a dialog acts on
};

// announce puts text in the page's live region and, while a modal dialog
// is open (the rest of the page is inert then), in the dialog's own.
function announce(text, isError = false) {
  const regions = [$("status")];
  const open = document.querySelector("dialog[open] .dialog-status");
  if (open) regions.push(open);
  for (const st of regions) {
    st.textContent = text;
    st.classList.toggle("error", isError);
  }
}

function setState(state, text, isError = false) {
  document.body.dataset.state = state;
  if (text !== undefined) announce(text, isError);
}

// api is the shared request helper, sending the scheduler to sign in on a 401.
function api(method, path, body) {
  return request(method, path, body, { onUnauthorized: signIn });
}

function signIn() {
  setState("signing_in", "Your session has ended. Taking you to sign in…");
  location.assign("/auth/login?return_to=" + encodeURIComponent("/schedule"));
}

// ---- Time in the clinic's time zone ----

function tz() {
  return (page.clinic && page.clinic.timezone) || undefined;
}

function partsIn(date, timeZone) {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = {};
  for (const { type, value } of f.formatToParts(date)) p[type] = value;
  return p;
}

// dateIn is YYYY-MM-DD of date in the clinic's time zone.
function dateIn(date) {
  const p = partsIn(date, tz());
  return `${p.year}-${p.month}-${p.day}`;
}

function timeIn(date) {
  const p = partsIn(date, tz());
  return `${p.hour}:${p.minute}`;
}

function offsetAt(ms, timeZone) {
  const p = partsIn(new Date(ms), timeZone);
  const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUTC - Math.floor(ms / 1000) * 1000;
}

// zonedToISO turns a wall-clock date and time in the clinic's time zone
// into an RFC 3339 instant, or "" when they are not valid.
function zonedToISO(day, time) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const t = /^(\d{2}):(\d{2})/.exec(time);
  if (!d || !t) return "";
  const wall = Date.UTC(+d[1], +d[2] - 1, +d[3], +t[1], +t[2]);
  let ms = wall - offsetAt(wall, tz());
  const again = wall - offsetAt(ms, tz());
  if (again !== ms) ms = again;
  return new Date(ms).toISOString();
}

function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const dt = new Date(Date.UTC(y, m - 1, d + n));
  return dt.toISOString().slice(0, 10);
}

function longDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12)).toLocaleDateString(undefined, {
    timeZone: "UTC", weekday: "long", year: "numeric", month: "long", day: "numeric",
  });
}

function clinicianName(id) {
  if (!id) return "Unassigned";
  const c = page.clinicians.find((x) => x.id === id);
  return c ? c.display_name : "Another clinician";
}

function summary(v) {
  return `${timeIn(new Date(v.starts_at))}, ${v.duration_minutes} min, ${v.patient.name} (${clinicianName(v.clinician_id)})`;
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
  const roles = me.data.roles || [];
  if (me.data.kind !== "staff" && me.data.kind !== "api_client") {
    setState("forbidden", "This page is for clinic staff.", true);
    return;
  }
  if (!roles.includes("scheduler") && !roles.includes("admin")) {
    setState("forbidden", "This page is for schedulers. Your account cannot schedule visits.", true);
    return;
  }
  page.clinics = await loadClinics(api, "televisit.schedule.clinic", (state, text) => setState(state, text, true));
  if (!page.clinics) return;
  const select = $("clinic");
  $("day-form").hidden = false;
  await chooseClinic(select.value, true);
}

async function chooseClinic(id, resetDay) {
  page.clinic = page.clinics.find((c) => c.id === id) || page.clinics[0];
  sessionStorage.setItem("televisit.schedule.clinic", page.clinic.id);
  if (resetDay || !$("day").value) $("day").value = dateIn(new Date());
  const r = await api("GET", `/api/v1/clinics/${encodeURIComponent(page.clinic.id)}/clinicians`);
  if (r.status !== 200 || !r.data) {
    setState("error", problemText(r, "The clinic's clinicians could not be read."), true);
    return;
  }
  page.clinicians = r.data.items || [];
  for (const sel of [$("v-clinician"), $("r-clinician")]) {
    sel.replaceChildren(new Option("Unassigned (clinic pool)", ""));
    for (const c of page.clinicians) sel.append(new Option(c.display_name, c.id));
  }
  const zone = page.clinic.timezone;
  $("v-tz-hint").textContent = `Times are in the clinic's time zone (${zone}).`;
  await loadDay();
}

// ---- Day view ----

async function loadDay(message) {
  const day = $("day").value;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    setState("ready", "Choose a day.", true);
    return;
  }
  document.body.dataset.state = "loading";
  const r = await api("GET",
    `/api/v1/clinics/${encodeURIComponent(page.clinic.id)}/visits?date=${encodeURIComponent(day)}`);
  if (r.status !== 200 || !r.data) {
    setState("error", problemText(r, "The visits could not be read."), true);
    return;
  }
  const list = r.data.items || [];
  page.visits = new Map(list.map((v) => [v.id, v]));
  page.loadedAt = performance.now();
  render(day, list);
  $("day-view").hidden = false;
  const count = list.length === 1 ? "1 visit" : `${list.length} visits`;
  setState("ready", message || `${count} on ${longDay(day)}.`);
}

function render(day, list) {
  $("day-heading").textContent = `Visits on ${longDay(day)}`;
  const groups = [];
  for (const c of page.clinicians) groups.push({ id: c.id, name: c.display_name, visits: [] });
  const other = { id: "other", name: "Other clinicians", visits: [] };
  const pool = { id: "pool", name: "Unassigned", visits: [] };
  for (const v of list) {
    if (!v.clinician_id) pool.visits.push(v);
    else (groups.find((g) => g.id === v.clinician_id) || other).visits.push(v);
  }
  if (other.visits.length) groups.push(other);
  groups.push(pool);

  const out = [];
  groups.forEach((g, gi) => {
    const sec = document.createElement("section");
    sec.className = "group";
    sec.dataset.group = g.id;
    const h = document.createElement("h3");
    h.id = `group-${gi}`;
    h.textContent = g.name;
    sec.setAttribute("aria-labelledby", h.id);
    sec.append(h);
    if (g.visits.length === 0) {
      const p = document.createElement("p");
      p.className = "note";
      p.textContent = "No visits.";
      sec.append(p);
    } else {
      const ul = document.createElement("ul");
      ul.className = "visits";
      for (const v of g.visits) ul.append(row(v));
      sec.append(ul);
    }
    out.push(sec);
  });
  $("groups").replaceChildren(...out);
}

function row(v) {
  const li = document.createElement("li");
  li.className = "visit";
  li.dataset.visitId = v.id;
  li.dataset.status = v.status;
  li.dataset.link = v.link.state;

  const who = document.createElement("p");
  who.className = "who";
  who.id = `visit-${v.id}`;
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = timeIn(new Date(v.starts_at));
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = v.patient.name;
  who.append(time, " ", name);

  const meta = document.createElement("p");
  meta.className = "meta";
  const dur = document.createElement("span");
  dur.textContent = `${v.duration_minutes} min`;
  const status = document.createElement("span");
  status.className = `badge status-${v.status}`;
  status.textContent = STATUS_TEXT[v.status] || v.status;
  const link = document.createElement("span");
  link.className = `badge link-${v.link.state}`;
  link.textContent = LINK_TEXT[v.link.state] || v.link.state;
  meta.append(dur, " ", status, " ", link);

  const actions = document.createElement("div");
  actions.className = "actions";
  const open = v.status === "scheduled" || v.status === "waiting";
  const add = (action, text) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = action === "cancel" ? "secondary danger-text" : "secondary";
    b.dataset.action = action;
    b.dataset.visitId = v.id;
    b.textContent = text;
    b.setAttribute("aria-describedby", who.id);
    actions.append(b);
  };
  if (open) add("link", v.link.state === "active" ? "New link" : "Link");
  if (open && v.link.state === "active") add("revoke", "Revoke link");
  if (v.status === "scheduled") add("reschedule", "Reschedule");
  if (open) add("cancel", "Cancel");

  li.append(who, meta);
  if (actions.childElementCount) li.append(actions);
  return li;
}

// ---- Forms and dialogs ----

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const top = form.querySelector('[role="alert"]');
  if (top) top.textContent = "";
}

function fieldError(id, text) {
  const input = $(id);
  input.setAttribute("aria-invalid", "true");
  $(`${id}-error`).textContent = text;
  return input;
}

// showProblem puts a problem's text next to its field (or on top of the
// form) and moves the focus there.
function showProblem(form, fields, r, fallback) {
  const text = problemText(r, fallback);
  const id = r.data && r.data.field && fields[r.data.field];
  if (id) {
    fieldError(id, text).focus();
  } else {
    form.querySelector('[role="alert"]').textContent = text;
  }
  announce(id ? `Please correct the highlighted field: ${text}` : text, true);
}

let opener = null;

function openDialog(id) {
  opener = document.activeElement;
  const d = $(id);
  d.showModal();
  document.body.dataset.dialog = id;
}

function closeDialog(d) {
  if (d.open) d.close();
}

function onDialogClosed(d) {
  delete document.body.dataset.dialog;
  for (const st of d.querySelectorAll(".dialog-status")) st.textContent = "";
  if (d.id === "link-dialog") forgetLink();
  // Restore the focus to the button that opened the dialog, or to the
  // same action of the re-rendered row.
  let target = opener;
  if (target && !target.isConnected && target.dataset && target.dataset.visitId) {
    target = document.querySelector(`button[data-visit-id="${target.dataset.visitId}"][data-action="${target.dataset.action}"]`) ||
      document.querySelector(`li[data-visit-id="${target.dataset.visitId}"] button`);
  }
  if (target && target.isConnected) target.focus();
  opener = null;
}

function newVisit() {
  const form = $("visit-form");
  form.reset();
  clearErrors(form);
  $("v-date").value = $("day").value || dateIn(new Date());
  const next = new Date(Math.ceil(Date.now() / 1800000) * 1800000);
  $("v-time").value = dateIn(next) === $("v-date").value ? timeIn(next) : "09:00";
  $("v-duration").value = "30";
  openDialog("visit-dialog");
  $("v-name").focus();
}

async function submitVisit(ev) {
  ev.preventDefault();
  const form = $("visit-form");
  clearErrors(form);
  let bad = null;
  const need = (id, ok, text) => {
    if (!ok) {
      const el = fieldError(id, text);
      bad = bad || el;
    }
  };
  const name = $("v-name").value.trim();
  need("v-name", name !== "", "Enter the patient's full name.");
  need("v-dob", $("v-dob").value.trim() !== "", "Enter the date of birth as YYYY-MM-DD.");
  need("v-date", /^\d{4}-\d{2}-\d{2}$/.test($("v-date").value), "Choose the date.");
  need("v-time", /^\d{2}:\d{2}/.test($("v-time").value), "Choose the start time.");
  const dur = Number($("v-duration").value);
  need("v-duration", Number.isInteger(dur) && dur > 0, "Enter the length in minutes.");
  if (bad) {
    bad.focus();
    announce("Please correct the highlighted fields.", true);
    return;
  }
  const patient = { name, date_of_birth: $("v-dob").value.trim() };
  const email = $("v-email").value.trim();
  const phone = $("v-phone").value.trim().replace(/[\s()-]/g, "");
  if (email) patient.email = email;
  if (phone) patient.phone = phone;
  const body = {
    clinic_id: page.clinic.id,
    starts_at: zonedToISO($("v-date").value, $("v-time").value),
    duration_minutes: dur,
    patient,
  };
  if ($("v-clinician").value) body.clinician_id = $("v-clinician").value;
  const reason = $("v-reason").value.trim();
  if (reason) body.reason = reason;

  $("v-submit").disabled = true;
  announce("Creating the visit…");
  const r = await api("POST", "/api/v1/visits", body);
  $("v-submit").disabled = false;
  if (r.status !== 201 || !r.data) {
    showProblem(form, VISIT_FIELDS, r, "The visit could not be created.");
    return;
  }
  const v = r.data;
  form.reset();
  closeDialog($("visit-dialog"));
  const day = dateIn(new Date(v.starts_at));
  $("day").value = day;
  await loadDay(`Visit created at ${timeIn(new Date(v.starts_at))} on ${longDay(day)}. Issue its link with the Link button.`);
  const btn = document.querySelector(`button[data-visit-id="${v.id}"][data-action="link"]`);
  if (btn) btn.focus();
}

function reschedule(v) {
  const form = $("reschedule-form");
  form.reset();
  clearErrors(form);
  page.current = v;
  const at = new Date(v.starts_at);
  $("r-summary").textContent = summary(v);
  $("r-clinician").value = v.clinician_id || "";
  $("r-date").value = dateIn(at);
  $("r-time").value = timeIn(at);
  $("r-duration").value = String(v.duration_minutes);
  openDialog("reschedule-dialog");
  $("r-clinician").focus();
}

async function submitReschedule(ev) {
  ev.preventDefault();
  const form = $("reschedule-form");
  clearErrors(form);
  const v = page.current;
  const startsAt = zonedToISO($("r-date").value, $("r-time").value);
  if (!startsAt) {
    fieldError("r-time", "Choose the date and the start time.").focus();
    announce("Please correct the highlighted fields.", true);
    return;
  }
  const body = { starts_at: startsAt, duration_minutes: Number($("r-duration").value) };
  const c = $("r-clinician").value;
  if (c !== (v.clinician_id || "")) {
    if (c) body.clinician_id = c;
    else body.to_pool = true;
  }
  $("r-submit").disabled = true;
  announce("Saving…");
  const r = await api("PATCH", `/api/v1/visits/${encodeURIComponent(v.id)}`, body);
  $("r-submit").disabled = false;
  if (r.status !== 200 || !r.data) {
    showProblem(form, RESCHEDULE_FIELDS, r, "The visit could not be rescheduled.");
    return;
  }
  closeDialog($("reschedule-dialog"));
  const day = dateIn(new Date(r.data.starts_at));
  $("day").value = day;
  await loadDay(`Visit rescheduled to ${timeIn(new Date(r.data.starts_at))} on ${longDay(day)}.`);
}

function linkDialog(v) {
  const form = $("link-form");
  clearErrors(form);
  forgetLink();
  page.current = v;
  $("l-summary").textContent = summary(v);
  $("l-email").disabled = !v.patient.email;
  $("l-sms").disabled = !v.patient.phone;
  $("l-email").title = v.patient.email ? "" : "No e-mail address on file";
  $("l-sms").title = v.patient.phone ? "" : "No mobile phone on file";
  openDialog("link-dialog");
  $("l-copy-new").focus();
}

function forgetLink() {
  $("l-url").value = "";
  $("l-result").hidden = true;
}

async function issueLink(send, channel) {
  const v = page.current;
  const form = $("link-form");
  clearErrors(form);
  forgetLink();
  const buttons = [$("l-copy-new"), $("l-email"), $("l-sms")];
  const was = buttons.map((b) => b.disabled);
  buttons.forEach((b) => { b.disabled = true; });
  announce(send ? "Sending the link…" : "Creating the link…");
  const r = await api("POST", `/api/v1/visits/${encodeURIComponent(v.id)}/link`, send ? { send: true, channel } : { send: false });
  buttons.forEach((b, i) => { b.disabled = was[i]; });
  if (r.status !== 200 || !r.data) {
    form.querySelector('[role="alert"]').textContent = problemText(r, "The link could not be issued.");
    announce(problemText(r, "The link could not be issued."), true);
    return;
  }
  if (send) {
    closeDialog($("link-dialog"));
    await loadDay(channel === "sms" ? "The link is on its way by text message." : "The link is on its way by e-mail.");
    return;
  }
  // Shown once, in the dialog only; forgotten when the dialog closes.
  $("l-url").value = r.data.url;
  $("l-result").hidden = false;
  $("l-copy").focus();
  announce("New link ready. Copy it now: it is shown only once.");
  refreshQuietly();
}

async function copyLink() {
  const input = $("l-url");
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
  }
  announce(ok ? "Link copied." : "Copying failed: select the link and copy it yourself.", !ok);
}

// refreshQuietly re-reads the day (behind an open dialog, or on the
// periodic refresh) without taking the status message. Keyboard focus on a
// visit's button stays on that button.
async function refreshQuietly() {
  const day = $("day").value;
  const clinic = page.clinic.id;
  page.loadedAt = performance.now();
  const r = await api("GET",
    `/api/v1/clinics/${encodeURIComponent(clinic)}/visits?date=${encodeURIComponent(day)}`);
  if (r.status !== 200 || !r.data || $("day").value !== day || page.clinic.id !== clinic) return;
  const list = r.data.items || [];
  page.visits = new Map(list.map((v) => [v.id, v]));
  const f = document.activeElement;
  const had = $("groups").contains(f) && f.dataset.visitId ? [f.dataset.visitId, f.dataset.action] : null;
  render(day, list);
  if (had) {
    const b = document.querySelector(`button[data-visit-id="${had[0]}"][data-action="${had[1]}"]`);
    if (b) b.focus();
    else $("day-heading").focus();
  }
}

// The day view follows changes made elsewhere (check-ins, other
// schedulers, clinicians): schedulers may not watch the waiting room's
// socket, so the day is read again every REFRESH_MS while the page is
// visible and no dialog is open. Tests shorten the period with
// data-refresh-ms on <body>.
const REFRESH_MS = 30000;

function refreshDue() {
  if (document.visibilityState !== "visible" || document.body.dataset.state !== "ready") return;
  if (!page.clinic || document.querySelector("dialog[open]") || page.refreshing) return;
  const every = Number(document.body.dataset.refreshMs) || REFRESH_MS;
  if (performance.now() - (page.loadedAt || 0) < every) return;
  page.refreshing = true;
  refreshQuietly()
    .catch(() => {}) // the next period tries again
    .finally(() => { page.refreshing = false; });
}

async function revoke(v) {
  announce("Revoking the link…");
  const r = await api("DELETE", `/api/v1/visits/${encodeURIComponent(v.id)}/link`);
  if (r.status !== 204) {
    announce(problemText(r, "The link could not be revoked."), true);
    return;
  }
  await loadDay(`The link of the visit at ${timeIn(new Date(v.starts_at))} is revoked.`);
  const btn = document.querySelector(`button[data-visit-id="${v.id}"][data-action="link"]`);
  if (btn) btn.focus();
}

function cancelDialog(v) {
  clearErrors($("cancel-form"));
  page.current = v;
  $("c-summary").textContent = summary(v);
  openDialog("cancel-dialog");
  $("c-confirm").focus();
}

async function submitCancel(ev) {
  ev.preventDefault();
  const v = page.current;
  $("c-confirm").disabled = true;
  announce("Cancelling the visit…");
  const r = await api("POST", `/api/v1/visits/${encodeURIComponent(v.id)}/cancel`);
  $("c-confirm").disabled = false;
  if (r.status !== 200) {
    $("cancel-form-error").textContent = problemText(r, "The visit could not be cancelled.");
    announce(problemText(r, "The visit could not be cancelled."), true);
    return;
  }
  closeDialog($("cancel-dialog"));
  await loadDay(`The visit at ${timeIn(new Date(v.starts_at))} is cancelled.`);
}

function wire() {
  $("day-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadDay(); });
  $("clinic").addEventListener("change", () => chooseClinic($("clinic").value, false));
  $("day").addEventListener("change", () => loadDay());
  $("prev-day").addEventListener("click", () => { $("day").value = addDays($("day").value || dateIn(new Date()), -1); loadDay(); });
  $("next-day").addEventListener("click", () => { $("day").value = addDays($("day").value || dateIn(new Date()), 1); loadDay(); });
  $("today").addEventListener("click", () => { $("day").value = dateIn(new Date()); loadDay(); });
  $("new-visit").addEventListener("click", newVisit);
  $("visit-form").addEventListener("submit", submitVisit);
  $("reschedule-form").addEventListener("submit", submitReschedule);
  $("cancel-form").addEventListener("submit", submitCancel);
  $("link-form").addEventListener("submit", (ev) => ev.preventDefault());
  $("l-copy-new").addEventListener("click", () => issueLink(false));
  $("l-email").addEventListener("click", () => issueLink(true, "email"));
  $("l-sms").addEventListener("click", () => issueLink(true, "sms"));
  $("l-copy").addEventListener("click", copyLink);
  setInterval(refreshDue, 1000);
  document.addEventListener("visibilitychange", refreshDue);
  for (const d of document.querySelectorAll("dialog")) {
    d.addEventListener("close", () => onDialogClosed(d));
    for (const b of d.querySelectorAll("[data-close]")) b.addEventListener("click", () => closeDialog(d));
  }
  $("groups").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const v = page.visits.get(b.dataset.visitId);
    if (!v) return;
    switch (b.dataset.action) {
      case "link": linkDialog(v); break;
      case "revoke": revoke(v); break;
      case "reschedule": reschedule(v); break;
      case "cancel": cancelDialog(v); break;
    }
  });
}

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
