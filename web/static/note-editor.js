// The encounter note editor on the staff call page (/call?visit=<id>).
//
// Mounts itself into <section id="note-panel"> (nothing happens without
// one): a labelled textarea (#note-text) saved as the clinician types
// (PUT /api/v1/visits/{id}/note/draft, debounced, with the draft's revision
// for optimistic concurrency), a status line (#note-status), a sign button
// (#note-sign: saves, then POST .../note/sign) and the signed versions
// (#note-versions). After signing, the text stays editable: signing again
// is an amendment. #note-panel's data-state says where the editor stands:
// loading, ready, dirty, saving, saved, signing, signed, conflict, error,
// read_only, unavailable.
//
// HIPAA: the note is PHI. It is shown in the page only, never logged, never
// put in the URL or the title. This module writes nothing to the console.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SAVE_DELAY_MS = 1000; // after the last keystroke
const RETRY_MS = 5000; // after a failed save
const MAX_CHARS = 100000; // visits.MaxNoteChars

const STATUS_LABELS = {
  final: "Final",
  amended: "Amended",
  entered_in_error: "Entered in error",
};
const REASON_LABELS = {
  wrong_patient: "wrong patient",
  wrong_visit: "wrong visit",
  duplicate: "duplicate",
  documentation_error: "documentation error",
};

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function dateTime(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
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

class NoteEditor {
  constructor(panel, visitID) {
    this.panel = panel;
    this.base = "/api/v1/visits/" + encodeURIComponent(visitID) + "/note";
    this.revision = 0;
    this.signedVersion = null; // the version the saved draft equals
    this.hasFinal = false;
    this.canWrite = false;
    this.dirty = false; // the textarea differs from the saved draft
    this.saving = null; // the save under way (a promise)
    this.signing = false; // a signature is under way: saves wait for it
    this.timer = 0;
    this.build();
  }

  build() {
    this.text = el("textarea", { id: "note-text", rows: 14, spellcheck: true, maxLength: MAX_CHARS,
      "aria-describedby": "note-status" });
    this.status = el("p", { id: "note-status", class: "note-status", role: "status", "aria-live": "polite" });
    this.sign = el("button", { id: "note-sign", type: "button", text: "Sign note", disabled: true });
    this.reload = el("button", { id: "note-reload", type: "button", class: "secondary", text: "Reload the note",
      hidden: true });
    this.versions = el("ol", { id: "note-versions", class: "note-versions", "aria-labelledby": "note-versions-heading" });
    this.noVersions = el("p", { id: "note-versions-empty", class: "note", text: "No signed version yet." });
    this.panel.classList.add("panel", "note-panel");
    this.panel.replaceChildren(
      el("h2", { id: "note-heading", text: "Encounter note" }),
      el("label", { htmlFor: "note-text", text: "Note text (saved as you type)" }),
      this.text,
      this.status,
      el("div", { class: "note-actions" }, this.sign, this.reload),
      el("h3", { id: "note-versions-heading", text: "Signed versions" }),
      this.noVersions,
      this.versions,
    );
    this.text.addEventListener("input", () => this.edited());
    this.sign.addEventListener("click", () => this.signNow());
    this.reload.addEventListener("click", () => this.load());
    addEventListener("pagehide", () => this.flushOnExit());
  }

  setState(state, message, isError = false) {
    this.panel.dataset.state = state;
    this.status.textContent = message;
    this.status.classList.toggle("error", isError);
  }

  async request(method, path, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init);
  }

  async load() {
    clearTimeout(this.timer);
    this.reload.hidden = true;
    this.setState("loading", "Loading the note…");
    let r;
    try {
      r = await this.request("GET", "");
    } catch {
      this.setState("error", "The note could not be loaded. Check the connection and reload.", true);
      this.reload.hidden = false;
      return;
    }
    if (r.status !== 200) {
      const msg = r.status === 401 ? "Sign in to see the note." : await problemText(r, "The note could not be loaded");
      this.text.readOnly = true;
      this.setState("unavailable", msg, r.status !== 401);
      return;
    }
    const note = await r.json();
    this.canWrite = note.can_write;
    this.text.value = note.draft.text;
    this.text.readOnly = !this.canWrite;
    this.revision = note.draft.revision;
    this.signedVersion = note.draft.signed_version;
    this.dirty = false;
    this.renderVersions(note.versions);
    if (!this.canWrite) {
      this.sign.hidden = true;
      this.setState("read_only", "Read only: only the visit's clinician can edit and sign this note.");
    } else if (note.draft.updated_at) {
      this.setState("saved", "Saved at " + clock(note.draft.updated_at));
    } else {
      this.setState("ready", "Not saved yet. The note is saved as you type.");
    }
    this.updateSign();
  }

  edited() {
    if (!this.canWrite || this.panel.dataset.state === "conflict") return;
    this.dirty = true;
    if (this.signing) return; // saved once the signature is through
    this.setState("dirty", "Unsaved changes…");
    this.updateSign();
    this.scheduleSave();
  }

  scheduleSave() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  // save stores the textarea's text; concurrent calls share one request
  // and a change made during it is saved right after. Resolves to true when
  // the text shown is saved.
  async save() {
    clearTimeout(this.timer);
    while (this.saving) await this.saving;
    if (!this.dirty) return true;
    this.saving = this.put();
    let ok;
    try {
      ok = await this.saving;
    } finally {
      this.saving = null;
    }
    return ok && (!this.dirty || this.save());
  }

  async put() {
    const text = this.text.value;
    this.dirty = false;
    this.setState("saving", "Saving…");
    let r;
    try {
      r = await this.request("PUT", "/draft", { text, revision: this.revision });
    } catch {
      return this.saveFailed("Not saved: the connection dropped. Retrying…");
    }
    if (r.status === 200) {
      const saved = await r.json();
      this.revision = saved.revision;
      this.signedVersion = null;
      if (!this.dirty) this.setState("saved", "Saved at " + clock(saved.updated_at));
      this.updateSign();
      return true;
    }
    if (r.status === 409) {
      this.conflict(await problemText(r, "The note was changed elsewhere"));
      return false;
    }
    const retry = r.status >= 500 || r.status === 429;
    const msg = await problemText(r, "Not saved");
    return this.saveFailed("Not saved: " + msg + (retry ? " Retrying…" : ""), retry);
  }

  saveFailed(message, retry = true) {
    this.dirty = true;
    this.setState("error", message, true);
    if (retry) this.timer = setTimeout(() => this.save(), RETRY_MS);
    this.updateSign();
    return false;
  }

  conflict(message) {
    clearTimeout(this.timer);
    this.dirty = true;
    this.setState("conflict", message + " Your last changes are still in the box: copy them before you reload.", true);
    this.reload.hidden = false;
    this.updateSign();
    this.reload.focus();
  }

  updateSign() {
    this.sign.textContent = this.hasFinal ? "Sign amendment" : "Sign note";
    const empty = this.text.value.trim() === "";
    const unchanged = !this.dirty && this.signedVersion !== null;
    const blocked = this.signing || ["conflict", "loading", "unavailable"].includes(this.panel.dataset.state);
    this.sign.disabled = !this.canWrite || empty || unchanged || blocked;
  }

  async signNow() {
    if (!(await this.save())) return;
    this.signing = true;
    this.setState("signing", "Signing…");
    this.updateSign();
    try {
      await this.signSaved();
    } finally {
      this.signing = false;
      this.updateSign();
      if (this.dirty && this.panel.dataset.state !== "conflict") this.scheduleSave();
    }
  }

  // signSaved signs the saved draft at this.revision.
  async signSaved() {
    let r;
    try {
      r = await this.request("POST", "/sign", { revision: this.revision });
    } catch {
      this.setState("error", "Not signed: the connection dropped. Try again.", true);
      return;
    }
    if (r.status === 409) {
      this.conflict(await problemText(r, "Not signed"));
      return;
    }
    if (r.status !== 200) {
      this.setState("error", "Not signed: " + (await problemText(r, "the server refused")), true);
      return;
    }
    const signed = await r.json();
    this.revision = signed.draft_revision;
    if (!this.dirty) this.signedVersion = signed.version.version;
    const v = signed.version;
    const what = v.supersedes ? "Signed version " + v.version + " (amends version " + v.supersedes + ")" : "Signed version " + v.version;
    this.setState("signed", what + " at " + clock(v.signed_at) + ". You can still amend it.");
    await this.refreshVersions();
  }

  async refreshVersions() {
    try {
      const r = await this.request("GET", "");
      if (r.status === 200) this.renderVersions((await r.json()).versions);
    } catch {
      // the list stays as it was; the signature itself succeeded
    }
  }

  renderVersions(versions) {
    this.hasFinal = versions.some((v) => v.status === "final");
    this.noVersions.hidden = versions.length > 0;
    const byNumber = new Map(versions.map((v) => [v.supersedes, v.version]));
    this.versions.replaceChildren(...versions.slice().reverse().map((v) => this.versionItem(v, byNumber.get(v.version))));
  }

  versionItem(v, replacedBy) {
    let detail = "";
    if (v.status === "amended" && replacedBy) detail = " — replaced by version " + replacedBy;
    if (v.status === "entered_in_error") {
      detail = " — retracted " + dateTime(v.retracted_at) + " (" + (REASON_LABELS[v.retract_reason] || "no reason") + ")";
    }
    const head = el("p", { class: "note-version-head" },
      el("strong", { text: "Version " + v.version }),
      " signed " + dateTime(v.signed_at) + " ",
      el("span", { class: "note-badge note-badge-" + v.status, text: STATUS_LABELS[v.status] || v.status }),
      detail,
    );
    const text = el("details", {}, el("summary", { text: "Show the text of version " + v.version }),
      el("pre", { class: "note-version-text", text: v.text }));
    return el("li", { class: "note-version", "data-version": String(v.version), "data-status": v.status }, head, text);
  }

  // flushOnExit sends unsaved text when the page goes away (best effort:
  // keepalive bodies are limited to 64 KiB).
  flushOnExit() {
    if (!this.dirty || !this.canWrite || this.panel.dataset.state === "conflict") return;
    const body = JSON.stringify({ text: this.text.value, revision: this.revision });
    if (body.length > 60000) return;
    fetch(this.base + "/draft", { method: "PUT", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json" }, body }).catch(() => {});
  }
}

function mount() {
  const panel = document.getElementById("note-panel");
  if (!panel) return;
  const visitID = new URLSearchParams(location.search).get("visit") || "";
  if (!UUID.test(visitID)) return;
  const editor = new NoteEditor(panel, visitID);
  editor.load().catch(() => editor.setState("error", "Something went wrong. Please reload the page.", true));
}

mount();
