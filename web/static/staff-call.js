// The staff call page at /call?visit=<visit id> (a visit id is not PHI).
// The clinician is signed in (staff cookie); the page opens /ws, joins the
// visit's room and can admit the waiting patient. Nothing here logs PHI.
import { Call, getMedia, openSocket } from "/static/call.js";

const $ = (id) => document.getElementById(id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let call = null;
let sock = null;

function setState(state, text, isError = false) {
  document.body.dataset.state = state;
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function start() {
  const visitID = new URLSearchParams(location.search).get("visit") || "";
  if (!UUID.test(visitID)) {
    setState("bad_visit", "No visit chosen.", true);
    return;
  }
  const me = await fetch("/api/v1/me", { credentials: "same-origin" });
  if (me.status === 401) {
    location.assign("/auth/login?return_to=" + encodeURIComponent(location.pathname + location.search));
    return;
  }
  let stream;
  try {
    stream = await getMedia();
  } catch {
    setState("media_error", "The camera or microphone is not available.", true);
    return;
  }
  $("local").srcObject = stream;
  sock = openSocket({
    onOpen: () => call.socketOpened(),
    onState: (s) => {
      if (s === "reconnecting") setState("reconnecting", "Connection lost. Reconnecting…", true);
    },
    onMessage: (msg) => call.handle(msg),
    onClosed: () => setState("ended", "Your session has ended. Please sign in again.", true),
  });
  call = new Call({ socket: sock, stream, remotes: $("remotes"), visitID, onState: onCallState });
  $("admit").addEventListener("click", () => admit(visitID));
  $("join").addEventListener("click", () => call.join());
  $("leave").addEventListener("click", () => {
    call.leave();
    $("leave").hidden = true;
    $("join").hidden = false;
    setState("left", "You left the call.");
  });
  $("join").hidden = false;
  setState("ready", "Ready. Admit the patient or join the call.");
  call.wantJoined = true; // join as soon as the socket is open
}

async function admit(visitID) {
  $("admit").disabled = true;
  const r = await fetch("/api/v1/visits/" + encodeURIComponent(visitID) + "/admit", {
    method: "POST",
    credentials: "same-origin",
  });
  $("admit").disabled = false;
  if (r.status !== 200) {
    setState("admit_error", "The patient could not be admitted (" + r.status + ").", true);
    return;
  }
  $("admit").hidden = true;
  call.join();
}

function onCallState(state, detail) {
  switch (state) {
    case "joining":
      setState("joining", "Joining…");
      break;
    case "connecting":
      $("join").hidden = true;
      $("leave").hidden = false;
      setState("connecting", "Connecting…");
      break;
    case "connected":
      setState("in_call", "In the call.");
      break;
    case "failed":
      setState("failed", "The connection failed.", true);
      break;
    case "stopped":
      $("join").hidden = false;
      $("leave").hidden = true;
      setState("stopped", "The call stopped (" + detail + ").");
      break;
    case "error":
      if (detail === "not_admitted") {
        $("admit").hidden = false;
        setState("ready", "The patient is not in the call yet. Admit them when they are waiting.");
      } else {
        setState("call_error", "The call could not start (" + detail + ").", true);
      }
      break;
  }
}

start().catch(() => setState("error", "Something went wrong. Please reload the page.", true));
