// The in-call chat panel (mounted by controls.js): a log of the room's
// chat messages and a form to send one (docs/signaling.md, "chat"). Text
// is rendered with textContent only, and never logged.

const MAX_CHARS = 2000;

// mountChat renders the chat panel into container. label(participantID)
// names a sender ("You", "Clinician", "Patient" or a guest's name).
export function mountChat(call, container, label) {
  const section = document.createElement("section");
  section.className = "chat";
  section.setAttribute("aria-labelledby", "chat-heading");
  section.innerHTML = `<h2 id="chat-heading">Chat</h2>
<div id="chat-log" class="chat-log" role="log" aria-live="polite" aria-label="Chat messages" tabindex="0"></div>
<form id="chat-form" class="chat-form">
<label for="chat-input">Message</label>
<div class="chat-row"><input id="chat-input" name="text" type="text" maxlength="${MAX_CHARS}" autocomplete="off" required>
<button type="submit" id="chat-send">Send</button></div>
<p id="chat-error" class="error" hidden>Not sent: the connection is down. Try again in a moment.</p>
</form>`;
  container.append(section);
  const log = section.querySelector("#chat-log");
  const input = section.querySelector("#chat-input");
  const error = section.querySelector("#chat-error");

  section.querySelector("#chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const sent = call.sendChat(text.slice(0, MAX_CHARS));
    error.hidden = sent;
    if (sent) input.value = "";
  });
  call.on("chat", (msg) => log.append(chatItem(msg, label(msg.from))));
}

// chatItem is one message: sender, time and text, all as plain text.
function chatItem(msg, sender) {
  const item = document.createElement("div");
  item.className = "chat-message";
  item.dataset.from = sender === "You" ? "self" : "other";
  const who = document.createElement("span");
  who.className = "chat-sender";
  who.textContent = sender;
  const when = document.createElement("time");
  when.className = "chat-time";
  const at = new Date(msg.at);
  if (!Number.isNaN(at.getTime())) {
    when.dateTime = at.toISOString();
    when.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  const text = document.createElement("p");
  text.className = "chat-text";
  text.textContent = typeof msg.text === "string" ? msg.text : "";
  item.append(who, " ", when, text);
  return item;
}
