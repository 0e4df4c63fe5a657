// Camera and microphone check for the patient page: the camera preview,
// a microphone level meter (Web Audio AnalyserNode driving a <meter>),
// camera and microphone pickers, and a speaker test tone (OscillatorNode).
// Nothing here logs anything: device labels stay on the page.

const METER_INTERVAL_MS = 80;

// mediaProblem names why getUserMedia failed, in words the page maps to
// advice: "blocked" (permission denied), "missing" (no such device),
// "busy" (another app holds it) or "error".
export function mediaProblem(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "blocked";
    case "NotFoundError":
    case "OverconstrainedError":
      return "missing";
    case "NotReadableError":
    case "AbortError":
      return "busy";
  }
  return "error";
}

function videoConstraints(deviceId) {
  const v = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 20 } };
  if (deviceId) v.deviceId = { exact: deviceId };
  return v;
}

// DeviceCheck owns the stream the patient will use in the call: it starts
// it, shows it and lets the patient switch devices.
export class DeviceCheck {
  constructor({ preview, meter, cameraSelect, micSelect }) {
    this.preview = preview;
    this.meter = meter;
    this.cameraSelect = cameraSelect;
    this.micSelect = micSelect;
    this.stream = null;
    this.audioCtx = null;
    this.source = null;
    this.timer = null;
    this.peak = 0;
    this.result = { camera: "skipped", microphone: "skipped" };
    cameraSelect.addEventListener("change", () => this.switchTo());
    micSelect.addEventListener("change", () => this.switchTo());
  }

  // start asks for the camera and the microphone. It resolves with
  // {camera, microphone} ("pass"/"fail") and problem (null or as
  // mediaProblem says).
  async start(camera = "", mic = "") {
    const audio = mic ? { deviceId: { exact: mic } } : true;
    let problem = null;
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio, video: videoConstraints(camera) });
    } catch (err) {
      problem = mediaProblem(err);
      if (problem !== "blocked") stream = await this.partial(audio, camera);
    }
    this.setStream(stream);
    this.result = {
      camera: stream && stream.getVideoTracks().length > 0 ? "pass" : "fail",
      microphone: stream && stream.getAudioTracks().length > 0 ? "pass" : "fail",
    };
    if (stream) await this.listDevices();
    return { ...this.result, problem };
  }

  // partial tries the camera and the microphone one at a time, to tell
  // which of them fails; it returns what works (or null).
  async partial(audio, camera) {
    const tracks = [];
    for (const c of [{ audio }, { video: videoConstraints(camera) }]) {
      try {
        const s = await navigator.mediaDevices.getUserMedia(c);
        tracks.push(...s.getTracks());
      } catch {
        // this one does not work
      }
    }
    return tracks.length ? new MediaStream(tracks) : null;
  }

  setStream(stream) {
    if (this.stream && this.stream !== stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = stream;
    this.preview.srcObject = stream;
    this.startMeter();
  }

  // switchTo re-acquires with the devices chosen in the pickers.
  async switchTo() {
    await this.start(this.cameraSelect.value, this.micSelect.value);
  }

  async listDevices() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return;
    }
    const current = (kind) => {
      const t = this.stream && this.stream.getTracks().find((x) => x.kind === kind);
      return t && t.getSettings ? t.getSettings().deviceId : "";
    };
    fill(this.cameraSelect, devices.filter((d) => d.kind === "videoinput"), "Camera", current("video"));
    fill(this.micSelect, devices.filter((d) => d.kind === "audioinput"), "Microphone", current("audio"));
  }

  // startMeter drives the meter from the microphone, about 12 times a
  // second (a timer, so it also runs where animation frames are paused).
  startMeter() {
    this.stopMeter();
    const track = this.stream && this.stream.getAudioTracks()[0];
    if (!track) return;
    const ctx = this.context();
    if (!ctx) return;
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    this.source.connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getByteTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += ((v - 128) / 128) ** 2;
      const level = Math.min(1, Math.sqrt(sum / data.length) * 4);
      this.meter.value = level;
      if (level > this.peak) {
        this.peak = level;
        this.meter.dataset.peak = level.toFixed(3);
      }
    }, METER_INTERVAL_MS);
  }

  stopMeter() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.source) this.source.disconnect();
    this.source = null;
    this.meter.value = 0;
  }

  context() {
    if (!this.audioCtx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      this.audioCtx = new AC();
    }
    if (this.audioCtx.state === "suspended") this.audioCtx.resume().catch(() => {});
    return this.audioCtx;
  }

  // playTone plays a short two-note chime; it resolves when it has ended.
  async playTone() {
    const ctx = this.context();
    if (!ctx) throw new Error("no Web Audio");
    await ctx.resume();
    const gain = ctx.createGain();
    gain.connect(ctx.destination);
    const t0 = ctx.currentTime + 0.05;
    const notes = [[523.25, 0], [784, 0.45]];
    for (const [freq, at] of notes) {
      const osc = ctx.createOscillator();
      osc.type = "sine";
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.4);
    }
    gain.gain.setValueAtTime(0, t0);
    gain.gain.linearRampToValueAtTime(0.3, t0 + 0.05);
    gain.gain.setValueAtTime(0.3, t0 + 0.8);
    gain.gain.linearRampToValueAtTime(0, t0 + 0.9);
    await new Promise((r) => setTimeout(r, 1000));
    gain.disconnect();
  }

  // leave stops the meter and the audio when the check-in step is over;
  // the stream stays for the call.
  leave() {
    this.stopMeter();
    if (this.audioCtx) this.audioCtx.close().catch(() => {});
    this.audioCtx = null;
  }
}

