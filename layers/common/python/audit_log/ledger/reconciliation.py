"""Reconciliation: every recorded event is sealed, even one whose stream record expired
(DynamoDB keeps them 24 hours) while sealing was failing.

It reads the whole events table, page by page, and asks the ledger for each event's leaf
lookup (BatchGetItem, 100 a call). An event without one is sealed the ordinary way, which
also finds an event sealed by a sealer that died before writing its lookup. Events
recorded longer ago than the checkpoint interval and found unsealed are counted: the
`UnsealedEvents` metric, which should always be 0.

It is a scheduled sweep, not the sealing path: its cost is a read of the table (about
one read unit per 8 KB, eventually consistent) per run, so it runs daily by default.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from audit_log import events_table
from audit_log.ledger import storage
from audit_log.ledger.sealing import Sealable, seal, sealable
from audit_log.querying import event_out
from audit_log.timestamps import parse_rfc3339

SCAN_PAGE = 500


@dataclass
class Reconciled:
    checked: int = 0
    unsealed: int = 0  # events found without a leaf (sealed now)
    overdue: int = 0  # of those, recorded longer ago than the checkpoint interval
    sealed_orgs: set[str] = field(default_factory=set)
    resume_at: dict[str, Any] | None = None  # where the next run goes on; None when done


def reconcile(
    *,
    events_table_name: str,
    ledger_table: str,
    interval: timedelta,
    now: Callable[[], datetime],
    start: dict[str, Any] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> Reconciled:
    """Check every event from `start` on; stop early (with `resume_at`) once
    `keep_going()` says time is short."""
    result = Reconciled()
    while True:
        items, start = events_table.scan_page(events_table_name, start, SCAN_PAGE)
        events = [item for item in items if str(item["pk"]).startswith("org#") and "event_id" in item]
        result.checked += len(events)
        _seal_missing(events, ledger_table, interval, now, result)
        if start is None:
            return result
        if not keep_going():
            result.resume_at = start
            return result


def _seal_missing(
    events: list[dict[str, Any]],
    ledger_table: str,
    interval: timedelta,
    now: Callable[[], datetime],
    result: Reconciled,
) -> None:
    keys = [storage.lookup_key(str(item["pk"]).removeprefix("org#"), item["event_id"]) for item in events]
    found = events_table.get_items(ledger_table, keys)
    missing: dict[str, list[Sealable]] = {}
    for item, key in zip(events, keys, strict=True):
        if (key["pk"], key["sk"]) in found:
            continue
        result.unsealed += 1
        if now() - parse_rfc3339(item["recorded_at"]) > interval:
            result.overdue += 1
        org_id = str(item["pk"]).removeprefix("org#")
        missing.setdefault(org_id, []).append(sealable(item, event_out(item).model_dump(mode="json")))
    for org_id, sealables in missing.items():
        # In recording order, as the stream would have delivered them.
        seal(ledger_table, org_id, sorted(sealables, key=lambda event: (event.recorded_at, event.event_id)), now)
        result.sealed_orgs.add(org_id)
