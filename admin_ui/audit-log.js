// The Audit Log page: filters in the URL (event type, user, a target's history, dates),
// the log newest first in a table, "Load more" by cursor, login signals marked, the
// signed ledger verified in the browser, exports of the view (exports.js) and the
// organisation's log streams (streams.js).
import {
  ApiError,
  currentToken,
  fetchActors,
  fetchEventTypes,
  fetchJson,
  fetchPage,
  forgetToken,
  useToken,
} from "./api.js";
import {
  actorLabel,
  breakable,
  endOfDay,
  eventLabel,
  localDay,
  localTime,
  signalHint,
  signalLabel,
  startOfDay,
  targetLabel,
  targetTypeLabel,
  utcTime,
} from "./format.js";
import { ExportPanel } from "./exports.js";
import { LedgerProblem, verifyEvent, verifyLatest } from "./ledger.js";
import { ActorPicker, PickProblem } from "./picker.js";
import { StreamPanel } from "./streams.js";

// Offered until GET /event-types answers (and if it cannot).
const KNOWN_TYPES = [
  "user.login", "user.password_reset", "user.mfa_enabled",
  "member.invited", "member.removed",
  "api_key.rotated", "organisation.settings_updated",
];
const PAGE_SIZE = "50";
const SUGGESTIONS = 8;
const FILTERS = ["event_type", "actor_id", "target_type", "target_id", "from", "to"];
const LOGIN = "user.login";
const SIGN_IN_REASONS = {
  none: "Your session has ended or you are not signed in. Sign in to the platform again, then come back to this page.",
  refused: "The service refused the access token: it has expired or is not valid. Sign in to the platform again, or paste another token.",
  other: "Sign in to the platform as another ORG Admin, or paste another token.",
};

const $ = (id) => document.getElementById(id);
const form = $("filters");
const typeSelect = $("event_type");
const table = $("log");
const rows = table.querySelector("tbody");
const more = $("more");
const region = document.querySelector(".table-region");
const listEnd = document.querySelector(".list-end");
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
// What the page learnt about names: actors (GET /actors, or the events shown) and targets.
const actors = new Map();
const targets = new Map();
let recordedTypes = null; // GET /event-types, once it answered
let unusual = 0; // rows shown with a login signal

/** Actors matching `q`, most recently seen first: up to `wanted` of them, or until
 *  `enough(found)`; following the cursor past short pages for a few pages at most. */
async function findActors(q, wanted, signal, enough = () => false) {
  const found = [];
  let cursor = null;
  for (let page = 0; page < SEARCH_PAGES; page += 1) {
    const answer = await fetchActors(q, wanted - found.length, currentToken(), signal, cursor);
    for (const actor of answer.actors) actors.set(actor.id, actor);
    found.push(...answer.actors);
    cursor = answer.next_cursor;
    if (!cursor || found.length >= wanted || enough(found)) break;
  }
  return found;
}

const picker = new ActorPicker({
  input: $("actor"),
  listbox: $("actor-options"),
  field: $("actor_id"),
  search: (q, signal) => findActors(q, SUGGESTIONS, signal),
  onPick: () => form.requestSubmit(),
});

/** The filters as the address bar holds them (a target only as a type and id pair). */
function filtersFromUrl() {
  const url = new URLSearchParams(location.search);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, url.get(name) ?? ""]));
  if (!(filters.target_type && filters.target_id)) filters.target_type = filters.target_id = "";
  return filters;
}

const isFiltered = (filters) => FILTERS.some((name) => filters[name]);

/** The API's filters for `filters`, only those set (dates become instants in the
 *  viewer's timezone): what GET /events reads and POST /exports exports, the same. */
function apiFilters(filters) {
  const chosen = {};
  for (const name of ["event_type", "actor_id", "target_type", "target_id"]) {
    if (filters[name]) chosen[name] = filters[name];
  }
  if (filters.from) chosen.since = startOfDay(filters.from);
  if (filters.to) chosen.until = endOfDay(filters.to);
  return chosen;
}

