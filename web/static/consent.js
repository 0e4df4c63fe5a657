// Recording consent in the call (docs/signaling.md, "Recording
// (consent-gated)"), mounted by controls.js on every call page.
//
// - Everyone: a recording_consent_request opens an in-page modal <dialog>
//   (#consent-dialog) showing the server's text as plain text, who asks,
//   and for the patient their check-in answer (shown, never taken as
//   consent). "Yes, record" / "No" answer with recording_consent; Escape
//   answers No (the safe answer: nothing is recorded).
// - Everyone: while recording is active, #recording-stop withdraws consent
//   (recording_withdraw), or for the clinician stops it (recording_stop).
// - Clinician: #record-request sends recording_request; it is disabled
//   while a request is pending or a recording active, and until the page
//   has joined the room.
// - #recording-status (a polite live region) says what happens: waiting
//   for everyone, started, stopped and why; #recording-error (an alert)
//   shows refusals (recording_unavailable, recording_conflict).
//
// It listens on the Call for recording_consent_request, recording_state and
// recording_error (the server's recording_* errors). Nothing here logs
// anything; texts go in with textContent.

const TEMPLATE = `<dialog id="consent-dialog" class="consent-dialog" aria-labelledby="consent-title"
 aria-describedby="consent-text">
<h2 id="consent-title" tabindex="-1">May we record this visit?</h2>
<p id="consent-requester"></p>
<p id="consent-text" class="consent-text"></p>
<p id="consent-checkin" class="consent-checkin" hidden></p>
<div class="dialog-actions">
<button type="button" id="consent-yes">Yes, record</button>
<button type="button" id="consent-no">No</button>
</div>
</dialog>
<p id="recording-status" class="recording-status" role="status" aria-live="polite"></p>
<p id="recording-error" class="recording-error error" role="alert" hidden></p>`;

const ROLE_TEXT = { clinician: "Your clinician", patient: "The patient", guest: "A guest" };
const CHECKIN_TEXT = { yes: "Yes", no: "No", undecided: "Not sure" };
const STOP_TEXT = {
  declined: "someone said no",
  withdrawn: "someone withdrew their consent",
  stopped: "the clinician stopped it",
  error: "the recorder failed",
  ended: "the call ended",
};
const ERROR_TEXT = {
  recording_unavailable: "Recording is not available on this server.",
  recording_conflict: "A recording is already under way or was already answered, or the visit is not in progress.",
};

// mountConsent adds the consent dialog, the status lines and the
// recording buttons to the controls (root, with its .control-bar). role is
// "clinician", "patient" or "guest".
export function mountConsent(call, root, role) {
  const box = document.createElement("div");
  box.className = "recording-consent";
  box.innerHTML = TEMPLATE;
  root.querySelector("#recording-indicator").after(box);
  const ui = new ConsentUI(call, root, role);
  call.on("recording_consent_request", (msg) => ui.ask(msg));
  call.on("recording_error", (msg) => ui.onError(msg));
  call.on("recording_state", (msg) => ui.onState(msg));
  call.on("joined", () => ui.setJoined(true));
  call.on("media_stopped", () => ui.setJoined(false));
  return ui;
}

// ConsentUI is the page's view of the room's recording.
class ConsentUI {
  constructor(call, root, role) {
    this.call = call;
    this.role = role;
    this.$ = (id) => root.querySelector("#" + id);
    this.request = null; // the consent request the dialog shows
    this.phase = "idle"; // idle, requesting (ours sent), pending (answers awaited), active
    this.joined = false;
    this.returnFocus = null;
    this.addButtons(root.querySelector(".control-bar"));
    this.bindDialog();
  }

  // addButtons puts the record (clinician) and stop/withdraw buttons in
  // the control bar, before Leave.
  addButtons(bar) {
    const leave = bar.querySelector("#leave-call");
    if (this.role === "clinician") {
      const rec = button("record-request", "Record the visit");
      rec.disabled = true;
      rec.addEventListener("click", () => this.requestRecording());
      bar.insertBefore(rec, leave);
    }
    const stop = button("recording-stop", this.role === "clinician" ? "Stop recording" : "Withdraw consent");
    stop.classList.add("danger");
    stop.hidden = true;
    stop.addEventListener("click", () => this.stopRecording());
    bar.insertBefore(stop, leave);
  }

