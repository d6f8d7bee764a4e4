// Exports: the page's current filters exported as CSV or NDJSON (POST /exports), the
// export followed until its file is ready (GET /exports/{id}), and the organisation's
// recent exports (GET /exports), each downloadable through links presigned on demand.
//
// Presigned links are valid for minutes only: a link is used as it is while it is fresh,
// and fetched anew (GET /exports/{id}) when it is about to lapse, never followed stale.
import { ApiError, fetchExport, fetchExports, startExport } from "./api.js";
import {
  actorLabel,
  breakable,
  eventCount,
  eventLabel,
  exportFormatLabel,
  exportStateLabel,
  localTime,
  sinceLabel,
  targetTypeLabel,
  untilLabel,
  utcTime,
} from "./format.js";

const RECENT = 10;
// Polling: every second at first (a small export is ready in seconds), backing off to
// every five (a large one takes minutes, and nobody needs its count every second).
const FIRST_POLL_MS = 1000;
const MAX_POLL_MS = 5000;
const POLL_GROWTH = 1.5;
// A link this close to its expiry could lapse before S3 answers: fetch a fresh one instead.
const EXPIRY_MARGIN_MS = 30_000;
const FINISHED = new Set(["succeeded", "failed"]);

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const isAbort = (error) => error?.name === "AbortError";
// The page's own handling (sign in again, or leave for settings), not a message here.
const isSignedOut = (error) => error instanceof ApiError && (error.status === 401 || error.isNotAnAdmin);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "CSV", "NDJSON (verifiable)": a format, and what sets NDJSON apart. */
function formatName(format) {
  return format === "ndjson" ? `${exportFormatLabel(format)} (verifiable)` : exportFormatLabel(format);
}

/** Whether a presigned link can still be followed (with a margin for the download to start). */
function fresh(expiresAt) {
  return Boolean(expiresAt) && Date.parse(expiresAt) - Date.now() > EXPIRY_MARGIN_MS;
}

const urlOf = (exp, which) => (which === "proof" ? exp.proof_url : exp.download_url);

