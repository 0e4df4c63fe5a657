// Shared call module for the patient page (/join) and the staff call page
// (/call): the /ws signaling socket with reconnect, and the WebRTC call
// through the SFU (docs/signaling.md, "Media").
//
// Negotiation is "perfect negotiation" with this page as the POLITE peer:
// the server is impolite and never rolls back. When our offer crosses one of
// the server's, we roll ours back (setRemoteDescription does it implicitly),
// answer the server's offer and offer again.
//
// Test-only convenience: `?relay=1` in the page URL, or
// localStorage["televisit.relay"] = "1", sets iceTransportPolicy "relay" so
// the media must go through the TURN servers from `joined.ice_servers`.
//
// In-call controls (controls.js) use setMuted, replaceTrack, sendChat and
// the listeners added with on(type, fn): handle() passes them the room's
// chat, participant_joined/left/muted, recording_state and joined messages.
//
// Several nodes (docs/signaling.md, "Several nodes: moved"): a server may
// answer `moved` and close with 4302 when the visit's room lives on another
// node. openSocket then reconnects at once to /ws?node=<node> (same origin,
// same cookies; the node we reached proxies the socket), and falls back to
// plain /ws with the usual backoff when that fails. The Call drops its dead
// PeerConnection at once and, on the new node's `joined` (resumed: false),
// builds a new one and publishes again as on a first join.
//
// Never log PHI: this module logs nothing but fixed texts and state names.

const TERMINAL_CLOSE = new Set([4400, 4401, 4403, 4409]);
const CLOSE_MOVED = 4302; // the room lives on another node: reconnect there at once
const NODE_ID = /^[A-Za-z0-9._-]{1,100}$/; // a node id as the server sends it
const MOVE_CALM_MS = 10000; // a socket open this long resets the count of moves in a row
const OPEN_TIMEOUT_MS = 10000; // a socket not open by then is dropped and retried

// ROOM_EVENTS are the server messages that Call.handle passes to the
// listeners of Call.on (joined also goes to the negotiation). Errors with a
// recording_* code go to the listeners of "recording_error".
const ROOM_EVENTS = new Set(["joined", "chat", "participant_joined", "participant_left", "participant_muted",
  "recording_state", "recording_consent_request"]);

let nextID = 0;

// openSocket opens /ws on this origin, sends hello and hands every server
// message to onMessage. When the socket drops it reconnects with backoff
// (0.5 s doubling up to 10 s) and calls onOpen again after each hello; it
// gives up on the close codes that say not to reconnect and calls
// onClosed(code). After `moved` (close 4302) it reconnects at once to
// /ws?node=<node> (see the top of this file). onState gets "connecting",
// "open" or "reconnecting".
export function openSocket({ hello = {}, onOpen = () => {}, onMessage, onState = () => {}, onClosed = () => {} }) {
  let ws = null;
  let attempt = 0;
  let stopped = false;
  let timer = null;
  let opened = false; // a socket of ours has been open: later connects are reconnects
  let node = ""; // the ?node= of the current socket ("" for plain /ws)
  let nextNode = ""; // the ?node= of the next connect, tried once
  let movedTo = null; // the node named by `moved` on the current socket ("": any)
  let moves = 0; // moves in a row: a loop of moves backs off
  let movesTotal = 0;
  let openedAt = 0;

  const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const urlFor = (n) => (n ? base + "?node=" + encodeURIComponent(n) : base);

  function send(msg) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ v: 1, id: "c-" + ++nextID, ...msg }));
    return true;
  }

  function retry() {
    onState("reconnecting");
    const delay = Math.min(10000, 500 * 2 ** attempt);
    attempt++;
    timer = setTimeout(connect, delay);
  }

  // moved reconnects to the node that holds the room: at once, unless the
  // moves come in a row (then backing off, still to that node, but by 2 s
  // at most: after a node dies its room is moved as soon as its lease runs
  // out, and the patient should be back in the visit within seconds).
  function moved(to) {
    if (Date.now() - openedAt > MOVE_CALM_MS) moves = 0;
    moves++;
    movesTotal++;
    nextNode = to;
    onState("reconnecting");
    const delay = moves <= 2 ? 0 : Math.min(2000, 500 * 2 ** (moves - 3));
    timer = setTimeout(connect, delay);
  }

  function connect() {
    onState(attempt === 0 && !opened ? "connecting" : "reconnecting");
    const target = nextNode;
    nextNode = ""; // a failed ?node= socket is retried at plain /ws
    let sock;
    try {
      sock = new WebSocket(urlFor(target));
    } catch {
      retry(); // refused at once (e.g. offline): try again later
      return;
    }
    ws = sock;
    node = target;
    movedTo = null;
    // A connection attempt that hangs (a dead network) is given up, and retried.
    const openTimer = setTimeout(() => {
      if (sock.readyState === WebSocket.CONNECTING) sock.close();
    }, OPEN_TIMEOUT_MS);
    sock.onopen = () => {
      clearTimeout(openTimer);
      attempt = 0;
      opened = true;
      openedAt = Date.now();
      send({ type: "hello", ...hello });
      onState("open");
      onOpen();
    };
    sock.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "moved" && ws === sock) {
        movedTo = typeof msg.node === "string" && NODE_ID.test(msg.node) ? msg.node : "";
      }
      onMessage(msg);
    };
    sock.onclose = (ev) => {
      clearTimeout(openTimer);
      if (ws !== sock) return;
      ws = null;
      if (stopped) return;
      if (ev.code === CLOSE_MOVED || movedTo !== null) {
        moved(movedTo || "");
        return;
      }
      if (TERMINAL_CLOSE.has(ev.code)) {
        stopped = true;
        onClosed(ev.code);
        return;
      }
      retry();
    };
  }

  connect();
  return {
    send,
    // reconnect drops the current socket as a network failure would; the
    // usual reconnect follows (used by tests, and after network changes).
    reconnect() {
      if (ws) ws.close(4000, "reconnect");
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
      ws = null;
    },
    // node is the ?node= the current socket was opened with ("" for plain
    // /ws); moves counts the `moved` reconnects (both for tests).
    get node() {
      return node;
    },
    get moves() {
      return movesTotal;
    },
  };
}