function fill(select, devices, noun, currentId) {
  const chosen = currentId || select.value;
  select.replaceChildren();
  devices.forEach((d, i) => {
    const o = new Option(d.label || `${noun} ${i + 1}`, d.deviceId);
    o.selected = d.deviceId === chosen;
    select.append(o);
  });
  select.disabled = devices.length < 2;
}

const WORDS = {
  camera: { pass: "working", fail: "not working", skipped: "not tested" },
  microphone: { pass: "working", fail: "not working", skipped: "not tested" },
  speaker: { pass: "you heard the test sound", fail: "you did not hear the test sound", skipped: "not tested" },
};

// describe puts one device's result in words.
export function describe(what, result) {
  return WORDS[what][result] || "not tested";
}

// camMicAdvice says what to do about a camera or microphone that failed.
export function camMicAdvice(media, what) {
  if (!media || media[what] === "pass") return "";
  return adviceFor(media.problem, what);
}

function adviceFor(problem, what) {
  return {
    blocked: `Allow your ${what} in your browser (see the steps above), then select Try again`,
    missing: `We could not find your ${what}. Connect it, then test again`,
    busy: `Another app is using your ${what}. Close other apps (such as other video calls), then test again`,
  }[problem] || `Check that your ${what} is connected and allowed, then test again`;
}

// summary is the plain verdict of a device test: ready, or what needs
// attention and what to do.
export function summary(results, media, net) {
  const todo = [];
  if (results.camera === "fail" || results.microphone === "fail") {
    const parts = ["camera", "microphone"].filter((w) => results[w] === "fail").join(" and ");
    todo.push(`your ${parts}. ${adviceFor(media && media.problem, parts)}.`);
  }
  if (results.network === "failed") {
    todo.push(net && net.reason === "rate_limited" ? "your connection: wait a minute, then test again." :
      "your connection: we could not reach the video service. Try another network (for example switch between Wi-Fi and mobile data), then test again.");
  } else if (results.network === "poor") {
    todo.push("your connection may be poor, so the video may freeze. Move closer to your Wi-Fi router or close other apps that use the internet.");
  }
  if (results.speaker === "fail") {
    todo.push("your sound: check that it is on and the volume is up, or try headphones.");
  }
  if (todo.length === 0) {
    if (results.network === "skipped") return "Your camera and microphone are ready. The connection could not be checked.";
    return "Your camera, microphone and connection are ready.";
  }
  return "Needs attention: " + todo.join(" Also: ");
}
