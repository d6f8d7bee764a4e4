// Streams: the organisation's log streams (GET /streams), each with its state and how far
// behind it is; adding one (POST /streams), which sends it a test event at once (POST
// /streams/{id}/test) and shows a webhook's signing secret, once; and, per stream, another
// test, Resume (POST /streams/{id}/resume) and Delete (DELETE /streams/{id}, confirmed in
// its row first).
//
// Every string the service hands back (a URL, a last error, what a destination answered a
// test) is someone else's input: it is set as text, never parsed as HTML.
import { ApiError, createStream, deleteStream, fetchStreams, resumeStream, testStream } from "./api.js";
import { actorLabel, breakable, eventCount, localTime, streamStateLabel, streamTypeLabel, utcTime } from "./format.js";

const MAX_STREAMS = 5;
const STATES = new Set(["active", "failing", "paused"]);
// A mark beside each state's word (the word says it; colour and mark only repeat it).
const STATE_MARKS = { active: "✓", failing: "⚠", paused: "‖" };
// What each destination needs, checked here before asking the service (which checks
// everything again): [field, input id, what to say when it is empty].
const REQUIRED = {
  webhook: [["url", "stream-webhook-url", "Enter the URL events are sent to."]],
  splunk_hec: [
    ["url", "stream-splunk-url", "Enter the HEC URL."],
    ["token", "stream-splunk-token", "Enter the HEC token."],
  ],
  datadog: [["api_key", "stream-datadog-api-key", "Enter the Datadog API key."]],
  s3: [
    ["bucket", "stream-s3-bucket", "Enter the bucket's name."],
    ["role_arn", "stream-s3-role-arn", "Enter the ARN of the role to assume."],
  ],
};
const OPTIONAL = { datadog: [["site", "stream-datadog-site"]], s3: [["prefix", "stream-s3-prefix"]] };

const $ = (id) => document.getElementById(id);
const isAbort = (error) => error?.name === "AbortError";
// The page's own handling (sign in again, or leave for settings), not a message here.
const isSignedOut = (error) => error instanceof ApiError && (error.status === 401 || error.isNotAnAdmin);
const number = new Intl.NumberFormat();

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeElement(iso) {
  const time = element("time", "", localTime(iso));
  time.dateTime = iso;
  time.title = utcTime(iso);
  return time;
}

/** "webhook", "Splunk HEC": a destination's type as a sentence says it. */
const typeWords = (type) => (type === "webhook" ? "webhook" : streamTypeLabel(type));

/** Where a stream delivers: its URL, Datadog site or S3 location. */
function destination(stream) {
  if (stream.type === "datadog") return `Datadog site ${stream.site ?? "?"}`;
  if (stream.type === "s3") return `s3://${stream.bucket ?? "?"}/${stream.prefix ?? ""}`;
  return String(stream.url ?? "");
}

/** "the webhook stream to https://…": how buttons and announcements name a stream. */
const streamName = (stream) => `the ${typeWords(stream.type)} stream to ${destination(stream)}`;
const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** "user.login, member.invited" → ["user.login", "member.invited"]: trimmed, no blanks, once each. */
function parseTypes(text) {
  return [...new Set(text.split(",").map((type) => type.trim()).filter(Boolean))];
}

/** What a test's answer says: delivered or not, and the status code (or that none came). */
function testSummary(result) {
  const hasStatus = result.status_code !== null && result.status_code !== undefined;
  const status = hasStatus ? `HTTP ${result.status_code}` : "no answer";
  return `Test event ${result.delivered ? "delivered" : "not delivered"}: ${status}.`;
}

/** The summary and, when there is one, the error: what the live region says of a test. */
const testSaid = (result) => [testSummary(result), result.error ? `Error: ${result.error}` : ""].filter(Boolean).join(" ");

