// In-call controls shared by the patient (/join), staff (/call) and guest
// (/guest) pages: mute, camera off, device pickers, screen share, leave,
// the people in the call with their muted state, chat (chat.js), the
// recording indicator and the recording consent (consent.js). Tracks
// change with RTCRtpSender.replaceTrack (no renegotiation). Nothing here logs PHI: a guest's display name is shown
// with textContent only.
import { mountChat } from "/static/chat.js";
import { mountConsent } from "/static/consent.js";

const ROLE_LABEL = { clinician: "Clinician", patient: "Patient", guest: "Guest" };

const TEMPLATE = `<p id="recording-indicator" class="recording-indicator" role="status" hidden>
<span class="rec-dot" aria-hidden="true"></span>Recording</p>
<div class="control-bar" role="group" aria-label="Call controls">
<button type="button" id="mute-mic" class="toggle" aria-pressed="false">Mute</button>
<button type="button" id="camera-off" class="toggle" aria-pressed="false">Stop camera</button>
<button type="button" id="share-screen" class="toggle" aria-pressed="false">Share screen</button>
<button type="button" id="leave-call" class="danger">Leave</button>
</div>
<div class="device-pickers">
<div><label for="camera-select">Camera</label><select id="camera-select"></select></div>
<div><label for="mic-select">Microphone</label><select id="mic-select"></select></div>
</div>
<h2 id="people-heading" class="visually-hidden">People in the call</h2>
<ul id="participants" class="participants" aria-labelledby="people-heading"></ul>`;

// mountControls renders the controls for call into container. role is
// "patient", "clinician" or "guest"; onLeave runs when #leave-call is
// pressed; preview (optional) is the self-view <video>, kept showing what
// is sent.
export function mountControls(call, container, { role, onLeave = () => {}, preview = null } = {}) {
  const root = document.createElement("div");
  root.className = "call-controls";
  root.dataset.role = role || "";
  root.innerHTML = TEMPLATE;
  container.append(root);
  const $ = (id) => root.querySelector("#" + id);
  const label = (id) => {
    if (id && id === call.participantID) return "You";
    const p = call.people.get(id);
    if (!p) return "Someone";
    if (p.role === "guest") return p.display_name || "Guest";
    return ROLE_LABEL[p.role] || "Someone";
  };
  const devices = new DevicePickers(call, $("camera-select"), $("mic-select"), () => syncPreview(call, preview));

  bindToggle($("mute-mic"), ["Mute", "Unmute"], (on) => call.setMuted("audio", on));
  bindToggle($("camera-off"), ["Stop camera", "Start camera"], (on) => call.setMuted("video", on));
  bindShare(call, $("share-screen"), devices, () => syncPreview(call, preview));
  $("leave-call").addEventListener("click", () => onLeave());
  mountChat(call, root, label);
  bindRoom(call, root, label);
  call.on("recording_state", (msg) => {
    $("recording-indicator").hidden = !msg.active;
  });
  mountConsent(call, root, role);
  devices.refresh();
  return { root, refreshDevices: () => devices.refresh() };
}

// bindToggle makes button an aria-pressed toggle whose text is texts[0]
// when off and texts[1] when on; apply(on) runs on each press.
function bindToggle(button, texts, apply) {
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    setPressed(button, on, texts);
    apply(on);
  });
  button.dataset.off = texts[0];
  button.dataset.on = texts[1];
}

function setPressed(button, on, texts = [button.dataset.off, button.dataset.on]) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? texts[1] : texts[0];
}

// syncPreview shows the stream we send in the self-view again (its tracks
// changed).
function syncPreview(call, preview) {
  if (preview) preview.srcObject = call.stream;
}

// bindRoom shows the other people in the call (call.people) and their
// muted state, and applies a clinician's mute of us.
function bindRoom(call, root, label) {
  const list = root.querySelector("#participants");
  const render = () => {
    list.replaceChildren();
    for (const [id, p] of call.people) if (id !== call.participantID) list.append(tile(id, p, label(id)));
  };
  for (const type of ["joined", "participant_joined", "participant_left", "media_stopped"]) call.on(type, render);
  call.on("participant_muted", (msg) => {
    if (msg.participant_id === call.participantID) return selfMuted(call, root, msg);
    render();
  });
  render();
}

// selfMuted follows a clinician's mute of our microphone or camera.
function selfMuted(call, root, msg) {
  if (!msg.muted || call.muted[msg.kind]) return;
  call.muted[msg.kind] = true;
  for (const t of call.stream.getTracks()) if (t.kind === msg.kind) t.enabled = false;
  setPressed(root.querySelector(msg.kind === "audio" ? "#mute-mic" : "#camera-off"), true);
}