// relayOnly reports the test-only relay switch (see the top of this file).
export function relayOnly() {
  try {
    if (new URLSearchParams(location.search).get("relay") === "1") return true;
    return localStorage.getItem("televisit.relay") === "1";
  } catch {
    return false;
  }
}

// getMedia asks for the camera and the microphone.
export function getMedia() {
  return navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 20 } },
  });
}

// Call is one participant's media session in the visit's room. socket is
// what openSocket returns; remotes is the element that gets a <video> (and an
// <audio>) per remote stream; onState gets "joining", "connecting",
// "connected", "failed", "stopped" (with the reason) or "error" (with the
// error code).
export class Call {
  constructor({ socket, stream, remotes, visitID = null, onState = () => {} }) {
    this.socket = socket;
    this.send = (msg) => socket.send(msg);
    this.iceRestarts = 0; // ICE restarts offered (after resumed joins or failures)
    this.stream = stream;
    this.remotes = remotes;
    this.visitID = visitID;
    this.onState = onState;
    this.pc = null;
    this.wantJoined = false;
    this.joined = false; // the current socket has had our joined: media messages may go
    this.makingOffer = false;
    this.offerAgain = false;
    this.restartPending = false;
    this.pending = []; // remote candidates before a remote description
    this.queue = Promise.resolve(); // server messages, one at a time
    this.senders = {}; // kind -> our RTCRtpSender
    this.muted = { audio: false, video: false };
    this.participantID = null; // ours, from joined
    this.people = new Map(); // the others in the room: id -> {role, display_name, muted: {audio, video}}
    this.listeners = new Map(); // message type -> [fn]
    window.call = this;
  }

