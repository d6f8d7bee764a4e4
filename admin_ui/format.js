// How events read on the page: times in the viewer's timezone, actors by name and email,
// event types, targets and login signals in words; exports and streams too.

const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function localTime(iso) {
  return local.format(new Date(iso));
}

export function utcTime(iso) {
  return `${iso.replace("T", " ").replace("Z", "")} UTC`;
}

export function actorLabel(actor) {
  return actor.name ?? actor.email ?? actor.id;
}

/** A date input's value (YYYY-MM-DD) as the start of that day in the viewer's timezone. */
export function startOfDay(date) {
  const [year, month, day] = date.split("-").map(Number);
  return new Date(year, month - 1, day).toISOString();
}

/** The start of the day after `date`: `until` is exclusive, "To" includes its day. */
export function endOfDay(date) {
  const [year, month, day] = date.split("-").map(Number);
  return new Date(year, month - 1, day + 1).toISOString();
}

const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A YYYY-MM-DD day as the viewer reads it ("24 Nov 2026"). */
export function localDay(date) {
  const [year, month, day] = date.split("-").map(Number);
  return dayOnly.format(new Date(year, month - 1, day));
}

/** The instant as a Date when it is the start of a day in the viewer's timezone: what the
 *  page's From and To dates become (startOfDay, endOfDay). */
function localMidnight(iso) {
  const at = new Date(iso);
  const midnight = !at.getHours() && !at.getMinutes() && !at.getSeconds() && !at.getMilliseconds();
  return midnight ? at : null;
}

/** A `since` (inclusive) as the page's From reads it: a day when it starts one, else a time. */
export function sinceLabel(iso) {
  const day = localMidnight(iso);
  return day ? dayOnly.format(day) : localTime(iso);
}

/** An `until` (exclusive) as the page's To reads it: the start of a day is the day before
 *  (To includes its day); any other instant is "before" it. */
export function untilLabel(iso) {
  const day = localMidnight(iso);
  if (!day) return `before ${localTime(iso)}`;
  day.setDate(day.getDate() - 1);
  return dayOnly.format(day);
}

const count = new Intl.NumberFormat();

/** "1 event", "12,345 events". */
export function eventCount(number) {
  return `${count.format(number)} ${number === 1 ? "event" : "events"}`;
}

// Exports (POST /exports): the formats as the page offers them, and their states.
const EXPORT_FORMATS = { csv: "CSV", ndjson: "NDJSON" };
const EXPORT_STATES = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

export function exportFormatLabel(format) {
  return EXPORT_FORMATS[format] ?? format.toUpperCase();
}

export function exportStateLabel(state) {
  return EXPORT_STATES[state] ?? humanise(state);
}

// Streams (POST /streams): the destinations as the page offers them, and their states.
const STREAM_TYPES = { webhook: "Webhook", splunk_hec: "Splunk HEC", datadog: "Datadog", s3: "Amazon S3" };
const STREAM_STATES = { active: "Active", failing: "Failing", paused: "Paused" };

export function streamTypeLabel(type) {
  return STREAM_TYPES[type] ?? humanise(String(type));
}

export function streamStateLabel(state) {
  return STREAM_STATES[state] ?? humanise(String(state));
}

// The platform's event types, as an admin would say them. Types not listed here read as
// their words (`webhook.delivery_failed`: "Webhook delivery failed").
const EVENT_LABELS = {
  "user.login": "Signed in",
  "user.logout": "Signed out",
  "user.password_reset": "Password reset",
  "user.mfa_enabled": "MFA enabled",
  "user.mfa_disabled": "MFA disabled",
  "member.invited": "Member invited",
  "member.removed": "Member removed",
  "member.role_changed": "Member role changed",
  "organisation.settings_updated": "Organisation settings updated",
  "api_key.created": "API key created",
  "api_key.rotated": "API key rotated",
  "api_key.revoked": "API key revoked",
  "audit_log.exported": "Audit Log exported",
  "log_stream.created": "Log stream created",
  "log_stream.deleted": "Log stream deleted",
  "log_stream.paused": "Log stream paused",
  "log_stream.resumed": "Log stream resumed",
};
const TARGET_LABELS = { user: "User", api_key: "API key", log_stream: "Log stream", export: "Export" };
// Words that are initialisms: spelled in capitals wherever they stand.
const INITIALISMS = new Set(["api", "id", "ip", "mfa", "sso", "saml", "scim", "url", "jwt", "ui", "2fa", "oauth", "oidc"]);
const SPELLED = { oauth: "OAuth" };

/** "api_key.rotated" → "API key rotated": the words of a code, initialisms in capitals,
 *  the first word capitalised. */
export function humanise(code) {
  const words = code.split(/[._\s]+/).filter(Boolean);
  return words
    .map((word, index) => {
      const lower = word.toLowerCase();
      if (INITIALISMS.has(lower)) return SPELLED[lower] ?? lower.toUpperCase();
      return index === 0 ? lower.charAt(0).toUpperCase() + lower.slice(1) : lower;
    })
    .join(" ");
}

export function eventLabel(type) {
  return EVENT_LABELS[type] ?? humanise(type);
}

export function targetTypeLabel(type) {
  return TARGET_LABELS[type] ?? humanise(type);
}

export function targetLabel(target) {
  return target.name ?? target.id;
}

// Login signals (GET /events `signals`): what is unusual about a sign-in.
const SIGNALS = {
  new_ip: { label: "New IP address", hint: "First sign-in of this user from this IP address." },
  new_user_agent: { label: "New device", hint: "First sign-in of this user with this browser or device." },
};

export function signalLabel(signal) {
  return SIGNALS[signal]?.label ?? humanise(signal);
}

export function signalHint(signal) {
  return SIGNALS[signal]?.hint ?? "";
}

/** `text` with line-break opportunities after "@" and before dots (`<wbr>`), so a long
 *  email or host name wraps where a reader expects, not in the middle of a word. */
export function breakable(text) {
  const fragment = document.createDocumentFragment();
  const parts = text.split(/(?<=@)|(?=\.)/);
  parts.forEach((part, index) => {
    if (index > 0) fragment.append(document.createElement("wbr"));
    fragment.append(part);
  });
  return fragment;
}
