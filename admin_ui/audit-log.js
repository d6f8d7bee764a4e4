// The Audit Log page: filters in the URL, a table newest first, "Load more" by cursor.
import { ApiError, currentToken, fetchJson, fetchPage, forgetToken, useToken } from "./api.js";
import { actorLabel, endOfDay, localTime, startOfDay, utcTime } from "./format.js";
import { LedgerProblem, verifyEvent, verifyLatest } from "./ledger.js";

const KNOWN_TYPES = [
  "user.login", "user.password_reset", "user.mfa_enabled",
  "member.invited", "member.removed",
  "api_key.rotated", "organisation.settings_updated",
];
const PAGE_SIZE = "50";
const FILTERS = ["event_type", "actor_id", "from", "to"];

const $ = (id) => document.getElementById(id);
const form = $("filters");
const table = $("log");
const rows = table.querySelector("tbody");
const more = $("more");
const region = document.querySelector(".table-region");
// Pages a load follows by itself when the API answers a short, even empty, page with a
// cursor (event type + user filters stop a page after a read budget).
const SEARCH_PAGES = 5;
let nextCursor = null;
// Every load starts a new generation and aborts the one before: an answer that comes back
// for an older filter set (or an older "Load more") is dropped, never shown.
let generation = 0;
let inFlight = null;
let loadingMore = false;
// The latest checkpoint once verified (once per page view): what event proofs check against.
let ledgerCheck = null;

for (const type of KNOWN_TYPES) {
  const option = document.createElement("option");
  option.value = type;
  $("known-types").append(option);
}

/** The filters as the address bar holds them. */
function filtersFromUrl() {
  const url = new URLSearchParams(location.search);
  return Object.fromEntries(FILTERS.map((name) => [name, url.get(name) ?? ""]));
}

/** The API query for `filters` (dates become instants in the viewer's timezone). */
function apiQuery(filters, cursor) {
  const query = new URLSearchParams({ limit: PAGE_SIZE });
  if (filters.event_type) query.set("event_type", filters.event_type);
  if (filters.actor_id) query.set("actor_id", filters.actor_id);
  if (filters.from) query.set("since", startOfDay(filters.from));
  if (filters.to) query.set("until", endOfDay(filters.to));
  if (cursor) query.set("cursor", cursor);
  return query;
}

function showFilters(filters) {
  for (const name of FILTERS) form.elements[name].value = filters[name];
}

/** Put `filters` in the address bar (so the view can be shared) and load it. */
function navigate(filters) {
  const url = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) url.set(name, filters[name]);
  const search = url.toString();
  history.pushState(null, "", location.pathname + (search ? `?${search}` : ""));
  load(true);
}

function setStatus(text, busy = false) {
  $("status").textContent = text;
  region.setAttribute("aria-busy", String(busy));
}

function cell(row, ...children) {
  const td = document.createElement("td");
  td.setAttribute("role", "cell");
  td.append(...children);
  row.append(td);
  return td;
}

function actorCell(row, actor) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link actor";
  button.title = `User id: ${actor.id} — show only this user's events`;
  button.dataset.actorId = actor.id;
  const name = document.createElement("span");
  name.className = "actor-name";
  name.textContent = actorLabel(actor);
  button.append(name);
  if (actor.email && actor.email !== actorLabel(actor)) {
    const email = document.createElement("span");
    email.className = "actor-email";
    email.textContent = actor.email;
    button.append(email);
  }
  button.addEventListener("click", () => navigate({ ...filtersFromUrl(), actor_id: actor.id }));
  cell(row, button);
}

function detailsCell(row, event) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Details";
  const list = document.createElement("dl");
  const add = (term, value) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value;
    list.append(dt, dd);
  };
  const targets = event.targets.map((t) => `${t.type} ${t.name ? `${t.name} (${t.id})` : t.id}`);
  add("Targets", targets.length ? targets.join(", ") : "—");
  add("IP address", event.context.ip_address ?? "—");
  add("User agent", event.context.user_agent ?? "—");
  const json = document.createElement("pre");
  json.textContent = JSON.stringify(event.details, null, 2);
  add("Details", json);
  add("User id", event.actor.id);
  add("Time (UTC)", utcTime(event.occurred_at));
  add("Recorded (UTC)", utcTime(event.recorded_at));
  add("Event id", event.event_id);
  add("Ledger", proofControl(event));
  details.append(summary, list);
  cell(row, details);
}

