'use strict';
// One RTCPeerConnection that sends the fake camera and signals through the
// test's WebSocket relay. The test calls peer.start(config) with
// {wsURL, offer, iceServers, iceTransportPolicy} and reads peer.pc's stats.
const peer = {pc: null, ws: null};
window.peer = peer;

peer.start = async function (cfg) {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 320, height: 240, frameRate: 20}, audio: false});
  const pc = new RTCPeerConnection({
    iceServers: cfg.iceServers || [],
    iceTransportPolicy: cfg.iceTransportPolicy || 'all',
  });
  peer.pc = pc;
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.ontrack = (e) => { document.getElementById('remote').srcObject = e.streams[0]; };
  pc.onconnectionstatechange = () => console.log('connection', pc.connectionState);

  const ws = new WebSocket(cfg.wsURL);
  peer.ws = ws;
  const send = (m) => ws.send(JSON.stringify(m));
  // Messages are handled one at a time, in order: a candidate must not be
  // added while the description before it is still being applied.
  let chain = Promise.resolve();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    chain = chain.then(() => handle(pc, send, m)).catch((err) => console.error('signalling:', err.name, err.message));
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('websocket failed'));
  });
  pc.onicecandidate = (e) => { if (e.candidate) send({candidate: e.candidate.toJSON()}); };
  if (cfg.offer) {
    await pc.setLocalDescription();
    send({description: pc.localDescription.toJSON()});
  }
  return true;
};

async function handle(pc, send, m) {
  if (m.description) {
    await pc.setRemoteDescription(m.description);
    if (m.description.type === 'offer') {
      await pc.setLocalDescription();
      send({description: pc.localDescription.toJSON()});
    }
  } else if (m.candidate) {
    await pc.addIceCandidate(m.candidate);
  }
}
