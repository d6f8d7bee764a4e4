"""The API's calls as flows (see exchange.py): what each sends and what its answer
means, shared by AuditLog and AsyncAuditLog."""

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit_log_client.errors import ApiError
from audit_log_client.events import MAX_BATCH, Event, wire
from audit_log_client.exchange import Flow, Request, RetryPolicy, exchange, refusal
from audit_log_client.timestamps import format_utc_ms


@dataclass(frozen=True)
class Recorded:
    """What the service answered for one event. `duplicate` is true when the
    idempotency key had been used already (within 24 hours): the first recording is
    returned and nothing new was written, which is what a retry after a lost answer
    gets. `idempotency_key` is the key the event was sent with."""

    event_id: str
    occurred_at: str
    recorded_at: str
    duplicate: bool
    idempotency_key: str


def _json_request(base_url: str, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Request:
    return Request(
        "POST",
        base_url + path,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(),
        signed=True,
    )


def _recorded(item: object, route: str, key: str, duplicate: bool | None = None) -> Recorded:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(name), str) for name in ("event_id", "occurred_at", "recorded_at")
    ):
        raise ApiError(f"{route} did not answer the recorded event's ids")
    flag = item.get("duplicate") if duplicate is None else duplicate
    if not isinstance(flag, bool):
        raise ApiError(f"{route} did not say whether the event was a duplicate")
    return Recorded(item["event_id"], item["occurred_at"], item["recorded_at"], flag, key)


def record(base_url: str, event: Event, policy: RetryPolicy) -> Flow[Recorded]:
    """POST /events, the key in `Idempotency-Key`: 201 new, 200 a duplicate."""
    key = _key(event)
    request = _json_request(base_url, "/events", wire(event, with_key=False), {"Idempotency-Key": key})
    answer = yield from exchange(request, policy)
    if answer.status not in (200, 201):
        raise refusal(answer, request.route)
    return _recorded(answer.json(request.route), request.route, key, duplicate=answer.status == 200)


def record_batch(base_url: str, events: Sequence[Event], policy: RetryPolicy) -> Flow[list[Recorded]]:
    """POST /events/batch with at most 25 events, each carrying its key; all or nothing
    (the service checks every event before writing any)."""
    if not 1 <= len(events) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} events, not {len(events)}")
    keys = [_key(event) for event in events]
    request = _json_request(base_url, "/events/batch", {"events": [wire(event, with_key=True) for event in events]})
    answer = yield from exchange(request, policy)
    if answer.status != 201:
        raise refusal(answer, request.route)
    body = answer.json(request.route)
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) != len(events):
        raise ApiError(f"{request.route} did not answer one result per event")
    return [_recorded(item, request.route, key) for item, key in zip(items, keys, strict=True)]


def _key(event: Event) -> str:
    if event.idempotency_key is None:  # events.checked gives every event one
        raise ValueError("an event reaches the wire only with its idempotency key")
    return event.idempotency_key


def get_page(base_url: str, path: str, token: str, params: Mapping[str, Any], policy: RetryPolicy) -> Flow[Any]:
    """One GET of an admin route, with the caller's bearer token; its JSON object."""
    query = urllib.parse.urlencode({name: _param(value) for name, value in params.items() if value is not None})
    request = Request("GET", base_url + path + (f"?{query}" if query else ""), {"Authorization": f"Bearer {token}"})
    answer = yield from exchange(request, policy)
    if answer.status != 200:
        raise refusal(answer, request.route, of_events=False)
    body = answer.json(request.route)
    if not isinstance(body, dict):
        raise ApiError(f"{request.route} did not answer a JSON object")
    return body


def page_items(page: Mapping[str, Any], name: str, route: str) -> tuple[list[Any], str | None]:
    """A page's items and its next cursor, checked: a cursor that is not a string would
    loop or stop a walk early."""
    items, cursor = page.get(name), page.get("next_cursor")
    if not isinstance(items, list) or not (cursor is None or isinstance(cursor, str)):
        raise ApiError(f"GET {route} did not answer a page of {name}")
    return items, cursor


def _param(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time filter must be timezone-aware")
        return format_utc_ms(value)
    return str(value)