const ledgerGet = (path) => fetchJson(path, currentToken());

/** Say what the ledger check found: a plain mark when it held, a warning naming the failure. */
function showLedger(element, outcome, text) {
  element.className = `${element.id === "ledger" ? "ledger" : "proof"} ${outcome}`;
  element.textContent = text;
  element.hidden = false;
}

function problemText(error, what) {
  if (error instanceof LedgerProblem) return `⚠ ${what} failed: ${error.message}.`;
  if (error instanceof ApiError) return `${what} could not be completed: ${error.message}`;
  return `⚠ ${what} failed: ${error?.message ?? error}.`;
}

/** Verify the latest checkpoint and its consistency with what this browser saw before. */
function checkLedger() {
  ledgerCheck ??= verifyLatest(ledgerGet);
  const status = $("ledger");
  ledgerCheck.then(
    ({ head }) =>
      showLedger(
        status,
        "verified",
        `✓ Verified: the signed ledger holds ${head.size} event${head.size === 1 ? "" : "s"} (checkpoint of ${localTime(head.timestamp)}), consistent with what this browser saw before.`,
      ),
    (error) => {
      if (error instanceof ApiError && !(error instanceof LedgerProblem) && error.isRetryable) ledgerCheck = null;
      showLedger(status, error instanceof LedgerProblem ? "failed" : "", problemText(error, "Ledger verification"));
    },
  );
  return ledgerCheck;
}

