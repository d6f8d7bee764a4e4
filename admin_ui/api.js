// The calls the page makes: pages of the caller's organisation's log, the investigation
// helpers (actors, event types), the ledger's checkpoints and proofs the page verifies,
// and exports (start one, follow it, list them).
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
  constructor(status, message) {
    super(message);
    this.status = status;
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
  if (response.ok) return response.json();
  let message = `The service answered ${response.status}.`;
  try {
    const body = await response.json();
    const fields = (body.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    message = [body.message ?? body.Message, fields].filter(Boolean).join(" — ") || message;
  } catch {
    // not JSON: keep the status
  }
  throw new ApiError(response.status, message);
}
