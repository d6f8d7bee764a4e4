"""Recording events: ids, timestamps, retention and idempotency, on top of events_table.

One path serves both endpoints: a single event is a batch of one.

A lone event with an idempotency key is written in two standard writes, marker first: the
marker holds a copy of the event, so if the event's own write never happens (throttling,
a crash; the caller got a 503), the next request with that key finds the marker and
writes the event from it before answering with it. The key can only ever answer with an
event that is stored, at 1 write unit for the marker instead of the 2 + 2 of a
transaction. A batch is one transaction (events and markers): all or nothing.
"""

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from ulid import ULID

from audit_log import events_table
from audit_log.errors import KeysAlreadyUsed, WriteContention
from audit_log.event_rules import EventIn, canonical_json
from audit_log.models.events import Recorded
from audit_log.observability import logger
from audit_log.timestamps import format_utc_ms, parse_rfc3339, utc_now

IDEMPOTENCY_WINDOW = timedelta(hours=24)
_CONTENTION_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    recorded: Recorded
    duplicate: bool


@dataclass(frozen=True)
class _Pending:
    index: int
    item: dict[str, Any]
    marker: dict[str, Any] | None
    recorded: Recorded


def payload_digest(event: EventIn) -> str:
    """Hash of what the client sent, to notice a key reused for a different event."""
    body = event.model_dump(mode="json", exclude={"idempotency_key"}, exclude_unset=True)
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def event_item(
    event: EventIn, event_id: str, occurred_at: str, recorded_at: str, retention_days: int
) -> dict[str, Any]:
    """The stored form of an accepted event (see events_table for the key layout)."""
    org, actor = event.org_id, event.actor
    item: dict[str, Any] = {
        "pk": events_table.org_pk(org),
        "sk": events_table.sort_key(occurred_at, event_id),
        "type_pk": events_table.type_pk(org, event.event_type),
        "actor_pk": events_table.actor_pk(org, actor.id),
        "event_id": event_id,
        "org_id": org,
        "event_type": event.event_type,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor": actor.model_dump(exclude_none=True),
        "targets": [target.model_dump(exclude_none=True) for target in event.targets],
        "context": event.context.model_dump(exclude_none=True),
        "details": canonical_json(event.details),
    }
    if retention_days > 0:
        recorded = parse_rfc3339(recorded_at)
        item["expires_at"] = int((recorded + timedelta(days=retention_days)).timestamp())
    return item


def record_events(
    requests: Sequence[tuple[EventIn, str | None]],
    *,
    table_name: str,
    retention_days: int,
) -> list[Outcome]:
    """Store each (event, idempotency key) once, in request order; all or nothing.

    A key this organisation used in the last 24 hours, or earlier in the same request,
    yields the original event's answer marked as a duplicate, and nothing new for it is
    written.
    """
    now = utc_now()
    recorded_at = format_utc_ms(now)
    expires_at = int((now + IDEMPOTENCY_WINDOW).timestamp())
    pending: list[_Pending] = []
    first_with_key: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    for index, (event, key) in enumerate(requests):
        scoped_key = (event.org_id, key) if key is not None else None
        if scoped_key in first_with_key:
            repeats[index] = first_with_key[scoped_key]
            continue
        event_id = str(ULID())
        occurred_at = format_utc_ms(parse_rfc3339(event.occurred_at)) if event.occurred_at else recorded_at
        recorded = Recorded(event_id=event_id, occurred_at=occurred_at, recorded_at=recorded_at)
        item = event_item(event, event_id, occurred_at, recorded_at, retention_days)
        marker = None
        if scoped_key is not None:
            first_with_key[scoped_key] = index
            marker = {
                **events_table.marker_key(*scoped_key),
                **recorded.model_dump(),
                "digest": payload_digest(event),
                "expires_at": expires_at,
            }
        pending.append(_Pending(index, item, marker, recorded))

    outcomes: dict[int, Outcome] = {}
    for attempt in range(_CONTENTION_ATTEMPTS):
        try:
            _write(pending, table_name, int(now.timestamp()))
            break
        except KeysAlreadyUsed as used:
            pending = _settle_duplicates(pending, used.markers, requests, outcomes, table_name)
        except WriteContention:
            if attempt == _CONTENTION_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    else:
        raise WriteContention("idempotency keys kept changing under this write")

    for entry in pending:
        outcomes[entry.index] = Outcome(entry.recorded, duplicate=False)
    for index, original in repeats.items():
        outcomes[index] = replace(outcomes[original], duplicate=True)
    return [outcomes[index] for index in range(len(requests))]


def _write(pending: Sequence[_Pending], table_name: str, now_epoch: int) -> None:
    if not pending:
        return
    if len(pending) == 1:  # standard writes: 1 unit per KB instead of a transaction's 2
        (entry,) = pending
        if entry.marker is not None:
            events_table.put_marker(table_name, {**entry.marker, "event": entry.item}, now_epoch)
        events_table.put_event(table_name, entry.item)
        return
    events_table.put_events_with_markers(
        table_name,
        [entry.item for entry in pending],
        [entry.marker for entry in pending if entry.marker is not None],
        now_epoch,
    )


def _settle_duplicates(
    pending: Sequence[_Pending],
    used: dict[str, dict[str, Any]],
    requests: Sequence[tuple[EventIn, str | None]],
    outcomes: dict[int, Outcome],
    table_name: str,
) -> list[_Pending]:
    """Answer events whose key is taken with the original; return the rest to write.

    A marker written ahead of its event carries the event: it is written now unless it
    is already stored (the conditional put finds it), so the answer names a stored event.
    """
    still_pending = []
    for entry in pending:
        stored = used.get(entry.marker["pk"]) if entry.marker else None
        if stored is None:
            still_pending.append(entry)
            continue
        if "event" in stored:
            events_table.put_event(table_name, stored["event"])
        original = Recorded.model_validate(stored, from_attributes=False, strict=False)
        outcomes[entry.index] = Outcome(original, duplicate=True)
        if stored.get("digest") != payload_digest(requests[entry.index][0]):
            logger.warning(
                "Idempotency key reused for a different event; answered with the original",
                extra={"org_id": requests[entry.index][0].org_id, "event_id": original.event_id},
            )
    return still_pending
