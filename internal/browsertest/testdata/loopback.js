'use strict';
// Two RTCPeerConnections in one page: "a" sends the fake camera, "b"
// receives it. The test calls loopback.start() and reads loopback.b's stats.
const loopback = {a: null, b: null};
window.loopback = loopback;

loopback.start = async function () {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 320, height: 240, frameRate: 20}, audio: false});
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  loopback.a = a;
  loopback.b = b;
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
  b.ontrack = (e) => { document.getElementById('remote').srcObject = e.streams[0]; };
  a.onconnectionstatechange = () => console.log('a connection', a.connectionState);
  for (const track of stream.getTracks()) a.addTrack(track, stream);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  return true;
};