  // on calls fn(msg) for every server message of type (see ROOM_EVENTS).
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }

  emit(msg) {
    this.trackPeople(msg);
    for (const fn of this.listeners.get(msg.type) || []) {
      try {
        fn(msg);
      } catch {
        console.warn("call: a listener failed");
      }
    }
  }

  // trackPeople keeps this.people up to date before listeners run.
  trackPeople(msg) {
    const add = (p) => this.people.set(p.participant_id, { role: p.role, display_name: p.display_name, muted: {} });
    switch (msg.type) {
      case "joined":
        this.people.clear();
        for (const p of msg.participants || []) add(p);
        break;
      case "participant_joined":
        add(msg);
        this.sendMuted(); // the newcomer learns what we turned off
        break;
      case "participant_left":
        this.people.delete(msg.participant_id);
        break;
      case "participant_muted": {
        const p = this.people.get(msg.participant_id);
        if (p) p.muted[msg.kind] = !!msg.muted;
        break;
      }
      case "media_stopped":
        this.people.clear();
        break;
    }
  }

  // setMuted turns our track of kind ("audio" or "video") off or on and
  // tells the room (participant_muted).
  setMuted(kind, muted) {
    this.muted[kind] = muted;
    for (const t of this.stream.getTracks()) if (t.kind === kind) t.enabled = !muted;
    if (this.pc && this.joined) this.send({ type: "mute", kind, muted }); // else sent after the (re)join
  }

  // sendChat sends a chat message to the room; false when the socket is down.
  sendChat(text) {
    return this.joined && this.send({ type: "chat", text });
  }

  // replaceTrack sends track instead of our current one of its kind, with
  // no renegotiation (RTCRtpSender.replaceTrack), and puts it in the local
  // stream so that the preview shows it. It returns the track it replaced,
  // which the caller stops or keeps.
  async replaceTrack(track) {
    const kind = track.kind;
    const old = this.stream.getTracks().find((t) => t.kind === kind) || null;
    track.enabled = !this.muted[kind];
    const sender = this.senders[kind];
    if (sender && this.pc) await sender.replaceTrack(track);
    if (old) this.stream.removeTrack(old);
    this.stream.addTrack(track);
    return old;
  }

  replaceVideoTrack(track) {
    return this.replaceTrack(track);
  }

  replaceAudioTrack(track) {
    return this.replaceTrack(track);
  }

  // join asks the server for a place in the room (again after a reconnect).
  join() {
    this.wantJoined = true;
    this.onState("joining");
    // Without a PeerConnection (dropped on moved) a place the server still
    // holds cannot be resumed: ask for a new one.
    const msg = { type: "join", resume: !!this.pc };
    if (this.visitID) msg.visit_id = this.visitID;
    this.send(msg);
  }

  // socketOpened rejoins after a reconnect. Until the new socket's joined,
  // nothing about media is sent: the server (perhaps another node) would
  // answer not_joined.
  socketOpened() {
    this.joined = false;
    if (this.wantJoined) this.join();
  }

  // leave closes the media; stop is what the server ended.
  leave() {
    this.wantJoined = false;
    this.send({ type: "leave" });
    this.dropPC();
  }

  closePC() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.pending = [];
    this.remotes.replaceChildren();
  }

  // dropPC closes the PeerConnection from outside the signaling queue and
  // starts a new queue: a step still awaiting the closed connection (its
  // promises never settle once it is closed) must not hold up the next
  // join's steps.
  dropPC() {
    this.closePC();
    this.joined = false;
    this.makingOffer = false;
    this.offerAgain = false;
    this.restartPending = false;
    this.queue = Promise.resolve();
  }

  // handle takes a server message; it returns false for messages that are
  // not about media.
  handle(msg) {
    if (msg.type !== "joined" && ROOM_EVENTS.has(msg.type)) {
      this.emit(msg);
      return true;
    }
    switch (msg.type) {
      case "joined":
      case "offer":
      case "answer":
      case "candidate":
        this.enqueue(() => this.onMedia(msg));
        return true;
      case "media_stopped":
        this.wantJoined = false;
        this.dropPC();
        this.emit(msg);
        this.onState("stopped", msg.reason);
        return true;
      case "media_state":
        return true;
      case "moved":
        // The room is elsewhere (or going there): this PeerConnection is
        // dead. The socket reconnects by itself; the rejoin builds a new one.
        this.dropPC();
        return true;
      case "error":
        if (typeof msg.code === "string" && msg.code.startsWith("recording_")) {
          this.emit({ ...msg, type: "recording_error" });
          return true;
        }
        if (msg.code === "glare") {
          this.offerAgain = true;
          this.enqueue(() => this.maybeOfferAgain());
          return true;
        }
        if (["not_admitted", "not_joined", "media_unavailable", "bad_sdp"].includes(msg.code) ||
          (this.wantJoined && msg.code === "forbidden")) {
          this.onState("error", msg.code);
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  // enqueue runs signaling steps one at a time, in order: server messages,
  // our offers and re-offers. An answer is thus always sent before the
  // next offer is made.
  enqueue(step) {
    this.queue = this.queue.then(step).catch((err) => {
      console.warn("call: signaling step failed:", err && err.name);
    });
  }

  async onMedia(msg) {
    switch (msg.type) {
      case "joined":
        return this.onJoined(msg);
      case "offer":
        return this.onOffer(msg.sdp);
      case "answer":
        return this.onAnswer(msg.sdp);
      case "candidate":
        return this.onCandidate(msg.candidate);
    }
  }

  onJoined(msg) {
    this.joined = true;
    this.participantID = msg.participant_id;
    this.emit(msg);
    const config = { iceServers: msg.ice_servers || [] };
    if (relayOnly()) config.iceTransportPolicy = "relay";
    if (this.pc && msg.resumed) {
      this.pc.setConfiguration(config); // fresh TURN credentials
      this.onState(this.pc.connectionState === "connected" ? "connected" : "connecting");
      this.restartPending = true;
      this.sendMuted();
      return this.maybeOfferAgain();
    }
    this.closePC();
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    pc.onicecandidate = (ev) => {
      if (ev.candidate && this.pc === pc && this.joined) this.send({ type: "candidate", candidate: ev.candidate.toJSON() });
    };
    pc.onnegotiationneeded = () => {
      if (this.pc === pc) this.enqueue(() => this.offer());
    };
    pc.onsignalingstatechange = () => {
      if (this.pc === pc && pc.signalingState === "stable") this.enqueue(() => this.maybeOfferAgain());
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      const s = pc.connectionState;
      if (["connected", "failed", "connecting", "disconnected"].includes(s)) this.onState(s);
      if (s === "failed") {
        // A network change broke the path: restart ICE (new candidates).
        this.restartPending = true;
        this.enqueue(() => this.maybeOfferAgain());
      }
    };
    pc.ontrack = (ev) => this.addRemote(ev);
    this.onState("connecting");
    // Our tracks go on send-only m-lines: the SFU forwards the others' on
    // m-lines of their own. (With sendrecv, Pion may put a forwarded track
    // it added before our first offer on one of our m-lines, and then
    // neither direction of that m-line carries media.)
    this.senders = {};
    for (const track of this.stream.getTracks()) {
      this.senders[track.kind] = pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] }).sender;
    }
    this.sendMuted();
  }

  // sendMuted tells a room we (re)joined what we have turned off.
  sendMuted() {
    for (const kind of ["audio", "video"]) if (this.muted[kind]) this.send({ type: "mute", kind, muted: true });
  }

  // offer makes and sends an offer. Steps are queued, so a server offer is
  // a collision exactly when it finds us in have-local-offer.
  async offer(iceRestart = false) {
    const pc = this.pc;
    if (!pc) return;
    if (this.makingOffer || pc.signalingState !== "stable" || !this.joined) {
      this.offerAgain = true; // once the current exchange is over, or after the rejoin
      return;
    }
    try {
      this.makingOffer = true;
      if (iceRestart) {
        await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      } else {
        await pc.setLocalDescription();
      }
      if (this.pc !== pc || pc.signalingState !== "have-local-offer") return;
      this.send({ type: "offer", sdp: pc.localDescription.sdp });
    } catch (err) {
      console.warn("call: offer failed:", err && err.name);
    } finally {
      if (this.pc === pc) this.makingOffer = false; // (dropPC resets it for a new connection)
    }
  }

  // maybeOfferAgain offers once the connection is stable again, after a
  // refused (glare) offer or for an ICE restart after a reconnect.
  async maybeOfferAgain() {
    const pc = this.pc;
    if (!pc || this.makingOffer || pc.signalingState !== "stable") return;
    if (this.restartPending) {
      this.restartPending = false;
      this.offerAgain = false;
      this.iceRestarts++;
      return this.offer(true);
    }
    if (this.offerAgain) {
      this.offerAgain = false;
      return this.offer();
    }
  }

  async onOffer(sdp) {
    const pc = this.pc;
    if (!pc) return;
    // Polite: a colliding offer of ours is rolled back by
    // setRemoteDescription (implicit rollback); the server will refuse
    // ours with "glare", and we offer again once stable.
    if (this.makingOffer || pc.signalingState !== "stable") this.offerAgain = true;
    await pc.setRemoteDescription({ type: "offer", sdp });
    await this.flushCandidates();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: "answer", sdp: answer.sdp });
  }

  async onAnswer(sdp) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return; // stale: our offer was rolled back
    await pc.setRemoteDescription({ type: "answer", sdp });
    await this.flushCandidates();
  }

  async onCandidate(candidate) {
    const pc = this.pc;
    if (!pc || !candidate) return;
    if (!pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    try {
      await pc.addIceCandidate(candidate);
    } catch {
      console.warn("call: a remote candidate was refused");
    }
  }

  async flushCandidates() {
    const list = this.pending;
    this.pending = [];
    for (const c of list) await this.onCandidate(c);
  }

  addRemote(ev) {
    const stream = ev.streams[0] || new MediaStream([ev.track]);
    const kind = ev.track.kind;
    const key = stream.id + ":" + kind;
    let el = [...this.remotes.children].find((e) => e.dataset.key === key);
    if (!el) {
      el = document.createElement(kind === "video" ? "video" : "audio");
      el.dataset.key = key;
      el.autoplay = true;
      if (kind === "video") {
        el.muted = true; // the sound plays from the <audio> element
        el.playsInline = true;
        el.setAttribute("aria-label", "Video of another participant");
        el.className = "remote-video";
      }
      this.remotes.append(el);
    }
    el.srcObject = stream;
    stream.onremovetrack = () => {
      if (stream.getTracks().length === 0) {
        for (const e of [...this.remotes.children]) if (e.dataset.key.startsWith(stream.id + ":")) e.remove();
      }
    };
  }
}
