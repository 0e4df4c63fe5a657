// Network check for the patient page (docs/signaling.md, "Network check"):
// over the signaling socket the server starts a probe PeerConnection on the
// media server; we connect to it, time a few echoes over its data channel,
// and separately gather relay-only candidates against the TURN servers it
// hands us to prove that TURN is reachable. Nothing here logs anything:
// SDP and candidates never reach the console.

const REPLY_MS = 10000; // the server's network_test answer
const CONNECT_MS = 12000; // the probe's data channel opens
const PINGS = 5;
const PING_GAP_MS = 200;
const ECHO_WAIT_MS = 2000; // after the last ping
const TURN_MS = 8000;
const POOR_RTT_MS = 400;

let nextTest = 0;

// NetworkTest runs one network check at a time. send is the socket's send
// (openSocket's); hand every server message to handle().
export class NetworkTest {
  constructor(send) {
    this.send = send;
    this.id = null; // our request id
    this.probe = null; // the server's probe id
    this.waiter = null; // resolves with the network_test answer or error
    this.pc = null;
    this.pending = [];
  }

  // handle takes a server message; it returns true when it was ours.
  handle(msg) {
    switch (msg.type) {
      case "network_test":
        if (msg.ref !== this.id || !this.waiter) return true;
        this.waiter(msg);
        return true;
      case "network_test_candidate":
        if (msg.probe === this.probe) this.addCandidate(msg.candidate);
        return true;
      case "error":
        if (!this.id || msg.ref !== this.id) return false;
        if (this.waiter) this.waiter(msg);
        return true;
    }
    return false;
  }

  // run checks the path to the media server and TURN. It resolves with
  // network ("good", "poor", "failed" or "skipped"), rttMs (median, or
  // null), lost (pings without an echo), turn ("reachable", "unreachable"
  // or "not_configured") and reason (when skipped or failed).
  async run() {
    this.stop();
    const reply = await this.request();
    if (!reply || reply.type === "error") {
      const reason = reply ? reply.code : "no_answer";
      return { network: reason === "media_unavailable" ? "skipped" : "failed", rttMs: null, lost: 0, turn: "not_configured", reason };
    }
    this.probe = reply.probe;
    const servers = reply.ice_servers || [];
    const [echo, turn] = await Promise.all([this.echoTest(reply.sdp, servers), turnCheck(servers)]);
    this.stop();
    return { ...echo, turn, network: verdict(echo, turn) };
  }

  // request sends network_test (waiting for the socket to be open) and
  // resolves with the answer, an error, or null after REPLY_MS.
  request() {
    this.id = "nt-" + ++nextTest;
    const id = this.id;
    return new Promise((resolve) => {
      const deadline = Date.now() + REPLY_MS;
      let retry = null;
      let timer = null;
      const done = (m) => {
        clearTimeout(timer);
        clearInterval(retry);
        if (this.id === id) this.waiter = null;
        resolve(m);
      };
      this.waiter = done;
      timer = setTimeout(() => done(null), REPLY_MS);
      const trySend = () => this.send({ type: "network_test", id });
      if (!trySend()) {
        retry = setInterval(() => {
          if (trySend() || Date.now() > deadline) clearInterval(retry);
        }, 250);
      }
    });
  }

  // echoTest connects to the probe and times PINGS echoes.
  async echoTest(offer, servers) {
    const failed = { rttMs: null, lost: PINGS, connected: false };
    let pc;
    try {
      pc = new RTCPeerConnection({ iceServers: servers });
    } catch {
      return failed;
    }
    this.pc = pc;
    const probe = this.probe;
    pc.onicecandidate = (ev) => {
      if (ev.candidate && this.pc === pc) this.send({ type: "network_test_candidate", probe, candidate: ev.candidate.toJSON() });
    };
    const channel = new Promise((resolve) => {
      pc.ondatachannel = (ev) => {
        const dc = ev.channel;
        if (dc.readyState === "open") resolve(dc);
        else dc.onopen = () => resolve(dc);
      };
    });
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer });
      for (const c of this.pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.send({ type: "network_test_answer", probe, sdp: answer.sdp });
    } catch {
      return failed;
    }
    const dc = await Promise.race([channel, sleep(CONNECT_MS).then(() => null)]);
    if (!dc) return failed;
    return { ...(await pingPong(dc)), connected: true };
  }

  addCandidate(c) {
    if (!c) return;
    if (!this.pc || !this.pc.remoteDescription) {
      this.pending.push(c);
      return;
    }
    this.pc.addIceCandidate(c).catch(() => {});
  }

  stop() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.pending = [];
  }
}

// pingPong sends PINGS timestamped messages and collects the echoes.
async function pingPong(dc) {
  const sent = new Map();
  const rtts = [];
  dc.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    const t = sent.get(m.n);
    if (t !== undefined) {
      rtts.push(performance.now() - t);
      sent.delete(m.n);
    }
  };
  for (let n = 1; n <= PINGS; n++) {
    sent.set(n, performance.now());
    try {
      dc.send(JSON.stringify({ n }));
    } catch {
      break;
    }
    await sleep(PING_GAP_MS);
  }
  const end = Date.now() + ECHO_WAIT_MS;
  while (rtts.length < PINGS && Date.now() < end) await sleep(50);
  rtts.sort((a, b) => a - b);
  const rttMs = rtts.length ? Math.round(rtts[Math.floor(rtts.length / 2)]) : null;
  return { rttMs, lost: PINGS - rtts.length };
}

// turnCheck gathers relay-only candidates: one of type relay proves that
// a TURN server answered with an allocation.
export async function turnCheck(servers) {
  const turn = servers.filter((s) => [].concat(s.urls || []).some((u) => /^turns?:/.test(u)));
  if (turn.length === 0) return "not_configured";
  let pc;
  try {
    pc = new RTCPeerConnection({ iceServers: turn, iceTransportPolicy: "relay" });
  } catch {
    return "unreachable";
  }
  const found = new Promise((resolve) => {
    pc.onicecandidate = (ev) => {
      if (!ev.candidate) return resolve("unreachable"); // gathering complete
      const typ = ev.candidate.type || (/ typ (\w+)/.exec(ev.candidate.candidate) || [])[1];
      if (typ === "relay") resolve("reachable");
    };
  });
  try {
    pc.createDataChannel("turn-check");
    await pc.setLocalDescription(await pc.createOffer());
    return await Promise.race([found, sleep(TURN_MS).then(() => "unreachable")]);
  } catch {
    return "unreachable";
  } finally {
    pc.close();
  }
}

function verdict(echo, turn) {
  if (!echo.connected || echo.rttMs === null) return "failed";
  if (echo.rttMs > POOR_RTT_MS || echo.lost >= 2 || turn === "unreachable") return "poor";
  return "good";
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// networkText describes a network check's result in plain words.
export function networkText(r) {
  const turn = { reachable: " The backup route (relay) works too.", unreachable: " The backup route (relay) is blocked on this network." }[r.turn] || "";
  switch (r.network) {
    case "good":
      return `good (${r.rttMs} ms).` + turn;
    case "poor":
      return (r.rttMs === null ? "may be poor." : `may be poor (${r.rttMs} ms, ${r.lost} of ${PINGS} checks lost).`) + turn;
    case "failed":
      return r.reason === "rate_limited" ? "could not be tested just now: please wait a minute and test again." :
        "cannot connect to the video service.";
  }
  return "could not be checked.";
}
