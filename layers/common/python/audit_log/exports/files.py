"""What an export file holds, line by line: CSV (RFC 4180) or NDJSON.

NDJSON lines are the events exactly as `GET /events` returns them (the same compact
UTF-8 JSON), so each line's leaf can be recomputed and checked against the proof.

CSV is for people and spreadsheets: UTF-8, CRLF line ends, a header row, fields quoted
when they hold a comma, quote or line break (quotes doubled), nested values as compact
JSON, null as an empty cell. A cell that a spreadsheet would run as a formula, one that
starts with `=`, `+`, `-`, `@`, a tab, a carriage return, a line feed or NUL (OWASP's
list for CSV injection, NUL from ASVS 1.2.10), gets a leading `'`, which spreadsheets
read as "this is text". That changes what such a cell says, so the CSV is never the
evidence: the NDJSON export is, byte for byte.
"""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

CSV_COLUMNS = (
    "event_id",
    "occurred_at",
    "recorded_at",
    "event_type",
    "actor_id",
    "actor_type",
    "actor_name",
    "actor_email",
    "targets",
    "ip_address",
    "user_agent",
    "details",
    "signals",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def neutralised(cell: str) -> str:
    """`cell` as a spreadsheet will show it as text, never run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _row(event: dict[str, Any]) -> list[str]:
    actor, context = event["actor"], event["context"]
    cells = [
        event["event_id"],
        event["occurred_at"],
        event["recorded_at"],
        event["event_type"],
        actor["id"],
        actor["type"],
        actor["name"],
        actor["email"],
        _json(event["targets"]),
        context["ip_address"],
        context["user_agent"],
        _json(event["details"]),
        _json(event["signals"]),
    ]
    return [neutralised(cell) if cell is not None else "" for cell in cells]


def csv_header() -> bytes:
    return csv_rows([], header=True)


def csv_rows(events: Iterable[dict[str, Any]], *, header: bool = False) -> bytes:
    """The CSV lines of `events` (as `GET /events` serves them), the header row first if
    asked."""
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows(_row(event) for event in events)
    return out.getvalue().encode()


def ndjson_lines(events: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(_json(event).encode() + b"\n" for event in events)
