"""The one timestamp format of the API and the table: RFC 3339, UTC, milliseconds, `Z`.

Stored sort keys use the same fixed-width text, so string order is time order.
"""

import re
from datetime import UTC, datetime, timedelta

# RFC 3339 date-time (section 5.6): a full date, `T`, a full time, and a mandatory offset.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset into an aware UTC datetime.

    Raises ValueError for anything else: naive times, dates alone, or ISO 8601 forms that
    RFC 3339 does not allow (week dates, missing seconds, a space separator).
    """
    if not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-11-26T09:15:02.120Z")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:  # month 13, February 30th, hour 25: its message quotes the value
        raise ValueError("must be a real date and time, e.g. 2026-11-26T09:15:02.120Z") from exc
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 falls before year 1
        raise ValueError("is outside the range of representable times") from exc


def format_utc_ms(moment: datetime) -> str:
    """Render an aware datetime as `2026-11-26T09:15:02.120Z` (milliseconds truncated)."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def utc_now() -> datetime:
    """Current time, truncated to the millisecond precision everything is stored with."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def ceil_to_ms(moment: datetime) -> str:
    """Bound as stored sort keys are compared: events are kept at millisecond precision,
    so a bound with a sub-millisecond part rounds up to the next stored value."""
    if moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return format_utc_ms(moment)