  bindDialog() {
    const dialog = this.$("consent-dialog");
    this.$("consent-yes").addEventListener("click", () => this.answer("yes"));
    this.$("consent-no").addEventListener("click", () => this.answer("no"));
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault(); // Escape: answer No rather than leave it unanswered
      this.answer("no");
    });
  }

  // onError shows a recording_* error of the server in plain words.
  onError(msg) {
    this.showError(ERROR_TEXT[msg.code] || "Recording could not be changed. Please try again.");
    this.phase = this.phase === "requesting" ? "idle" : this.phase;
    this.sync();
  }

  setJoined(on) {
    this.joined = on;
    if (!on) {
      this.phase = "idle";
      this.closeDialog();
    }
    this.sync();
  }

  requestRecording() {
    this.showError("");
    if (!this.call.send({ type: "recording_request" })) {
      this.showError("Not connected. Please try again in a moment.");
      return;
    }
    this.phase = "requesting";
    this.sync();
  }

  stopRecording() {
    const type = this.role === "clinician" ? "recording_stop" : "recording_withdraw";
    if (!this.call.send({ type })) this.showError("Not connected. Please try again in a moment.");
  }

  // ask shows a consent request in the dialog and moves focus into it.
  ask(msg) {
    if (typeof msg.request_id !== "string" || !msg.request_id) return;
    this.request = msg;
    this.$("consent-requester").textContent = this.role === msg.requested_by_role && this.role === "clinician"
      ? "You asked to record this visit. Everyone in the call must agree, you too."
      : (ROLE_TEXT[msg.requested_by_role] || "Someone in the call") + " asks to record this visit.";
    this.$("consent-text").textContent = typeof msg.text === "string" ? msg.text : "";
    const checkin = this.$("consent-checkin");
    const before = CHECKIN_TEXT[msg.checkin_answer];
    checkin.hidden = !before;
    checkin.textContent = before
      ? "Before the visit you answered: " + before + ". Please answer again now; only your answer here counts."
      : "";
    const dialog = this.$("consent-dialog");
    dialog.dataset.requestId = msg.request_id;
    if (!dialog.open) {
      this.returnFocus = document.activeElement;
      dialog.showModal();
    }
    this.$("consent-title").focus();
  }

  answer(answer) {
    const req = this.request;
    if (!req) return this.closeDialog();
    if (!this.call.send({ type: "recording_consent", request_id: req.request_id, answer })) {
      this.showError("Not connected. Your answer was not sent; please try again.");
      return;
    }
    this.showError("");
    this.closeDialog();
  }

  closeDialog() {
    this.request = null;
    const dialog = this.$("consent-dialog");
    if (!dialog.open) return;
    dialog.close();
    const back = this.returnFocus;
    this.returnFocus = null;
    if (back && back.isConnected && typeof back.focus === "function") back.focus();
  }

  // onState follows recording_state: announce changes, show the buttons.
  onState(msg) {
    const was = this.phase;
    this.$("recording-indicator").dataset.recordingId = msg.recording_id || "";
    if (msg.active !== (was === "active") || msg.reason) this.showError(""); // an older refusal is stale now
    if (msg.active) {
      this.phase = "active";
      if (was !== "active") this.say("Recording started");
    } else if (msg.reason) {
      this.phase = "idle";
      this.say("Recording stopped: " + (STOP_TEXT[msg.reason] || "it ended"));
      if (this.request && this.request.recording_id === msg.recording_id) this.closeDialog();
    } else if (Array.isArray(msg.waiting_for) && msg.waiting_for.length > 0) {
      this.phase = "pending";
      if (was !== "pending") this.say("Waiting for everyone to agree…");
    } else {
      this.phase = "idle";
    }
    this.sync();
  }

  say(text) {
    this.$("recording-status").textContent = text;
  }

  showError(text) {
    const el = this.$("recording-error");
    el.textContent = text;
    el.hidden = !text;
  }

  // sync shows and enables the buttons for the current phase.
  sync() {
    this.$("recording-stop").hidden = this.phase !== "active";
    const rec = this.$("record-request");
    if (rec) rec.disabled = !this.joined || this.phase !== "idle";
  }
}

function button(id, text) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = text;
  return b;
}
