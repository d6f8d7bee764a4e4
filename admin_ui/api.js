// The calls the page makes: pages of the caller's organisation's log, the investigation
// helpers (actors, event types), the ledger's checkpoints and proofs the page verifies,
// exports (start one, follow it, list them) and streams (add, list, test, resume, delete).
import { API_BASE } from "./config.js";

const TOKEN_KEY = "audit-log-token";

/** The access token: taken from `#token=` once (then dropped from the address bar), kept for the tab. */
export function currentToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get("token");
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function useToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

/** Forget the tab's token (it was refused, or the user wants to use another). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  /** `errors`: the answer's field errors ([{field, message}]), for a 422 to show each
   *  beside its field. */
  constructor(status, message, errors = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }

  /** The authorizer's explicit Deny (an ORG Member), or query_log's own refusal of a
   *  caller who is not an ORG Admin; not any other 403 (a wrong path answers "Missing
   *  Authentication Token" with 403 too). */
  get isNotAnAdmin() {
    return this.status === 403 && /not authorized|for ORG Admins/i.test(this.message);
  }

  /** Whether sending the same request again can succeed: the service could not be
   *  reached, was throttled or failed (5xx). A 400 or 422 will be refused again. */
  get isRetryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** GET /events with `query` (URLSearchParams); resolves to {events, next_cursor}.
 *  An aborted request (`signal`) rejects with the AbortError itself. */
export function fetchPage(query, token, signal) {
  return fetchJson(`/events?${query}`, token, signal);
}

/** GET /actors: the organisation's actors whose name (any word), email or id starts with
 *  `q` (all of them without), most recently seen first; resolves to {actors, next_cursor}
 *  (a page may be short, even empty, and still have a cursor). */
export function fetchActors(q, limit, token, signal, cursor = null) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (q) query.set("q", q);
  if (cursor) query.set("cursor", cursor);
  return fetchJson(`/actors?${query}`, token, signal);
}

/** GET /event-types: every type recorded in the organisation; resolves to {event_types}. */
export function fetchEventTypes(token, signal) {
  return fetchJson("/event-types", token, signal);
}

/** POST /exports: export the events matching `filters` (the GET /events filters, only
 *  those set) as `format` ("csv" or "ndjson"); resolves to the export, queued. */
export function startExport(format, filters, token) {
  return fetchJson("/exports", token, undefined, { method: "POST", body: { format, ...filters } });
}

/** GET /exports/{id}: the export's state and, once it succeeded, download links presigned
 *  just now (valid until its `download_expires_at`). */
export function fetchExport(exportId, token, signal) {
  return fetchJson(`/exports/${encodeURIComponent(exportId)}`, token, signal);
}

/** GET /exports: the organisation's exports, newest first, without links; resolves to
 *  {exports, next_cursor}. */
export function fetchExports(limit, token, signal, cursor = null) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  return fetchJson(`/exports?${query}`, token, signal);
}

/** POST /streams: a stream of `fields` ({type, url, …, event_types?}); resolves to the
 *  stream, and for a webhook its signing `secret`, which no later answer repeats. */
export function createStream(fields, token) {
  return fetchJson("/streams", token, undefined, { method: "POST", body: fields });
}

/** GET /streams: the organisation's streams, newest first; resolves to {streams}. */
export function fetchStreams(token, signal) {
  return fetchJson("/streams", token, signal);
}

/** POST /streams/{id}/test: one test event sent now; resolves to {delivered, status_code,
 *  response, error}. */
export function testStream(streamId, token, signal) {
  return fetchJson(`/streams/${encodeURIComponent(streamId)}/test`, token, signal, { method: "POST" });
}

/** POST /streams/{id}/resume: a paused (or failing) stream delivers again; resolves to it. */
export function resumeStream(streamId, token, signal) {
  return fetchJson(`/streams/${encodeURIComponent(streamId)}/resume`, token, signal, { method: "POST" });
}

/** DELETE /streams/{id}: resolves to null (204). */
export function deleteStream(streamId, token, signal) {
  return fetchJson(`/streams/${encodeURIComponent(streamId)}`, token, signal, { method: "DELETE" });
}

/** GET `path` (with its query) of the API as the signed-in admin, or send it `body` as
 *  JSON with another `method`; the JSON answer, or an ApiError with the service's message. */
export async function fetchJson(path, token, signal, { method = "GET", body } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The Audit Log service could not be reached.");
  }
  if (response.status === 204) return null;
  if (response.ok) return response.json();
  let message = `The service answered ${response.status}.`;
  let errors = [];
  try {
    const body = await response.json();
    errors = Array.isArray(body.errors) ? body.errors : [];
    const fields = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    message = [body.message ?? body.Message, fields].filter(Boolean).join(" — ") || message;
  } catch {
    // not JSON: keep the status
  }
  throw new ApiError(response.status, message, errors);
}