/** The API query for `filters`. */
function apiQuery(filters, cursor) {
  const query = new URLSearchParams({ limit: PAGE_SIZE, ...apiFilters(filters) });
  if (cursor) query.set("cursor", cursor);
  return query;
}

/** The type selector: the organisation's recorded types (or the known ones), and the
 *  one in the address bar even if it is neither. */
function showTypes(selected) {
  const types = new Set(recordedTypes ?? KNOWN_TYPES);
  if (selected) types.add(selected);
  const options = [new Option("Any event type", "")];
  for (const type of [...types].sort()) options.push(new Option(`${eventLabel(type)} (${type})`, type));
  const same =
    typeSelect.options.length === options.length &&
    options.every((option, at) => typeSelect.options[at].value === option.value);
  if (!same) typeSelect.replaceChildren(...options);
  typeSelect.value = selected;
}

async function loadTypes() {
  if (recordedTypes || !currentToken()) return;
  try {
    const answer = await fetchEventTypes(currentToken());
    recordedTypes = answer.event_types.map((entry) => entry.event_type);
    showTypes(filtersFromUrl().event_type);
    streamPanel.offerTypes(recordedTypes);
  } catch {
    // keep offering the known types; the log's own answer says what is wrong, if anything
  }
}

const actorName = (id) => (actors.has(id) ? actorLabel(actors.get(id)) : id);
const targetKey = (type, id) => `${type}\n${id}`;
const targetName = (type, id) => targets.get(targetKey(type, id)) ?? id;

const exportPanel = new ExportPanel({
  token: currentToken,
  filters: () => apiFilters(filtersFromUrl()),
  names: { actor: actorName, target: targetName },
  announce,
  signedOut: (error) => handleFailure(error),
});

const streamPanel = new StreamPanel({ token: currentToken, announce, signedOut: (error) => handleFailure(error) });

/** Show the user of the address bar in the picker, named once the page knows the name. */
function showActor(id) {
  if (!id) {
    picker.show(null);
    return;
  }
  if (picker.selected?.id === id && picker.selected.name !== undefined) return;
  picker.show(actors.get(id) ?? { id });
  if (!actors.has(id)) nameActor(id);
}

/** A shared link names the user by id only: GET /actors?q=<id> says who it is. */
async function nameActor(id) {
  try {
    const named = (found) => found.find((actor) => actor.id === id);
    const found = named(await findActors(id, 10, undefined, named));
    if (found) learnActor(found, true);
  } catch {
    // the id stays shown; the events, once loaded, may name the user
  }
}

function learnActor(actor, authoritative = false) {
  if (!authoritative && actors.has(actor.id)) return;
  actors.set(actor.id, actor);
  if (picker.selected?.id === actor.id && picker.input.value === actor.id) picker.show(actor);
  showView(filtersFromUrl());
}

function showFilters(filters) {
  showTypes(filters.event_type);
  showActor(filters.actor_id);
  form.elements.from.value = filters.from;
  form.elements.to.value = filters.to;
}

/** Put `filters` in the address bar (so the view can be shared) and load it. */
function navigate(filters) {
  const url = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) url.set(name, filters[name]);
  const search = url.toString();
  history.pushState(null, "", location.pathname + (search ? `?${search}` : ""));
  load(true);
}

