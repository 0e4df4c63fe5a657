// The "Invite a guest" panel of the staff call page: invite (the answer
// holds the guest link, shown once, to copy), list, admit and remove the
// visit's guests (docs/openapi.json, /visits/{visitID}/guests). A guest's
// name may be a relative's: it is shown with textContent and never logged.

import { api, problemText } from "/static/api.js";

const STATUS_TEXT = {
  invited: "Invited (has not opened the link)",
  waiting: "Waiting to be admitted",
  admitted: "Admitted",
  removed: "Removed",
  left: "Left",
};
const ROLE_TEXT = { interpreter: "Interpreter", family: "Family member", caregiver: "Caregiver", other: "" };

// mountGuests wires the panel of the page for visitID; it returns
// refresh(), which re-reads the guest list.
export function mountGuests(visitID) {
  const $ = (id) => document.getElementById(id);
  const base = "/api/v1/visits/" + encodeURIComponent(visitID) + "/guests";
  const showError = (text) => {
    $("guest-error").textContent = text;
    $("guest-error").hidden = !text;
  };

  async function refresh() {
    const r = await api("GET", base);
    if (r.status !== 200) return;
    $("guest-list").replaceChildren(...(r.data.items || []).map((g) => guestItem(g, act)));
  }

  async function act(guestID, action) {
    const r = await api("POST", base + "/" + encodeURIComponent(guestID) + "/" + action);
    showError(r.status === 200 ? "" : problemText(r, "That did not work. Please try again."));
    refresh();
  }

  $("guest-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("invite-guest").disabled = true;
    const r = await api("POST", base, { display_name: $("guest-name").value.trim(), role: $("guest-role").value });
    $("invite-guest").disabled = false;
    if (r.status !== 201) {
      showError(problemText(r, "The guest could not be invited. Please try again."));
      return;
    }
    showError("");
    $("guest-form").reset();
    $("guest-link").value = r.data.url;
    $("copy-status").textContent = "";
    $("guest-link-box").hidden = false;
    refresh();
  });
  $("copy-guest-link").addEventListener("click", () => copyLink($("guest-link"), $("copy-status")));
  refresh();
  return refresh;
}

// copyLink copies the link; where the clipboard API is refused it selects
// the text so that the person can copy it themselves.
async function copyLink(input, status) {
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = "Link copied.";
  } catch {
    input.focus();
    input.select();
    status.textContent = "The link is selected: copy it with Ctrl+C (⌘C on a Mac).";
  }
}

function guestItem(g, act) {
  const li = document.createElement("li");
  li.className = "guest";
  li.dataset.guest = g.id;
  li.dataset.status = g.status;
  const name = document.createElement("span");
  name.className = "guest-name";
  name.textContent = g.display_name + (ROLE_TEXT[g.role] ? " (" + ROLE_TEXT[g.role] + ")" : "");
  const status = document.createElement("span");
  status.className = "guest-status note";
  status.textContent = STATUS_TEXT[g.status] || g.status;
  li.append(name, " ", status);
  if (g.status === "waiting") li.append(button("Admit", "admit-guest", g.display_name, () => act(g.id, "admit")));
  if (["invited", "waiting", "admitted"].includes(g.status)) {
    li.append(button("Remove", "remove-guest", g.display_name, () => act(g.id, "remove")));
  }
  return li;
}

function button(text, cls, who, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", text + " " + who);
  b.addEventListener("click", onClick);
  return b;
}
