"""Reading an organisation's log: filters to a key, pages newest first, signed cursors."""

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from audit_log import events_table
from audit_log.cursors import decode_cursor, encode_cursor
from audit_log.errors import InvalidParameter
from audit_log.investigation import storage as investigation_storage
from audit_log.models.events import ActorOut, ContextOut, EventOut, LogPage, TargetOut
from audit_log.response_size import ENVELOPE_BYTES, MAX_LAMBDA_RESPONSE_BYTES, payload_bytes
from audit_log.timestamps import ceil_to_ms, parse_rfc3339

LOGIN = "user.login"


@dataclass(frozen=True)
class Filters:
    """A normalised filter set; `since`/`until` are sort-key bounds (UTC, ms)."""

    event_type: str | None = None
    actor_id: str | None = None
    since: str | None = None
    until: str | None = None
    target_type: str | None = None
    target_id: str | None = None

    @classmethod
    def from_query(
        cls,
        event_type: str | None,
        actor_id: str | None,
        since: str | None,
        until: str | None,
        target_type: str | None = None,
        target_id: str | None = None,
    ) -> "Filters":
        """Filters from already-validated query parameters; InvalidParameter for a time
        range that cannot be served (since after until, beyond year 9999) or a target
        named by only one of its type and id."""
        if (target_type is None) != (target_id is None):
            missing = "target_id" if target_id is None else "target_type"
            raise InvalidParameter(missing, "is required with " + ("target_type" if target_id is None else "target_id"))
        moments = {"since": parse_rfc3339(since) if since else None, "until": parse_rfc3339(until) if until else None}
        bounds: dict[str, str | None] = {}
        for field, moment in moments.items():
            try:
                bounds[field] = ceil_to_ms(moment) if moment else None
            except OverflowError as exc:
                raise InvalidParameter(field, "is beyond the last representable time") from exc
        if moments["since"] and moments["until"] and moments["since"] > moments["until"]:
            raise InvalidParameter("since", "must not be after until")
        return cls(
            event_type=event_type,
            actor_id=actor_id,
            since=bounds["since"],
            until=bounds["until"],
            target_type=target_type,
            target_id=target_id,
        )

    def digest(self) -> str:
        """What a cursor is bound to, so it cannot be replayed under other filters."""
        fields = asdict(self)
        for name in ("target_type", "target_id"):  # absent unless set: older cursors stay valid
            if fields[name] is None:
                del fields[name]
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def event_out(item: dict[str, Any], signals: list[str] | None = None) -> EventOut:
    actor, context = item["actor"], item.get("context", {})
    return EventOut(
        event_id=item["event_id"],
        event_type=item["event_type"],
        occurred_at=item["occurred_at"],
        recorded_at=item["recorded_at"],
        actor=ActorOut(
            id=actor["id"], type=actor.get("type", "user"), name=actor.get("name"), email=actor.get("email")
        ),
        targets=[TargetOut(type=t["type"], id=t["id"], name=t.get("name")) for t in item.get("targets", [])],
        context=ContextOut(ip_address=context.get("ip_address"), user_agent=context.get("user_agent")),
        details=json.loads(item.get("details", "{}")),
        signals=signals or [],
    )


def source_for(
    org_id: str, filters: Filters, *, table_name: str, investigation_table: str
) -> tuple[str, events_table.Partition]:
    """(table, partition) serving `filters`: a target's history is its copies' partition
    in the investigation table (type and actor filtered there), the rest the events
    table's partitions."""
    if filters.target_type is not None and filters.target_id is not None:
        partition = investigation_storage.target_partition(
            org_id, filters.target_type, filters.target_id, filters.event_type, filters.actor_id
        )
        return investigation_table, partition
    return table_name, events_table.partition_for(org_id, filters.event_type, filters.actor_id)


def with_signals(investigation_table: str, org_id: str, items: list[dict[str, Any]]) -> list[EventOut]:
    """The events of `items` as served, each with its signals: one BatchGetItem for the
    page's logins (none for a page without any)."""
    logins = [item["sk"] for item in items if item.get("event_type") == LOGIN]
    signals = investigation_storage.signals_of(investigation_table, org_id, logins)
    return [event_out(item, signals.get(item["sk"])) for item in items]


@dataclass(frozen=True)
class EventsRead:
    """Events in log order from one read, and the sort key to go on after (None: no more)."""

    events: list[EventOut]
    resume_after: str | None


def read_events(
    org_id: str,
    filters: Filters,
    after: str | None,
    count: int,
    *,
    table_name: str,
    investigation_table: str,
) -> EventsRead:
    """Up to `count` matching events older than the sort key `after`, as `GET /events`
    serves them (signals included): the same partition, Query and budget as a page, for
    readers that keep their own position (exports) instead of a signed cursor."""
    source, partition = source_for(org_id, filters, table_name=table_name, investigation_table=investigation_table)
    result = events_table.query_newest_first(
        source, org_id, partition, since=filters.since, until=filters.until, after_sort_key=after, count=count
    )
    events = with_signals(investigation_table, org_id, result.items)
    if result.resume_after is not None:
        return EventsRead(events, result.resume_after)
    return EventsRead(events, result.items[-1]["sk"] if len(result.items) == count else None)


def read_page(
    org_id: str,
    filters: Filters,
    limit: int,
    cursor: str | None,
    *,
    table_name: str,
    investigation_table: str,
    cursor_secret: str,
) -> LogPage:
    """One page of `org_id`'s matching events, newest first (ties: event id descending).

    One item more than `limit` is asked for, so the last page says it is the last
    (`next_cursor` null) instead of leaving the caller an empty page to fetch. A filtered
    page (type + actor) that used up its read budget is shorter, with a cursor; so is a
    page of events large enough to exceed what Lambda can return.
    """
    digest = filters.digest()
    after = decode_cursor(cursor_secret, org_id, digest, cursor) if cursor is not None else None
    source, partition = source_for(org_id, filters, table_name=table_name, investigation_table=investigation_table)
    result = events_table.query_newest_first(
        source,
        org_id,
        partition,
        since=filters.since,
        until=filters.until,
        after_sort_key=after,
        count=limit + 1,
    )
    items = result.items[:limit]
    events = _within_response_limit(with_signals(investigation_table, org_id, items))
    if len(events) < len(items):  # cut short by size: resume after the last event served
        resume_after: str | None = items[len(events) - 1]["sk"]
    else:
        resume_after = items[-1]["sk"] if len(result.items) > limit else result.resume_after
    next_cursor = encode_cursor(cursor_secret, org_id, digest, resume_after) if resume_after else None
    return LogPage(events=events, next_cursor=next_cursor)


def _within_response_limit(events: list[EventOut]) -> list[EventOut]:
    """The leading events whose answer Lambda can still return (at least one: a single
    event at every field limit is about 130 KB in the response)."""
    budget = MAX_LAMBDA_RESPONSE_BYTES - ENVELOPE_BYTES
    for count, event in enumerate(events):
        budget -= payload_bytes(event.model_dump(mode="json"))
        if budget < 0 and count:
            return events[:count]
    return events