/** "Verify in the ledger" for one event: its inclusion proof, checked here. */
function proofControl(event) {
  const wrapper = document.createElement("div");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = "Verify in the ledger";
  const result = document.createElement("p");
  result.className = "proof";
  result.setAttribute("role", "status");
  result.hidden = true;
  button.addEventListener("click", async () => {
    button.setAttribute("aria-disabled", "true");
    showLedger(result, "", "Verifying…");
    try {
      const latest = await checkLedger();
      const { index, size, timestamp } = await verifyEvent(ledgerGet, event, latest);
      showLedger(result, "verified", `✓ Verified: event ${index + 1} of the ${size} in the signed checkpoint of ${localTime(timestamp)}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        showLedger(result, "", "Not sealed into a checkpoint yet: try again in a few seconds.");
      } else {
        showLedger(result, error instanceof LedgerProblem ? "failed" : "", problemText(error, "Verification of this event"));
      }
    } finally {
      button.removeAttribute("aria-disabled");
    }
  });
  wrapper.append(button, result);
  return wrapper;
}

/** Append rows; returns the first new row (or null). */
function appendEvents(events) {
  let first = null;
  for (const event of events) {
    const row = document.createElement("tr");
    row.setAttribute("role", "row");
    row.tabIndex = -1; // focusable by script, so "Load more" can move focus to what it added
    const type = document.createElement("code");
    type.textContent = event.event_type;
    cell(row, type);
    actorCell(row, event.actor);
    const time = document.createElement("time");
    time.dateTime = event.occurred_at;
    time.textContent = localTime(event.occurred_at);
    time.title = utcTime(event.occurred_at);
    cell(row, time);
    detailsCell(row, event);
    rows.append(row);
    first ??= row;
  }
  return first;
}

function showOnly(...visible) {
  for (const id of ["sign-in", "error", "empty"]) $(id).hidden = !visible.includes(id);
  table.hidden = !visible.includes("log");
  more.hidden = !(visible.includes("log") && nextCursor);
  $("more-error").hidden = true;
}

/** A new generation: the previous load (or "Load more") is aborted and its answer ignored. */
function begin() {
  generation += 1;
  inFlight?.abort();
  inFlight = new AbortController();
  loadingMore = false;
  more.removeAttribute("aria-disabled");
  return { mine: generation, signal: inFlight.signal };
}

function isAbort(error) {
  return error?.name === "AbortError";
}

function handleFailure(error) {
  if (error instanceof ApiError && error.isNotAnAdmin) {
    location.assign("/settings?reason=admins-only");
    return;
  }
  if (error instanceof ApiError && error.status === 401) {
    setStatus("Sign in to see the Audit Log.");
    showOnly("sign-in");
    return;
  }
  $("error-detail").textContent = error.message;
  // "Try again" only where a retry can succeed; signing in again is always offered (under
  // `make local` a refused token is sam local's 502, not API Gateway's 401).
  $("retry").hidden = !(error instanceof ApiError && error.isRetryable);
  setStatus("The Audit Log could not be loaded.");
  showOnly("error");
}

function showSignIn() {
  forgetToken();
  setStatus("Sign in to see the Audit Log.");
  showOnly("sign-in");
  $("token").value = "";
  $("sign-in").focus();
}

function shownCount() {
  return `${rows.children.length} event${rows.children.length === 1 ? "" : "s"} shown.`;
}

/** Keep focus somewhere sensible when the control that had it went away. */
function refocus() {
  if (document.activeElement === document.body || !document.activeElement?.isConnected) {
    const target = table.hidden ? document.querySelector("section:not([hidden]), #empty:not([hidden])") : region;
    target?.focus();
  }
}

/** Show the first page for the filters in the address bar; `moveFocus` after a user's
 *  action whose control went away (a clicked user, Clear). */
async function load(moveFocus = false) {
  const { mine, signal } = begin();
  const filters = filtersFromUrl();
  showFilters(filters);
  rows.replaceChildren();
  nextCursor = null;
  showOnly();
  setStatus("Loading events…", true);
  try {
    let cursor = null;
    for (let page = 0; page < SEARCH_PAGES; page += 1) {
      const answer = await fetchPage(apiQuery(filters, cursor), currentToken(), signal);
      if (mine !== generation) return;
      appendEvents(answer.events);
      cursor = nextCursor = answer.next_cursor;
      if (rows.children.length || !cursor) break;
      setStatus("Still searching…", true);
    }
    checkLedger();
    if (rows.children.length || nextCursor) {
      setStatus(rows.children.length ? shownCount() : "No events found yet; more remain to search.");
      showOnly("log");
    } else {
      setStatus("No events match these filters.");
      showOnly("empty");
    }
  } catch (error) {
    if (isAbort(error) || mine !== generation) return;
    handleFailure(error);
  }
  if (moveFocus) refocus();
}

async function loadMore() {
  if (loadingMore || !nextCursor) return;
  const mine = generation;
  loadingMore = true;
  more.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop keyboard focus
  $("more-error").hidden = true;
  setStatus("Loading more events…", true);
  try {
    const answer = await fetchPage(apiQuery(filtersFromUrl(), nextCursor), currentToken(), inFlight?.signal);
    if (mine !== generation) return;
    const first = appendEvents(answer.events);
    nextCursor = answer.next_cursor;
    setStatus(answer.events.length ? shownCount() : `${shownCount()} None in that stretch; more remain.`);
    more.hidden = !nextCursor;
    if (first) first.focus();
    else if (more.hidden) region.focus();
  } catch (error) {
    if (isAbort(error) || mine !== generation) return;
    if (error instanceof ApiError && (error.status === 401 || error.isNotAnAdmin)) {
      handleFailure(error);
      return;
    }
    // Keep what is shown; say what failed beside the button, which tries the same page again.
    $("more-error").textContent = `More events could not be loaded: ${error.message}`;
    $("more-error").hidden = false;
    setStatus(shownCount());
  } finally {
    if (mine === generation) {
      loadingMore = false;
      more.removeAttribute("aria-disabled");
    }
  }
}

form.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  if (!form.reportValidity()) return;
  navigate(Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value.trim()])));
});
$("clear").addEventListener("click", () => navigate({}));
$("retry").addEventListener("click", () => load(true));
$("sign-in-again").addEventListener("click", showSignIn);
more.addEventListener("click", loadMore);
$("token-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const token = $("token").value;
  if (token.trim()) {
    useToken(token);
    load(true);
  }
});
window.addEventListener("popstate", () => load());

load();
