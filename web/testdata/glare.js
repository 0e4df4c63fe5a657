// Drives web/static/call.js against a fake SFU that behaves like the real
// one: the impolite peer, which refuses a crossing client offer with
// `error` `glare` after sending its own offer. window.glare.start() makes
// the offers cross deterministically: the fake server has its offer ready
// before the client's `joined`, and sends it when the client's offer
// arrives, followed by the glare error.
import { Call } from "/static/call.js";

const log = []; // message types in the order they crossed the "wire"
const spc = new RTCPeerConnection();
const serverCandidates = [];
let call = null;

function toClient(msg) {
  log.push("server:" + msg.type + (msg.code ? ":" + msg.code : ""));
  setTimeout(() => call.handle(msg), 0);
}

spc.onicecandidate = (ev) => {
  if (ev.candidate) {
    if (spc.remoteDescription) toClient({ type: "candidate", candidate: ev.candidate.toJSON() });
    else serverCandidates.push(ev.candidate.toJSON());
  }
};

async function fromClient(msg) {
  log.push("client:" + msg.type);
  switch (msg.type) {
    case "join":
      return;
    case "offer":
      if (spc.signalingState === "have-local-offer") {
        toClient({ type: "offer", sdp: spc.localDescription.sdp });
        for (const c of serverCandidates.splice(0)) toClient({ type: "candidate", candidate: c });
        toClient({ type: "error", code: "glare" });
        return;
      }
      await spc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      await spc.setLocalDescription();
      toClient({ type: "answer", sdp: spc.localDescription.sdp });
      return;
    case "answer":
      await spc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
      return;
    case "candidate":
      try {
        await spc.addIceCandidate(msg.candidate);
      } catch {
        // before the server has the client's SDP; the real SFU holds them
      }
      return;
  }
}

let serverQueue = Promise.resolve(); // like the SFU, one client message at a time
const socket = {
  send(msg) {
    serverQueue = serverQueue.then(() => fromClient(msg));
    return true;
  },
  reconnect() {},
};

async function start() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
  spc.addTransceiver(stream.getVideoTracks()[0].clone(), { direction: "sendonly" });
  await spc.setLocalDescription(await spc.createOffer()); // ready before the client joins
  call = new Call({ socket, stream, remotes: document.getElementById("remotes") });
  call.join();
  setTimeout(() => call.handle({ type: "joined", participant_id: "patient", ice_servers: [] }), 0);
  return true;
}

// serverReceives reports whether the fake server receives live video.
async function serverFrames() {
  let frames = 0;
  (await spc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
  });
  return frames;
}

window.glare = { start, log, spc, serverFrames };
