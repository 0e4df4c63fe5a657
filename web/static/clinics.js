// The clinic picker the staff pages (schedule, admin) share: the caller's
// clinics in #clinic (shown, with the last choice restored, when there are
// two or more) or in #clinic-label (one). Nothing here logs anything.

import { problemText } from "/static/api.js";

// loadClinics asks get (the page's API helper) for the caller's clinics and
// fills the picker. storageKey keeps the last choice (a clinic id: not PHI)
// for this tab. When the clinics cannot be read, or there are none, it calls
// fail(state, text) and resolves with null.
export async function loadClinics(get, storageKey, fail) {
  const cl = await get("GET", "/api/v1/clinics");
  if (cl.status !== 200 || !cl.data) {
    fail("error", problemText(cl, "Your clinics could not be read."));
    return null;
  }
  const clinics = cl.data.items || [];
  if (clinics.length === 0) {
    fail("no_clinic", "Your account belongs to no clinic.");
    return null;
  }
  const select = document.getElementById("clinic");
  for (const c of clinics) select.append(new Option(c.name, c.id));
  if (clinics.length > 1) {
    document.getElementById("clinic-field").hidden = false;
    const saved = sessionStorage.getItem(storageKey);
    if (saved && clinics.some((c) => c.id === saved)) select.value = saved;
  } else {
    const label = document.getElementById("clinic-label");
    label.textContent = clinics[0].name;
    label.hidden = false;
  }
  return clinics;
}