export class StreamPanel {
  /**
   * @param token      () => the signed-in admin's token
   * @param announce   (text) => said in the page's one live region
   * @param signedOut  (error) => the page's handling of a 401 or of a caller who is no admin
   */
  constructor({ token, announce, signedOut }) {
    Object.assign(this, { token, announce, signedOut });
    this.section = $("streams");
    this.rows = $("stream-list").querySelector("tbody");
    this.note = $("streams-note");
    this.refresh = $("streams-refresh");
    this.add = $("stream-add");
    this.form = $("stream-form");
    this.create = $("stream-create");
    this.formError = $("stream-form-error");
    this.created = $("stream-created");
    this.typesInput = $("stream-event-types");
    this.choices = $("stream-type-choices");
    this.streams = [];
    this.outcomes = new Map(); // stream id → its latest test or action outcome, kept across renders
    this.busy = new Set(); // stream ids with a test, resume or delete under way
    this.confirming = null; // the stream id whose deletion waits for a yes
    this.listing = 0; // each list (and each reset) is a generation: older answers are dropped
    this.epoch = 0; // each reset: what was under way before it shows nothing
    this.abort = new AbortController();
    this.listed = false;
    this.adding = false;

    this.refresh.addEventListener("click", () => {
      if (this.refresh.getAttribute("aria-disabled") !== "true") this.list(true);
    });
    this.form.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      this.addStream();
    });
    this.form.addEventListener("change", (changed) => {
      if (changed.target.name === "stream_type") this.showType();
    });
    this.form.addEventListener("input", (typed) => {
      if (typed.target.dataset.field) this.clearFieldError(typed.target);
      if (typed.target === this.typesInput) this.syncChoices();
    });
    this.choices.addEventListener("change", (changed) => {
      if (changed.target.type === "checkbox") this.choose(changed.target.value, changed.target.checked);
    });
    this.offerTypes([]);
  }

  /** Shown with the log; the list is read the first time (then on Refresh and after changes). */
  show() {
    this.section.hidden = false;
    if (!this.listed) {
      this.listed = true;
      this.list();
    }
  }

  hide() {
    this.section.hidden = true;
  }

  /** Hidden, with nothing under way and nothing kept (a secret shown once least of all):
   *  the token is gone or refused. */
  reset() {
    this.section.hidden = true;
    this.epoch += 1;
    this.listing += 1;
    this.abort.abort();
    this.abort = new AbortController();
    this.listed = false;
    this.adding = false;
    this.create.removeAttribute("aria-disabled");
    this.refresh.removeAttribute("aria-disabled");
    this.streams = [];
    this.outcomes.clear();
    this.busy.clear();
    this.confirming = null;
    this.rows.replaceChildren();
    $("stream-list").hidden = true;
    this.note.textContent = "";
    this.form.reset();
    this.showType();
    this.clearErrors();
    this.syncChoices();
    this.created.replaceChildren();
    this.created.hidden = true;
    this.add.open = false;
  }

  /** The event types to choose from: those recorded in the organisation (GET /event-types). */
  offerTypes(types) {
    const boxes = [...types].sort().map((type) => {
      const label = element("label", "choice");
      const box = element("input");
      box.type = "checkbox";
      box.value = type;
      label.append(box, ` ${type}`);
      return label;
    });
    const legend = this.choices.querySelector("legend");
    this.choices.replaceChildren(legend, ...boxes);
    this.choices.closest("details").hidden = !boxes.length;
    this.syncChoices();
  }

  /** Tick the boxes of the types the text field names. */
  syncChoices() {
    const chosen = new Set(parseTypes(this.typesInput.value));
    for (const box of this.choices.querySelectorAll("input[type=checkbox]")) box.checked = chosen.has(box.value);
  }

  /** A box ticked or cleared: the text field gains or loses its type, the others kept in order. */
  choose(type, on) {
    const types = parseTypes(this.typesInput.value).filter((other) => other !== type);
    if (on) types.push(type);
    this.typesInput.value = types.join(", ");
    this.clearFieldError(this.typesInput);
  }

  get type() {
    return this.form.elements.stream_type.value;
  }

  /** Only the chosen destination's fields are shown. */
  showType() {
    for (const fields of this.form.querySelectorAll(".stream-fields")) fields.hidden = fields.dataset.type !== this.type;
    this.clearErrors();
  }

  /** The request body for the form, or the fields it lacks (as the service would name them). */
  body() {
    const type = this.type;
    const body = { type };
    const errors = [];
    for (const [field, id, missing] of REQUIRED[type]) {
      body[field] = $(id).value.trim();
      if (!body[field]) errors.push({ field, message: missing });
    }
    for (const [field, id] of OPTIONAL[type] ?? []) {
      const value = $(id).value.trim();
      if (value) body[field] = value;
    }
    const types = parseTypes(this.typesInput.value);
    if (types.length) body.event_types = types;
    return { body, errors };
  }

  /** The shown input a service error's `field` names ("url", "event_types[1]",
   *  "body.role_arn", …): the first part of its path that is one, if any. */
  inputFor(field) {
    const shown = [...this.form.querySelectorAll("[data-field]")].filter((input) => !input.closest(".stream-fields[hidden]"));
    for (const part of String(field ?? "").split(/[.[\]/]+/)) {
      const input = shown.find((candidate) => candidate.dataset.field === part);
      if (input) return input;
    }
    return null;
  }

  clearFieldError(input) {
    input.removeAttribute("aria-invalid");
    const slot = $(`${input.id}-error`);
    if (slot) slot.textContent = "";
  }

  clearErrors() {
    for (const input of this.form.querySelectorAll("[data-field]")) this.clearFieldError(input);
    this.formError.textContent = "";
    this.formError.className = "form-error";
  }

  /** Each error beside its field (the field marked invalid); the rest under the button.
   *  Returns the first field marked. */
  showFieldErrors(errors, general) {
    this.clearErrors();
    let first = null;
    const unplaced = [];
    for (const { field, message } of errors) {
      const input = this.inputFor(field);
      if (!input) {
        unplaced.push(field ? `${field}: ${message}` : String(message));
        continue;
      }
      const slot = $(`${input.id}-error`);
      slot.textContent = [slot.textContent, String(message)].filter(Boolean).join(" ");
      input.setAttribute("aria-invalid", "true");
      first ??= input;
    }
    this.formError.className = "form-error inline-error";
    this.formError.textContent = [general, ...unplaced].filter(Boolean).join(" ");
    return first;
  }

  /** POST /streams, then a test event to it at once. */
  async addStream() {
    if (this.adding) return;
    const { body, errors } = this.body();
    if (errors.length) {
      const first = this.showFieldErrors(errors, "The stream was not added: fill in the fields marked.");
      this.announce(`Stream not added: ${errors.map((error) => error.message).join(" ")}`);
      first?.focus();
      return;
    }
    const epoch = this.epoch;
    this.adding = true;
    this.create.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop focus
    this.clearErrors();
    this.formError.textContent = "Adding the stream…";
    let stream;
    try {
      stream = await createStream(body, this.token());
    } catch (error) {
      if (epoch !== this.epoch) return;
      if (isSignedOut(error)) {
        this.signedOut(error);
        return;
      }
      const fields = error instanceof ApiError ? error.errors : [];
      const general = fields.length
        ? "The stream was not added: correct the fields marked."
        : `The stream was not added: ${error.message}`;
      const first = this.showFieldErrors(fields, general);
      this.announce(`Stream not added: ${error.message}`);
      first?.focus();
      return;
    } finally {
      if (epoch === this.epoch) {
        this.adding = false;
        this.create.removeAttribute("aria-disabled");
      }
    }
    if (epoch !== this.epoch) return;
    this.form.reset(); // the secrets typed in leave the page with the form
    this.typesInput.value = "";
    this.form.elements.stream_type.value = stream.type ?? body.type;
    this.showType();
    this.syncChoices();
    const outcome = this.showCreated(stream);
    this.announce(`${capitalised(streamName(stream))} added; sending it a test event.`);
    this.list();
    await this.runTest(stream, outcome);
  }

  /** What was added, its secret (a webhook's, shown this once) and where its test's answer goes. */
  showCreated(stream) {
    const heading = element("p", "stream-created-title");
    heading.append(element("strong", "", `${streamTypeLabel(stream.type)} stream added`), ` to `);
    const where = element("span", "stream-destination");
    where.append(breakable(destination(stream)));
    heading.append(where, ".");
    const parts = [heading];
    if (stream.secret) parts.push(this.secretBox(stream.secret));
    const outcome = element("div", "stream-outcome");
    parts.push(outcome);
    this.created.replaceChildren(...parts);
    this.created.hidden = false;
    this.created.focus();
    return outcome;
  }

  /** The signing secret in a read-only field, a Copy button, and that it is shown once. */
  secretBox(secret) {
    const box = element("div", "stream-secret");
    const label = element("label", "", "Signing secret");
    label.htmlFor = "stream-secret";
    const input = element("input");
    input.id = "stream-secret";
    input.readOnly = true;
    input.spellcheck = false;
    input.autocomplete = "off";
    input.value = secret;
    input.setAttribute("aria-describedby", "stream-secret-once");
    const copy = element("button", "secondary", "Copy");
    copy.type = "button";
    copy.addEventListener("click", () => this.copySecret(input, copy));
    const row = element("div", "secret-row");
    row.append(input, copy);
    const once = element(
      "p",
      "secret-once",
      "Shown only this once: copy it now and keep it with your receiver, which checks each delivery's signature with it. It cannot be shown again.",
    );
    once.id = "stream-secret-once";
    const done = element("button", "secondary", "I have copied it");
    done.type = "button";
    done.addEventListener("click", () => {
      box.remove();
      this.created.focus();
    });
    box.append(label, row, once, done);
    return box;
  }

  async copySecret(input, button) {
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
      this.announce("Signing secret copied to the clipboard.");
    } catch {
      input.focus();
      input.select();
      this.announce("The page could not copy the secret: it is selected, press Control+C (or Command+C) to copy it.");
    }
  }

  /** POST /streams/{id}/test, its answer shown in `slot` (and said). */
  async runTest(stream, slot) {
    const epoch = this.epoch;
    slot.setAttribute("aria-busy", "true");
    slot.replaceChildren(element("p", "stream-test", "Sending a test event…"));
    try {
      const result = await testStream(stream.stream_id, this.token(), this.abort.signal);
      if (epoch !== this.epoch) return;
      slot.replaceChildren(...this.testResult(result));
      this.announce(`Test of ${streamName(stream)}: ${testSaid(result)}`);
    } catch (error) {
      if (isAbort(error) || epoch !== this.epoch) return;
      if (isSignedOut(error)) {
        this.signedOut(error);
        return;
      }
      slot.replaceChildren(element("p", "stream-test inline-error", `The test could not be sent: ${error.message}`));
      this.announce(`Test of ${streamName(stream)} not sent: ${error.message}`);
      if (error.status === 404) this.list();
    } finally {
      slot.setAttribute("aria-busy", "false");
    }
  }

  /** A test's answer: delivered or not, and what the destination answered, as text. */
  testResult(result) {
    const delivered = Boolean(result.delivered);
    const summary = element("p", `stream-test ${delivered ? "delivered" : "not-delivered"}`);
    summary.append(element("span", "mark", delivered ? "✓ " : "⚠ "), testSummary(result));
    summary.firstChild.setAttribute("aria-hidden", "true");
    const parts = [summary];
    if (result.error) parts.push(element("p", "stream-test-error", `Error: ${result.error}`));
    if (result.response !== null && result.response !== undefined) {
      const said = String(result.response);
      parts.push(element("p", "stream-response-label", said ? "The destination answered:" : "The destination answered with an empty body."));
      if (said) parts.push(element("pre", "stream-response", said));
    }
    return parts;
  }

  /** GET /streams, shown; `told`: the admin asked (Refresh), so the outcome is said too. */
  async list(told = false) {
    const mine = ++this.listing;
    this.note.className = "streams-note";
    this.note.textContent = this.streams.length ? "Refreshing the streams…" : "Loading the streams…";
    this.refresh.setAttribute("aria-disabled", "true");
    try {
      const answer = await fetchStreams(this.token(), this.abort.signal);
      if (mine !== this.listing) return;
      this.streams = answer.streams ?? [];
      const kept = new Set(this.streams.map((stream) => stream.stream_id));
      for (const id of this.outcomes.keys()) if (!kept.has(id)) this.outcomes.delete(id);
      if (!kept.has(this.confirming)) this.confirming = null;
      this.render();
      this.note.textContent = this.summary();
      if (told) this.announce(`Streams refreshed: ${this.summary()}`);
    } catch (error) {
      if (isAbort(error) || mine !== this.listing) return;
      if (isSignedOut(error)) {
        this.signedOut(error);
        return;
      }
      this.note.className = "streams-note inline-error";
      this.note.textContent = `The streams could not be loaded: ${error.message}`;
      if (told) this.announce(this.note.textContent);
    } finally {
      if (mine === this.listing) this.refresh.removeAttribute("aria-disabled");
    }
  }

  /** "2 streams: 1 active, 1 paused." or "No streams yet." */
  summary() {
    const count = this.streams.length;
    if (!count) return `No streams yet: add one below (at most ${MAX_STREAMS}).`;
    const states = new Map();
    for (const stream of this.streams) {
      const label = streamStateLabel(stream.state).toLowerCase();
      states.set(label, (states.get(label) ?? 0) + 1);
    }
    const parts = [...states].map(([label, times]) => `${times} ${label}`);
    const full = count >= MAX_STREAMS ? ` The limit is ${MAX_STREAMS}: delete one to add another.` : "";
    return `${count} ${count === 1 ? "stream" : "streams"}: ${parts.join(", ")}.${full}`;
  }

  /** The rows for this.streams, the focus kept on the same control of the same stream (or
   *  the nearest one left when that control or stream went away). */
  render() {
    const active = document.activeElement;
    const row = active?.closest?.("#stream-list tr");
    const focusedId = row && this.rows.contains(row) ? row.dataset.streamId : null;
    const focusedAction = focusedId ? active.dataset.action ?? "" : null;
    const position = focusedId ? [...this.rows.children].indexOf(row) : -1;
    this.rows.replaceChildren(...this.streams.map((stream) => this.streamRow(stream)));
    $("stream-list").hidden = !this.streams.length;
    if (focusedId === null) return;
    const same = [...this.rows.children].find((candidate) => candidate.dataset.streamId === focusedId);
    const target = same
      ? same.querySelector(`[data-action="${focusedAction}"]`) ?? same.querySelector("button")
      : (this.rows.children[Math.min(position, this.rows.children.length - 1)]?.querySelector("button") ?? this.note);
    target?.focus();
  }

  streamRow(stream) {
    const row = element("tr");
    row.setAttribute("role", "row");
    row.dataset.streamId = stream.stream_id;
    const cell = (label, ...children) => {
      const td = element("td");
      td.setAttribute("role", "cell");
      // Shown (not said: the column header says it) where the table becomes cards.
      if (label) td.dataset.label = label;
      td.append(...children);
      row.append(td);
      return td;
    };
    cell("", ...this.describe(stream));
    cell("State", ...this.stateOf(stream));
    const delivered = element("span", "stream-leaf", `Leaf ${number.format(stream.delivered_up_to ?? 0)}`);
    delivered.title = "The ledger index of the first event not delivered yet";
    cell("Delivered up to", delivered, element("span", "stream-detail", `from leaf ${number.format(stream.start_leaf ?? 0)}`));
    const lag = stream.lag_events ?? 0;
    cell("Lag", element("span", "stream-lag", `${eventCount(lag)} behind`), ...(lag ? [] : [element("span", "stream-detail", "up to date")]));
    cell("Last delivery", stream.last_delivery_at ? timeElement(stream.last_delivery_at) : element("span", "stream-never", "Never"));
    cell("", ...this.actions(stream));
    return row;
  }

  /** Type, destination, the events it takes, and who added it when. */
  describe(stream) {
    const type = element("span", "stream-type", streamTypeLabel(stream.type));
    const where = element("span", "stream-destination");
    where.append(breakable(destination(stream)));
    const parts = [type, where];
    if (stream.type === "s3" && stream.role_arn) parts.push(element("span", "stream-detail", `Role: ${stream.role_arn}`));
    const types = Array.isArray(stream.event_types) && stream.event_types.length ? stream.event_types.join(", ") : "all";
    parts.push(element("span", "stream-detail", `Event types: ${types}`));
    if (stream.created_at) {
      const added = element("span", "stream-detail");
      added.append("Added ", timeElement(stream.created_at));
      if (stream.created_by) added.append(` by ${actorLabel(stream.created_by)}`);
      parts.push(added);
    }
    return parts;
  }

  /** The state in words (a mark and a colour only repeat it), failures and the last error. */
  stateOf(stream) {
    const known = STATES.has(stream.state) ? stream.state : "unknown";
    const state = element("span", `stream-state ${known}`);
    const mark = element("span", "mark", `${STATE_MARKS[known] ?? "?"} `);
    mark.setAttribute("aria-hidden", "true");
    state.append(mark, streamStateLabel(stream.state));
    const parts = [state];
    if (stream.state === "paused" && stream.paused_at) {
      const since = element("span", "stream-detail");
      since.append("since ", timeElement(stream.paused_at));
      parts.push(since);
    }
    const failures = stream.consecutive_failures ?? 0;
    parts.push(element("span", "stream-detail", `Consecutive failures: ${number.format(failures)}`));
    if (stream.last_error) parts.push(element("span", "stream-error", `Last error: ${stream.last_error}`));
    return parts;
  }

  /** Send test, Resume (when not active), Delete; the confirmation, the latest outcome. */
  actions(stream) {
    const name = streamName(stream);
    const id = stream.stream_id;
    const button = (text, action, label, run, className = "secondary") => {
      const control = element("button", className, text);
      control.type = "button";
      control.dataset.action = action;
      control.setAttribute("aria-label", label);
      if (this.busy.has(id)) control.setAttribute("aria-disabled", "true");
      control.addEventListener("click", () => {
        if (control.getAttribute("aria-disabled") !== "true") run();
      });
      return control;
    };
    const controls = element("div", "stream-actions");
    controls.append(button("Send test", "test", `Send a test event to ${name}`, () => this.testAgain(stream)));
    if (stream.state !== "active") {
      controls.append(button("Resume", "resume", `Resume ${name}`, () => this.resume(stream)));
    }
    controls.append(button("Delete", "delete", `Delete ${name}`, () => this.askToDelete(stream)));
    const parts = [controls];
    if (this.confirming === id) parts.push(this.confirmation(stream));
    if (!this.outcomes.has(id)) this.outcomes.set(id, element("div", "stream-outcome"));
    parts.push(this.outcomes.get(id));
    return parts;
  }

  /** The question in the row, said first (it takes the focus), then Delete stream or Cancel
   *  (Escape cancels too). */
  confirmation(stream) {
    const box = element("div", "stream-confirm");
    box.setAttribute("role", "group");
    const question = element(
      "p",
      "stream-confirm-question",
      `Delete ${streamName(stream)}? It stops delivering at once, and this cannot be undone.`,
    );
    question.id = `confirm-${stream.stream_id}`;
    question.tabIndex = -1;
    question.dataset.action = "confirm-question";
    box.setAttribute("aria-labelledby", question.id);
    const yes = element("button", "danger", "Delete stream");
    yes.type = "button";
    yes.dataset.action = "confirm-delete";
    yes.addEventListener("click", () => {
      if (yes.getAttribute("aria-disabled") !== "true") this.remove(stream, yes);
    });
    const no = element("button", "secondary", "Cancel");
    no.type = "button";
    no.dataset.action = "cancel-delete";
    no.addEventListener("click", () => this.cancelDelete(stream));
    box.addEventListener("keydown", (pressed) => {
      if (pressed.key === "Escape") {
        pressed.preventDefault();
        this.cancelDelete(stream);
      }
    });
    const buttons = element("div", "stream-actions");
    buttons.append(yes, no);
    box.append(question, buttons);
    return box;
  }

  focusControl(streamId, action) {
    const row = [...this.rows.children].find((candidate) => candidate.dataset.streamId === streamId);
    row?.querySelector(`[data-action="${action}"]`)?.focus();
  }

  askToDelete(stream) {
    this.confirming = stream.stream_id;
    this.render();
    this.focusControl(stream.stream_id, "confirm-question");
  }

  cancelDelete(stream) {
    this.confirming = null;
    this.render();
    this.focusControl(stream.stream_id, "delete");
  }

  outcome(stream, text, className = "") {
    const slot = this.outcomes.get(stream.stream_id);
    slot?.replaceChildren(element("p", `stream-test ${className}`.trim(), text));
  }

  /** Keep `stream` busy (its buttons aria-disabled) while `work` runs. */
  async whileBusy(stream, work) {
    this.busy.add(stream.stream_id);
    this.render();
    try {
      await work();
    } finally {
      this.busy.delete(stream.stream_id);
      this.render();
    }
  }

  async testAgain(stream) {
    const slot = this.outcomes.get(stream.stream_id);
    if (slot) await this.whileBusy(stream, () => this.runTest(stream, slot));
  }

  /** An action's failure, said beside the stream: a 404 or 409 means the list is stale. */
  failed(stream, what, error) {
    if (isSignedOut(error)) {
      this.signedOut(error);
      return;
    }
    this.outcome(stream, `${what}: ${error.message}`, "inline-error");
    this.announce(`${what}: ${error.message}`);
    if (error.status === 404 || error.status === 409) this.list();
  }

  async resume(stream) {
    const epoch = this.epoch;
    this.outcome(stream, "Resuming…");
    await this.whileBusy(stream, async () => {
      try {
        const resumed = await resumeStream(stream.stream_id, this.token(), this.abort.signal);
        if (epoch !== this.epoch) return;
        this.streams = this.streams.map((other) => (other.stream_id === resumed.stream_id ? resumed : other));
        this.outcome(stream, `Resumed: ${streamStateLabel(resumed.state).toLowerCase()}, delivering from leaf ${number.format(resumed.delivered_up_to ?? 0)}.`);
        this.note.textContent = this.summary();
        this.announce(`${capitalised(streamName(stream))} resumed.`);
      } catch (error) {
        if (isAbort(error) || epoch !== this.epoch) return;
        this.failed(stream, "Not resumed", error);
      }
    });
  }

  async remove(stream, button) {
    const epoch = this.epoch;
    button.setAttribute("aria-disabled", "true");
    try {
      await deleteStream(stream.stream_id, this.token(), this.abort.signal);
    } catch (error) {
      if (isAbort(error) || epoch !== this.epoch) return;
      button.removeAttribute("aria-disabled");
      if (error.status === 404) {
        this.confirming = null;
        this.announce(`${capitalised(streamName(stream))} was already deleted.`);
        this.list();
        return;
      }
      this.failed(stream, "Not deleted", error);
      return;
    }
    if (epoch !== this.epoch) return;
    this.confirming = null;
    this.outcomes.delete(stream.stream_id);
    this.streams = this.streams.filter((other) => other.stream_id !== stream.stream_id);
    this.render(); // the focus moves to the next stream's first button, or to the note
    this.note.textContent = this.summary();
    this.announce(`${capitalised(streamName(stream))} deleted.`);
  }
}
