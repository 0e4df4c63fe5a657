// JSON requests from the pages to the HTTP API (docs/openapi.json), and the
// text of its problem answers. Nothing here logs anything.

// api sends a request with an optional JSON body and resolves with
// {status, data}: data is the parsed JSON answer or null; status 0 means
// the server could not be reached. onUnauthorized, when given, is called
// on a 401 (staff pages send the user to sign in).
export async function api(method, path, body, { onUnauthorized } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    return { status: 0, data: null };
  }
  let data = null;
  if (resp.status !== 204) {
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
  }
  if (resp.status === 401 && onUnauthorized) onUnauthorized();
  return { status: resp.status, data };
}

// problemText is the text to show for a failed request: a problem's detail
// is safe to show (it never carries PHI); a field's name that prefixes it
// is dropped, as the text is shown next to that field.
export function problemText(r, fallback) {
  if (r.status === 0) return "The server cannot be reached. Check the connection and try again.";
  let text = (r.data && (r.data.detail || r.data.title)) || fallback;
  const field = r.data && r.data.field;
  if (field && text.startsWith(field + ": ")) text = text.slice(field.length + 2);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
