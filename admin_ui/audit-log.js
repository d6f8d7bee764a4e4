// The Audit Log page: filters in the URL, a table newest first, "Load more" by cursor.
import { ApiError, currentToken, fetchPage, useToken } from "./api.js";
import { actorLabel, endOfDay, localTime, startOfDay, utcTime } from "./format.js";

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
let nextCursor = null;

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
  load();
}

function setStatus(text, busy = false) {
  $("status").textContent = text;
  document.querySelector("main").setAttribute("aria-busy", String(busy));
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
  add("Event id", event.event_id);
  details.append(summary, list);
  cell(row, details);
}

function appendEvents(events) {
  for (const event of events) {
    const row = document.createElement("tr");
    row.setAttribute("role", "row");
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
  }
}

function showOnly(...visible) {
  for (const id of ["sign-in", "error", "empty"]) $(id).hidden = !visible.includes(id);
  table.hidden = !visible.includes("log");
  more.hidden = !(visible.includes("log") && nextCursor);
}

function handleFailure(error) {
  if (error instanceof ApiError && error.status === 403) {
    location.assign("/settings?reason=admins-only");
    return;
  }
  if (error instanceof ApiError && error.status === 401) {
    setStatus("");
    showOnly("sign-in");
    return;
  }
  $("error-detail").textContent = error.message;
  setStatus("");
  showOnly("error");
}

async function load() {
  const filters = filtersFromUrl();
  showFilters(filters);
  rows.replaceChildren();
  nextCursor = null;
  setStatus("Loading events…", true);
  try {
    const page = await fetchPage(apiQuery(filters), currentToken());
    nextCursor = page.next_cursor;
    appendEvents(page.events);
    setStatus(page.events.length ? `${rows.children.length} events shown.` : "");
    showOnly(page.events.length || nextCursor ? "log" : "empty");
  } catch (error) {
    handleFailure(error);
  }
}

async function loadMore() {
  more.disabled = true;
  setStatus("Loading more events…", true);
  try {
    const page = await fetchPage(apiQuery(filtersFromUrl(), nextCursor), currentToken());
    nextCursor = page.next_cursor;
    appendEvents(page.events);
    setStatus(`${rows.children.length} events shown.`);
    showOnly("log");
  } catch (error) {
    handleFailure(error);
  } finally {
    more.disabled = false;
  }
}

form.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  if (!form.reportValidity()) return;
  navigate(Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value.trim()])));
});
$("clear").addEventListener("click", () => navigate({}));
$("retry").addEventListener("click", load);
more.addEventListener("click", loadMore);
$("token-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const token = $("token").value;
  if (token.trim()) {
    useToken(token);
    load();
  }
});
window.addEventListener("popstate", load);

load();