// tile is one other participant: their label and what they turned off.
function tile(id, p, name) {
  const li = document.createElement("li");
  li.className = "participant";
  li.dataset.participant = id;
  li.dataset.audioMuted = String(!!p.muted.audio);
  li.dataset.videoMuted = String(!!p.muted.video);
  const who = document.createElement("span");
  who.className = "participant-name";
  who.textContent = name;
  li.append(who);
  for (const [kind, text] of [["audio", "Microphone off"], ["video", "Camera off"]]) {
    if (!p.muted[kind]) continue;
    const badge = document.createElement("span");
    badge.className = "badge muted-" + kind;
    badge.textContent = text;
    li.append(" ", badge);
  }
  return li;
}

// bindShare shares the screen instead of the camera, and goes back to the
// camera when the share ends (the browser's own "stop sharing" too). The
// button is hidden where getDisplayMedia is missing (phones).
function bindShare(call, button, devices, synced) {
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getDisplayMedia !== "function") {
    button.hidden = true;
    return;
  }
  const texts = ["Share screen", "Stop sharing"];
  const stop = async () => {
    const back = devices.held; // the camera, kept while the screen is shared
    if (!back) return;
    devices.held = null;
    const screen = await call.replaceTrack(back);
    if (screen) screen.stop();
    setPressed(button, false, texts);
    synced();
  };
  button.addEventListener("click", async () => {
    if (devices.held) return stop();
    let screen;
    try {
      screen = (await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })).getVideoTracks()[0];
    } catch {
      return; // the person cancelled the picker
    }
    if (!screen) return;
    screen.addEventListener("ended", stop);
    devices.held = await call.replaceTrack(screen);
    setPressed(button, true, texts);
    synced();
  });
}

// DevicePickers fills the camera and microphone pickers and switches the
// sent track when one changes.
class DevicePickers {
  constructor(call, cameraSelect, micSelect, synced) {
    this.call = call;
    this.selects = { video: cameraSelect, audio: micSelect };
    this.synced = synced;
    this.held = null; // the camera track while the screen is shared
    cameraSelect.addEventListener("change", () => this.switchTo("video", cameraSelect.value));
    micSelect.addEventListener("change", () => this.switchTo("audio", micSelect.value));
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.refresh());
  }

  // refresh lists the devices; labels show once the page may use them.
  async refresh() {
    let list = [];
    try {
      list = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return;
    }
    for (const [kind, input, name] of [["video", "videoinput", "Camera"], ["audio", "audioinput", "Microphone"]]) {
      const select = this.selects[kind];
      const current = this.currentDevice(kind);
      const options = list.filter((d) => d.kind === input && d.deviceId)
        .map((d, i) => new Option(d.label || `${name} ${i + 1}`, d.deviceId, false, d.deviceId === current));
      select.replaceChildren(...options);
      select.disabled = options.length < 2;
    }
  }

  currentDevice(kind) {
    const held = kind === "video" ? this.held : null;
    const track = held || this.call.stream.getTracks().find((t) => t.kind === kind);
    return track ? track.getSettings().deviceId : "";
  }

  // switchTo opens deviceId and sends it instead of the current device.
  async switchTo(kind, deviceId) {
    let track;
    try {
      const constraints = { [kind]: { deviceId: { exact: deviceId } } };
      track = (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
    } catch {
      this.refresh();
      return;
    }
    if (kind === "video" && this.held) {
      this.held.stop();
      this.held = track; // sent when the share ends
      return;
    }
    const old = await this.call.replaceTrack(track);
    if (old && old !== track) old.stop();
    this.synced();
  }
}

// ReconnectBanner shows el (the page's #reconnecting, role=alert) while
// the socket is down, while a re-join is pending after it came back, and
// while the media path is disconnected; pages feed it their socket and
// call states.
export class ReconnectBanner {
  constructor(el) {
    this.el = el;
    this.down = { socket: false, rejoining: false, media: false };
  }

  socketState(s) {
    if (s === "reconnecting") this.set({ socket: true });
  }

  socketOpened(wantJoined) {
    this.set({ socket: false, rejoining: wantJoined });
  }

  callState(state) {
    const change = { media: state === "disconnected" || state === "failed" };
    if (["connected", "stopped", "error"].includes(state)) change.rejoining = false;
    this.set(change);
  }

  clear() {
    this.set({ socket: false, rejoining: false, media: false });
  }

  set(change) {
    Object.assign(this.down, change);
    this.el.hidden = !(this.down.socket || this.down.rejoining || this.down.media);
  }
}
