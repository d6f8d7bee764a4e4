"""Datadog's logs intake (docs.datadoghq.com, "Send logs" API v2): POST a JSON array of
logs to `https://http-intake.logs.<site>/api/v2/logs` with the `DD-API-KEY` header, at
most 1,000 logs and 5 MB a request, answered 202. Each log carries `ddsource`,
`service`, `hostname`, `ddtags` and the event as a JSON `message` (which Datadog parses
into attributes). The site is one of Datadog's, never a URL the customer gives."""

# ruff: noqa: ARG001  (deliver and send_test take every Destination argument, used or not)

import json
from collections.abc import Sequence
from datetime import datetime

from audit_log.streams.addresses import check_url
from audit_log.streams.batches import post_in_chunks
from audit_log.streams.formats import LeafEvent, Outcome, Stream
from audit_log.streams.transport import Answer, Connection

MOST_BYTES = 4_000_000
MOST_EVENTS = 1_000
SOURCE = "audit-log"


def intake_url(site: str) -> str:
    return f"https://http-intake.logs.{site}/api/v2/logs"


def log_entry(event: dict[str, object], org_id: str) -> dict[str, object]:
    return {
        "ddsource": SOURCE,
        "service": SOURCE,
        "hostname": org_id,
        "ddtags": f"org_id:{org_id},event_type:{event['event_type']}",
        "message": json.dumps(event, separators=(",", ":")),
    }


def _headers(api_key: str) -> dict[str, str]:
    return {"DD-API-KEY": api_key, "Content-Type": "application/json"}


def _connection(stream: Stream) -> Connection:
    # Datadog's own hosts: always public HTTPS, whatever ALLOW_PRIVATE_DESTINATIONS says.
    return Connection(check_url(intake_url(stream.destination["site"]), allow_private=False, field="site"))


def deliver(stream: Stream, events: Sequence[LeafEvent], *, allow_private: bool, now: datetime) -> Outcome:
    assert stream.secret is not None
    connection = _connection(stream)

    def encode(leaf: LeafEvent) -> bytes:
        return json.dumps(log_entry(leaf.event, stream.org_id), separators=(",", ":")).encode("utf-8")

    return post_in_chunks(
        connection,
        events,
        encode,
        lambda entries: b"[" + b",".join(entries) + b"]",
        _headers(stream.secret),
        most_bytes=MOST_BYTES,
        most_events=MOST_EVENTS,
    )


def send_test(stream: Stream, *, allow_private: bool, now: datetime, test_id: str) -> Answer:
    assert stream.secret is not None
    connection = _connection(stream)
    entry = log_entry(
        {"event_type": "audit_log.test", "test_id": test_id, "stream_id": stream.stream_id}, stream.org_id
    )
    try:
        return connection.post(json.dumps([entry], separators=(",", ":")).encode("utf-8"), _headers(stream.secret))
    finally:
        connection.close()
