"""Splunk's HTTP Event Collector (docs.splunk.com, "Format events for HTTP Event
Collector"): POST to `/services/collector/event` with `Authorization: Splunk <token>`, a
body of event objects one after another (`{"time", "host", "source", "sourcetype",
"event"}`, `time` in epoch seconds), answered 200 `{"text": "Success", "code": 0}`. A URL
given without a path gets the collector's path; one with a path is used as given."""

# ruff: noqa: ARG001  (deliver and send_test take every Destination argument, used or not)

import json
from collections.abc import Sequence
from datetime import datetime

from audit_log.streams.addresses import check_url
from audit_log.streams.batches import post_in_chunks
from audit_log.streams.formats import LeafEvent, Outcome, Stream
from audit_log.streams.transport import Answer, Connection
from audit_log.timestamps import parse_rfc3339

COLLECTOR_PATH = "/services/collector/event"
MOST_BYTES = 1_000_000  # HEC's max_content_length in older releases: safe everywhere
MOST_EVENTS = 100
SOURCE = "audit-log"
SOURCETYPE = "_json"


def _connection(stream: Stream, allow_private: bool) -> tuple[Connection, str]:
    target = check_url(stream.destination["url"], allow_private=allow_private)
    return Connection(target), COLLECTOR_PATH if target.path in ("", "/") else target.path


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Splunk {token}", "Content-Type": "application/json"}


def hec_event(leaf: LeafEvent, org_id: str) -> dict[str, object]:
    occurred = parse_rfc3339(leaf.event["occurred_at"])
    return {
        "time": round(occurred.timestamp(), 3),
        "host": org_id,
        "source": SOURCE,
        "sourcetype": SOURCETYPE,
        "event": leaf.event,
    }


def deliver(stream: Stream, events: Sequence[LeafEvent], *, allow_private: bool, now: datetime) -> Outcome:
    assert stream.secret is not None
    connection, path = _connection(stream, allow_private)

    def encode(leaf: LeafEvent) -> bytes:
        return json.dumps(hec_event(leaf, stream.org_id), separators=(",", ":")).encode("utf-8")

    return post_in_chunks(
        connection,
        events,
        encode,
        b"\n".join,
        _headers(stream.secret),
        most_bytes=MOST_BYTES,
        most_events=MOST_EVENTS,
        path=path,
    )


def send_test(stream: Stream, *, allow_private: bool, now: datetime, test_id: str) -> Answer:
    assert stream.secret is not None
    connection, path = _connection(stream, allow_private)
    body = {
        "time": round(now.timestamp(), 3),
        "host": stream.org_id,
        "source": SOURCE,
        "sourcetype": SOURCETYPE,
        "event": {"type": "audit_log.test", "test_id": test_id, "stream_id": stream.stream_id},
    }
    try:
        return connection.post(json.dumps(body, separators=(",", ":")).encode("utf-8"), _headers(stream.secret), path)
    finally:
        connection.close()
