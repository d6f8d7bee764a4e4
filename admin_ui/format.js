// How events read on the page: times in the viewer's timezone, actors by name and email.

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