/** The filters in force, as chips that remove one each, and the one-click views. */
let shownView = "";
function showView(filters) {
  const chips = [];
  if (filters.event_type) {
    chips.push({ name: "Event type", value: eventLabel(filters.event_type), drop: ["event_type"] });
  }
  if (filters.actor_id) chips.push({ name: "User", value: actorName(filters.actor_id), drop: ["actor_id"] });
  if (filters.target_type) {
    chips.push({
      name: `History of ${targetTypeLabel(filters.target_type)}`,
      value: targetName(filters.target_type, filters.target_id),
      drop: ["target_type", "target_id"],
    });
  }
  if (filters.from) chips.push({ name: "From", value: localDay(filters.from), drop: ["from"] });
  if (filters.to) chips.push({ name: "To", value: localDay(filters.to), drop: ["to"] });
  const signIns = filters.actor_id && filters.event_type !== LOGIN ? actorName(filters.actor_id) : "";
  exportPanel.showScope(chips);
  const signature = JSON.stringify([chips, signIns]);
  if (signature === shownView) return;
  shownView = signature;

  const list = $("chips");
  const focused = [...list.querySelectorAll("button")].indexOf(document.activeElement);
  list.replaceChildren(
    ...chips.map((chip) => {
      const item = document.createElement("li");
      item.className = "chip";
      const name = document.createElement("span");
      name.className = "chip-name";
      name.textContent = chip.name;
      const value = document.createElement("span");
      value.className = "chip-value";
      value.append(breakable(chip.value));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("aria-label", `Remove filter: ${chip.name} ${chip.value}`);
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        const kept = { ...filtersFromUrl() };
        for (const field of chip.drop) kept[field] = "";
        refocusChip = chips.indexOf(chip);
        navigate(kept);
      });
      item.append(name, " ", value, remove);
      return item;
    }),
  );
  const buttons = list.querySelectorAll("button");
  if (focused >= 0 && buttons.length) buttons[Math.min(focused, buttons.length - 1)].focus();
  const signInsButton = $("sign-ins");
  signInsButton.hidden = !signIns;
  signInsButton.textContent = `Review sign-ins of ${signIns}`;
  $("view").hidden = !chips.length;
}

// After a chip's removal: which chip (by position) takes the focus.
let refocusChip = null;
function focusAfterRemoval() {
  if (refocusChip === null) return;
  const buttons = $("chips").querySelectorAll("button");
  if (buttons.length) buttons[Math.min(refocusChip, buttons.length - 1)].focus();
  else typeSelect.focus();
  refocusChip = null;
}

// What the live region says: the list's state (below the table, where it is seen), then
// the latest announcement of the Export or Streams section (visually hidden: the section
// shows the same). The list's next change drops the announcement, which has been said by then.
let listPieces = [];
let panelNote = "";

/** The page's one live region, for the list. Text that is already there is not set (or said) again. */
function setStatus(parts, busy = false, kind = "") {
  listPieces = (Array.isArray(parts) ? parts : [parts]).filter(Boolean);
  panelNote = "";
  showStatus();
  listEnd.className = `list-end ${kind}`.trim();
  region.setAttribute("aria-busy", String(busy));
}

/** Say `text` about an export or a stream in the live region, keeping what it says about the list. */
function announce(text) {
  panelNote = text;
  showStatus();
}

function showStatus() {
  const status = $("status");
  const pieces = [...listPieces, ...(panelNote ? [{ text: panelNote, className: "visually-hidden" }] : [])];
  const text = pieces.map((piece) => (typeof piece === "string" ? piece : piece.text)).join(" ");
  if (status.textContent !== text) {
    status.replaceChildren(
      ...pieces.flatMap((piece, at) => {
        const span = document.createElement("span");
        span.className = typeof piece === "string" ? "" : piece.className;
        span.textContent = typeof piece === "string" ? piece : piece.text;
        return at ? [" ", span] : [span];
      }),
    );
  }
}

function shownCount(filters) {
  const count = rows.children.length;
  const noun = filters.event_type === LOGIN ? (count === 1 ? "sign-in" : "sign-ins") : count === 1 ? "event" : "events";
  return `${count} ${noun} shown${unusual ? `, ${unusual} marked unusual` : ""}.`;
}

/** What the list's end says once a page is shown: how many, and whether that is all. */
function showCount(filters) {
  if (nextCursor) {
    setStatus(shownCount(filters));
  } else {
    const end = isFiltered(filters) ? "No more events." : "Beginning of the log reached.";
    setStatus([shownCount(filters), { text: end, className: "end" }], false, "at-end");
  }
}

function cell(row, ...children) {
  const td = document.createElement("td");
  td.setAttribute("role", "cell");
  td.append(...children);
  row.append(td);
  return td;
}

