"""Webhooks signed per the Standard Webhooks specification (standardwebhooks.com), with
its own library: one POST per event, `webhook-id` = the event id (receivers deduplicate
on it), `webhook-timestamp` = when it was sent, `webhook-signature` = `v1,` + base64 of
HMAC-SHA256 over `id.timestamp.body` with the stream's `whsec_` secret. The body is the
specification's envelope: `{"type", "timestamp", "data"}`."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

from audit_log.streams.addresses import check_url
from audit_log.streams.formats import LeafEvent, Outcome, Stream
from audit_log.streams.transport import Answer, Connection, DeliveryFailed, accepted
from audit_log.timestamps import format_utc_ms

EVENT_TYPE = "audit_log.event"
TEST_TYPE = "audit_log.test"


def message(message_type: str, timestamp: str, data: dict[str, Any]) -> str:
    return json.dumps({"type": message_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def _post(connection: Connection, secret: str, message_id: str, body: str, now: datetime) -> Answer:
    return connection.post(body.encode("utf-8"), signed_headers(secret, message_id, body, now))


def deliver(stream: Stream, events: Sequence[LeafEvent], *, allow_private: bool, now: datetime) -> Outcome:
    assert stream.secret is not None
    connection = Connection(check_url(stream.destination["url"], allow_private=allow_private))
    try:
        for done, leaf in enumerate(events):
            body = message(EVENT_TYPE, leaf.event["recorded_at"], leaf.event)
            try:
                accepted(_post(connection, stream.secret, leaf.event["event_id"], body, now), connection.target.host)
            except DeliveryFailed as failed:
                return Outcome(done, str(failed))
    finally:
        connection.close()
    return Outcome(len(events))


def send_test(stream: Stream, *, allow_private: bool, now: datetime, test_id: str) -> Answer:
    assert stream.secret is not None
    connection = Connection(check_url(stream.destination["url"], allow_private=allow_private))
    data = {"stream_id": stream.stream_id, "message": "A test message from Audit Log: this stream reaches you."}
    try:
        return _post(connection, stream.secret, test_id, message(TEST_TYPE, format_utc_ms(now), data), now)
    finally:
        connection.close()