export class ExportPanel {
  /**
   * @param token      () => the signed-in admin's token
   * @param filters    () => the API filters in force ({event_type, since, …}: only those set)
   * @param names      {actor(id), target(type, id)}: how the page names users and targets
   * @param announce   (text) => said in the page's one live region
   * @param signedOut  (error) => the page's handling of a 401 or of a caller who is no admin
   */
  constructor({ token, filters, names, announce, signedOut }) {
    Object.assign(this, { token, filters, names, announce, signedOut });
    this.section = $("export");
    this.form = $("export-form");
    this.start = $("export-start");
    this.recent = $("recent-exports");
    this.rows = $("exports").querySelector("tbody");
    this.more = $("exports-more");
    this.following = 0; // each followed export (and each reset) is a new generation
    this.listing = 0; // likewise for the list: an answer for an older one is dropped
    this.abort = new AbortController();
    this.nextCursor = null;
    this.starting = false;
    this.form.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      this.begin();
    });
    // The list is read when opened (each time: it is the organisation's, others export too).
    this.recent.addEventListener("toggle", () => {
      if (this.recent.open) this.list();
    });
    this.more.addEventListener("click", () => {
      if (this.more.getAttribute("aria-disabled") !== "true") this.list(this.nextCursor);
    });
  }

  show() {
    this.section.hidden = false;
  }

  hide() {
    this.section.hidden = true;
  }

  /** Hidden, following nothing and listing nothing: the token is gone or refused. */
  reset() {
    this.section.hidden = true;
    this.following += 1;
    this.listing += 1;
    this.abort.abort();
    this.abort = new AbortController();
    this.starting = false;
    this.start.removeAttribute("aria-disabled");
    $("export-job").hidden = true;
    this.rows.replaceChildren();
    $("exports").hidden = true;
    $("exports-note").textContent = "";
    this.more.hidden = true;
    this.recent.open = false;
  }

  /** Which of the page's filters an export takes: `chips` as the view shows them. */
  showScope(chips) {
    const scope = $("export-scope");
    const text = chips.length
      ? `Exports the events matching the filters applied: ${chips.map((chip) => `${chip.name}: ${chip.value}`).join("; ")}.`
      : "Exports the whole log: no filters applied.";
    if (scope.textContent !== text) scope.textContent = text;
  }

  /** POST /exports with the chosen format and the filters in force, then follow it. */
  async begin() {
    if (this.starting) return;
    const format = this.form.elements.format.value;
    this.starting = true;
    this.start.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop focus
    const mine = ++this.following;
    this.showProgress(`Starting the ${formatName(format)} export…`);
    let started;
    try {
      started = await startExport(format, this.filters(), this.token());
    } catch (error) {
      if (mine !== this.following) return;
      if (isSignedOut(error)) {
        this.signedOut(error);
        return;
      }
      this.showProgress(`The export could not be started: ${error.message}`, "inline-error");
      this.announce(`Export not started: ${error.message}`);
      return;
    } finally {
      if (mine === this.following) {
        this.starting = false;
        this.start.removeAttribute("aria-disabled");
      }
    }
    if (mine !== this.following) return;
    this.announce(`${exportFormatLabel(format)} export started; you will hear when it is ready.`);
    this.showExport(started);
    if (this.recent.open) this.list();
    this.follow(started, mine);
  }

  /** GET /exports/{id} until it succeeded or failed: every second, backing off to five. */
  async follow(current, mine) {
    let wait = FIRST_POLL_MS;
    while (!FINISHED.has(current.state)) {
      await sleep(wait);
      wait = Math.min(MAX_POLL_MS, wait * POLL_GROWTH);
      if (mine !== this.following) return;
      try {
        current = await fetchExport(current.export_id, this.token(), this.abort.signal);
      } catch (error) {
        if (isAbort(error) || mine !== this.following) return;
        if (isSignedOut(error)) {
          this.signedOut(error);
          return;
        }
        if (!error.isRetryable) {
          this.showProgress(`The export's progress could not be read: ${error.message}`, "inline-error");
          this.announce(`The export's progress could not be read: ${error.message}`);
          return;
        }
        // Keep what was shown, say why it is not moving, and keep asking (backing off).
        this.showExport(current, `Progress could not be read just now (${error.message}); trying again.`);
        continue;
      }
      if (mine !== this.following) return;
      this.showExport(current);
    }
    this.announce(this.ending(current));
    if (this.recent.open) this.list();
  }

  ending(done) {
    const format = exportFormatLabel(done.format);
    if (done.state === "failed") return `${format} export failed: ${done.error ?? "no reason given"}.`;
    const files = done.format === "ndjson" ? "its Download and Download proof links are" : "its Download link is";
    return `${format} export ready, ${eventCount(done.events)}: ${files} in the Export section.`;
  }

  /** The export being followed: its state and count, then its links or its error. */
  showExport(current, note = "") {
    const format = formatName(current.format);
    const texts = {
      queued: `${format} export queued: waiting to start.`,
      running: `${format} export running: ${eventCount(current.events)} written so far.`,
      succeeded: `${format} export succeeded: ${eventCount(current.events)}.`,
      failed: `${format} export failed: ${current.error ?? "no reason given"}`,
    };
    const text = [texts[current.state] ?? exportStateLabel(current.state), note].filter(Boolean).join(" ");
    this.showProgress(text, current.state === "failed" || note ? "inline-error" : "", !FINISHED.has(current.state));
    const links = $("export-links");
    links.hidden = current.state !== "succeeded";
    if (current.state === "succeeded") links.replaceChildren(...this.downloadLinks(current));
  }

  showProgress(text, className = "", busy = false) {
    const job = $("export-job");
    const progress = $("export-progress");
    job.hidden = false;
    job.setAttribute("aria-busy", String(busy));
    progress.className = `export-progress ${className}`.trim();
    progress.textContent = text;
    $("export-links").hidden = true;
  }

  /** "Download CSV" (and "Download proof" for NDJSON): plain links while they are fresh,
   *  presigned anew when clicked after they lapsed. */
  downloadLinks(done) {
    let current = done;
    const anchors = {};
    const problem = element("span", "download-problem");
    const link = (which, text) => {
      const anchor = element("a", "download", text);
      anchor.href = urlOf(current, which);
      anchor.addEventListener("click", async (click) => {
        if (fresh(current.download_expires_at)) return; // the browser follows it
        click.preventDefault();
        problem.textContent = "";
        const renewed = await this.presigned(done, which, problem);
        if (!renewed) return;
        current = renewed;
        for (const [name, other] of Object.entries(anchors)) other.href = urlOf(current, name);
        location.assign(urlOf(current, which));
      });
      anchors[which] = anchor;
      return anchor;
    };
    const shown = [link("file", `Download ${exportFormatLabel(done.format)}`)];
    if (done.proof_url) shown.push(" ", link("proof", "Download proof"));
    return [...shown, problem];
  }

  /** `exp` as GET /exports/{id} answers it now, its links presigned just now; or null,
   *  with the reason said beside `where` (`which`: the link wanted, "file" or "proof"). */
  async presigned(exp, which, where) {
    try {
      const current = await fetchExport(exp.export_id, this.token(), this.abort.signal);
      if (urlOf(current, which)) return current;
      this.downloadFailed(`the export is ${exportStateLabel(current.state).toLowerCase()}, with no file to download`, where);
    } catch (error) {
      if (isAbort(error)) return null;
      if (isSignedOut(error)) this.signedOut(error);
      else this.downloadFailed(error.message, where);
    }
    return null;
  }

  /** Say why a download did not start: beside what was clicked, and in the live region. */
  downloadFailed(reason, where) {
    where.className = "download-problem inline-error";
    where.textContent = `The download could not be prepared: ${reason}`;
    this.announce(`Download not started: ${reason}`);
  }

  /** GET /exports: the first page (or the one after `cursor`, appended). */
  async list(cursor = null) {
    const mine = ++this.listing;
    const note = $("exports-note");
    note.className = "exports-note";
    note.textContent = "Loading recent exports…";
    this.more.setAttribute("aria-disabled", "true");
    try {
      const page = await fetchExports(RECENT, this.token(), this.abort.signal, cursor);
      if (mine !== this.listing) return;
      const first = this.appendExports(page.exports, Boolean(cursor));
      this.nextCursor = page.next_cursor;
      this.more.hidden = !this.nextCursor;
      $("exports").hidden = !this.rows.children.length;
      note.textContent = this.rows.children.length ? "" : "No exports yet.";
      if (cursor && first) first.focus(); // "More exports" moves on to what it added
    } catch (error) {
      if (isAbort(error) || mine !== this.listing) return;
      if (isSignedOut(error)) {
        this.signedOut(error);
        return;
      }
      note.className = "exports-note inline-error";
      note.textContent = `Recent exports could not be loaded: ${error.message}`;
    } finally {
      if (mine === this.listing) this.more.removeAttribute("aria-disabled");
    }
  }

  /** Rows for `exports` (replacing the list unless `append`); the first new row. */
  appendExports(exports, append) {
    const rows = exports.map((exp) => this.exportRow(exp));
    if (append) this.rows.append(...rows);
    else this.rows.replaceChildren(...rows);
    return rows[0] ?? null;
  }

  exportRow(exp) {
    const row = element("tr");
    row.setAttribute("role", "row");
    row.tabIndex = -1; // focusable by script, for "More exports"
    row.dataset.exportId = exp.export_id;
    const cell = (...children) => {
      const td = element("td");
      td.setAttribute("role", "cell");
      td.append(...children);
      row.append(td);
      return td;
    };
    const time = element("time", "", localTime(exp.created_at));
    time.dateTime = exp.created_at;
    time.title = utcTime(exp.created_at);
    cell(time);
    cell(formatName(exp.format));
    cell(this.filtersSummary(exp.filters));
    cell(this.requester(exp.requested_by));
    const state = element("span", `export-state ${exp.state}`, exportStateLabel(exp.state));
    const stateCell = cell(state);
    if (exp.state === "failed" && exp.error) stateCell.append(element("span", "export-error", exp.error));
    cell(exp.state === "queued" ? "" : eventCount(exp.events));
    cell(...(exp.state === "succeeded" ? this.downloadButtons(exp) : []));
    return row;
  }

  /** What an export's filters selected, in the words of the page's chips. */
  filtersSummary(filters) {
    const parts = [];
    if (filters.event_type) parts.push(`Event type: ${eventLabel(filters.event_type)}`);
    if (filters.actor_id) parts.push(`User: ${this.names.actor(filters.actor_id)}`);
    if (filters.target_type && filters.target_id) {
      const name = this.names.target(filters.target_type, filters.target_id);
      parts.push(`History of ${targetTypeLabel(filters.target_type)}: ${name}`);
    }
    if (filters.since) parts.push(`From: ${sinceLabel(filters.since)}`);
    if (filters.until) parts.push(`To: ${untilLabel(filters.until)}`);
    return parts.length ? parts.join("; ") : "Whole log";
  }

  requester(person) {
    const wrapper = element("span", "requester");
    wrapper.append(element("span", "requester-name", actorLabel(person)));
    if (person.email && person.email !== actorLabel(person)) {
      const email = element("span", "requester-email");
      email.append(breakable(person.email));
      wrapper.append(email);
    }
    return wrapper;
  }

  /** "Download" (and "Download proof"): a list has no links, they are presigned on click. */
  downloadButtons(exp) {
    const what = `the ${exportFormatLabel(exp.format)} export of ${localTime(exp.created_at)}`;
    const problem = element("span", "download-problem");
    const button = (which, text, label) => {
      const download = element("button", "secondary", text);
      download.type = "button";
      download.setAttribute("aria-label", label);
      download.addEventListener("click", async () => {
        if (download.getAttribute("aria-disabled") === "true") return;
        download.setAttribute("aria-disabled", "true");
        problem.textContent = "";
        try {
          const current = await this.presigned(exp, which, problem);
          if (current) location.assign(urlOf(current, which));
        } finally {
          download.removeAttribute("aria-disabled");
        }
      });
      return download;
    };
    const buttons = [button("file", "Download", `Download ${what}`)];
    if (exp.format === "ndjson") buttons.push(" ", button("proof", "Download proof", `Download the proof of ${what}`));
    return [...buttons, problem];
  }
}