function eventCell(row, event) {
  const label = document.createElement("span");
  label.className = "event-label";
  label.textContent = eventLabel(event.event_type);
  const type = document.createElement("code");
  type.textContent = event.event_type;
  const td = cell(row, label, " ", type);
  const signals = event.signals ?? [];
  if (signals.length) {
    const list = document.createElement("ul");
    list.className = "signals";
    list.setAttribute("aria-label", "Unusual sign-in");
    for (const signal of signals) {
      const item = document.createElement("li");
      item.className = "signal";
      item.textContent = signalLabel(signal);
      item.title = signalHint(signal);
      list.append(item);
    }
    td.append(list);
    row.classList.add("unusual");
  }
}

function actorCell(row, actor) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link actor";
  button.title = `User id: ${actor.id} — show only this user's events`;
  button.dataset.actorId = actor.id;
  const name = document.createElement("span");
  name.className = "actor-name";
  name.append(breakable(actorLabel(actor)));
  button.append(name);
  if (actor.email && actor.email !== actorLabel(actor)) {
    const email = document.createElement("span");
    email.className = "actor-email";
    email.append(breakable(actor.email));
    button.append(email);
  }
  if (actor.type && actor.type !== "user") {
    const kind = document.createElement("span");
    kind.className = "actor-type";
    kind.textContent = actor.type === "system" ? "System" : targetTypeLabel(actor.type);
    button.append(kind);
  }
  button.addEventListener("click", () => navigate({ ...filtersFromUrl(), actor_id: actor.id }));
  cell(row, button);
}

function targetCell(row, event) {
  const list = document.createElement("ul");
  list.className = "targets";
  for (const target of event.targets) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link target";
    const typeLabel = targetTypeLabel(target.type);
    button.title = `Show the history of ${typeLabel} ${targetLabel(target)} (${target.id})`;
    const kind = document.createElement("span");
    kind.className = "target-type";
    kind.textContent = typeLabel;
    const name = document.createElement("span");
    name.className = "target-name";
    name.append(breakable(targetLabel(target)));
    button.append(kind, " ", name);
    button.addEventListener("click", () => navigate({ target_type: target.type, target_id: target.id }));
    item.append(button);
    list.append(item);
  }
  cell(row, ...(event.targets.length ? [list] : []));
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
  const named = event.targets.map((t) => `${targetTypeLabel(t.type)} ${t.name ? `${t.name} (${t.id})` : t.id}`);
  add("Targets", named.length ? named.join(", ") : "—");
  add("IP address", event.context.ip_address ?? "—");
  add("User agent", event.context.user_agent ?? "—");
  if (event.signals?.length) add("Unusual", event.signals.map((signal) => signalHint(signal) || signalLabel(signal)).join(" "));
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
  result.tabIndex = -1; // not a live region (the page has one): focus moves here instead
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
    if (document.activeElement === button) result.focus();
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
    eventCell(row, event);
    actorCell(row, event.actor);
    targetCell(row, event);
    const time = document.createElement("time");
    time.dateTime = event.occurred_at;
    time.textContent = localTime(event.occurred_at);
    time.title = utcTime(event.occurred_at);
    cell(row, time);
    detailsCell(row, event);
    rows.append(row);
    first ??= row;
    if (event.signals?.length) unusual += 1;
    learnActor(event.actor);
    for (const target of event.targets) {
      if (target.name && !targets.has(targetKey(target.type, target.id))) {
        targets.set(targetKey(target.type, target.id), target.name);
      }
    }
  }
  showView(filtersFromUrl());
  return first;
}

function showOnly(...visible) {
  for (const id of ["sign-in", "error"]) $(id).hidden = !visible.includes(id);
  table.hidden = !visible.includes("log");
  more.hidden = !(visible.includes("log") && nextCursor);
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
    showSignIn(currentToken() ? "refused" : "none");
    return;
  }
  exportPanel.hide(); // an export of what could not be loaded would fail too; one under way goes on
  streamPanel.hide();
  $("error-detail").textContent = error.message;
  // "Try again" only where a retry can succeed; signing in again is always offered (under
  // `make local` a refused token is sam local's 502, not API Gateway's 401).
  $("retry").hidden = !(error instanceof ApiError && error.isRetryable);
  setStatus("");
  showOnly("error");
  $("error").focus();
}

