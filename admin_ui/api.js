// The one call the page makes: a page of the caller's organisation's log.
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

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET /events with `query` (URLSearchParams); resolves to {events, next_cursor}. */
export async function fetchPage(query, token) {
  let response;
  try {
    response = await fetch(`${API_BASE}/events?${query}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  } catch {
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