/** The sign-in panel, saying why (`reason`: a key of SIGN_IN_REASONS); the tab's token,
 *  if any, is forgotten. */
function showSignIn(reason) {
  begin();
  forgetToken();
  exportPanel.reset();
  streamPanel.reset();
  rows.replaceChildren();
  nextCursor = null;
  setStatus("");
  showOnly("sign-in");
  $("sign-in-reason").textContent = SIGN_IN_REASONS[reason];
  $("token").value = "";
  $("sign-in").focus();
}

/** Keep focus somewhere sensible when the control that had it went away. */
function refocus() {
  if (document.activeElement === document.body || !document.activeElement?.isConnected) {
    const panel = document.querySelector("#sign-in:not([hidden]), #error:not([hidden])");
    const target = table.hidden ? panel ?? $("status") : region;
    if (target === $("status")) target.tabIndex = -1;
    target?.focus({ preventScroll: true });
  }
}

/** Show the first page for the filters in the address bar; `moveFocus` after a user's
 *  action whose control went away (a clicked user or target, Clear). */
async function load(moveFocus = false) {
  const filters = filtersFromUrl();
  showFilters(filters);
  showView(filters);
  focusAfterRemoval();
  if (!currentToken()) {
    showSignIn("none");
    return;
  }
  const { mine, signal } = begin();
  rows.replaceChildren();
  unusual = 0;
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
    loadTypes();
    exportPanel.show();
    streamPanel.show();
    if (rows.children.length) {
      showCount(filters);
      showOnly("log");
    } else if (nextCursor) {
      setStatus("No events found yet; more remain to search.");
      showOnly("log");
    } else {
      setStatus(isFiltered(filters) ? "No events match these filters." : "No events recorded yet.", false, "empty");
      showOnly();
    }
  } catch (error) {
    if (isAbort(error) || mine !== generation) return;
    handleFailure(error);
    return;
  }
  if (moveFocus) refocus();
}

async function loadMore() {
  if (loadingMore || !nextCursor) return;
  const mine = generation;
  const filters = filtersFromUrl();
  loadingMore = true;
  more.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop keyboard focus
  setStatus([shownCount(filters), "Loading more events…"], true);
  try {
    const answer = await fetchPage(apiQuery(filters, nextCursor), currentToken(), inFlight?.signal);
    if (mine !== generation) return;
    const first = appendEvents(answer.events);
    nextCursor = answer.next_cursor;
    if (answer.events.length || !nextCursor) showCount(filters);
    else setStatus([shownCount(filters), "None in that stretch; more remain."]);
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
    setStatus([shownCount(filters), { text: `More events could not be loaded: ${error.message}`, className: "inline-error" }]);
  } finally {
    if (mine === generation) {
      loadingMore = false;
      more.removeAttribute("aria-disabled");
    }
  }
}

/** The dates as a range the API can answer: "To" not before "From". */
function datesValid() {
  const { from, to } = form.elements;
  to.setCustomValidity(from.value && to.value && to.value < from.value ? "“To” is before “From”." : "");
  return form.reportValidity();
}

form.addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  let actorId;
  try {
    actorId = await picker.resolve();
  } catch (error) {
    if (!(error instanceof PickProblem)) throw error;
    picker.input.setCustomValidity(error.message);
    picker.input.reportValidity();
    return;
  }
  if (!datesValid()) return;
  const { target_type, target_id } = filtersFromUrl();
  const { from, to } = form.elements;
  navigate({ event_type: typeSelect.value, actor_id: actorId, target_type, target_id, from: from.value, to: to.value });
});
form.elements.to.addEventListener("input", () => form.elements.to.setCustomValidity(""));
$("clear").addEventListener("click", () => navigate({}));
$("sign-ins").addEventListener("click", () => navigate({ ...filtersFromUrl(), event_type: LOGIN }));
$("retry").addEventListener("click", () => load(true));
$("sign-in-again").addEventListener("click", () => showSignIn("other"));
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

loadTypes(); // beside the first page, not after it
load();
