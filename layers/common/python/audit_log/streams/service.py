"""What the streams routes do: create (recorded in the log, secret shown once), list,
show with health, delete, send a test message, resume a paused stream."""

import re
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit_log.errors import StreamNotFound, StreamNotPaused, StreamRefused
from audit_log.event_rules import EventIn
from audit_log.ledger import storage as ledger_storage
from audit_log.observability import logger
from audit_log.own_use import Requester, admin_event
from audit_log.recording import record_events
from audit_log.settings.streams import StreamSettings
from audit_log.streams import secrets, storage
from audit_log.streams.delivery import send_wake, stream_of
from audit_log.streams.destinations import DESTINATIONS, checked
from audit_log.streams.models import (
    CreatedBy,
    DestinationAnswer,
    StreamCreated,
    StreamIn,
    StreamOut,
    StreamsList,
)
from audit_log.streams.transport import DeliveryFailed
from audit_log.timestamps import format_utc_ms, utc_now

CREATED, DELETED, RESUMED = "log_stream.created", "log_stream.deleted", "log_stream.resumed"
_STREAM_ID = re.compile(r"str_[0-9A-HJKMNP-TV-Z]{26}")
_OWN_FIELDS = ("url", "site", "bucket", "prefix", "role_arn")


def _target(stream_id: str) -> dict[str, str]:
    return {"type": "log_stream", "id": stream_id}


def _record(settings: StreamSettings, event: EventIn, key: str) -> None:
    record_events([(event, key)], table_name=settings.TABLE_NAME, retention_days=settings.RETENTION_DAYS)


def create_stream(requester: Requester, body: StreamIn, settings: StreamSettings) -> StreamCreated:
    """Check the destination, store the stream (counted: at most five), record
    `log_stream.created`, then wake delivery if it starts behind the ledger.

    The stream is stored first so that the organisation's limit is enforced in the same
    transaction; if the event cannot be recorded the stream is removed again, so no
    stream exists without its event."""
    destination, secret = checked(body, allow_private=settings.ALLOW_PRIVATE_DESTINATIONS)
    if body.type == "webhook":
        secret = secrets.new_webhook_secret()
    size = ledger_storage.tree_size(settings.LEDGER_TABLE_NAME, requester.org_id)
    start = size if body.start_leaf is None else body.start_leaf
    if start > size:
        raise StreamRefused("start_leaf", f"is beyond the ledger, whose size is {size}")
    stream_id = storage.new_stream_id()
    now = utc_now()
    item: dict[str, Any] = {
        "pk": storage.streams_pk(requester.org_id),
        "sk": stream_id,
        "stream_id": stream_id,
        "org_id": requester.org_id,
        "type": body.type,
        "destination": destination,
        "event_types": body.event_types,
        "start_leaf": start,
        "created_at": format_utc_ms(now),
        "created_by": {"id": requester.user_id, "email": requester.email, "name": requester.name},
        "state": "active",
        "position": start,
        "wanted": size,
        "consecutive_failures": 0,
    }
    if secret is not None:
        item["secret"] = secrets.encrypt(settings.STREAMS_KEY_ID, requester.org_id, stream_id, secret)
    wake = storage.new_wake_id() if start < size else None
    if wake is not None:
        item |= {"wake": wake, "wake_at": int(now.timestamp())}
    storage.create(settings.STREAMS_TABLE_NAME, item)
    details = {"type": body.type, "destination": destination, "event_types": body.event_types, "start_leaf": start}
    recorded = False
    try:
        _record(settings, admin_event(requester, CREATED, _target(stream_id), details), f"{stream_id}:created")
        recorded = True
    finally:
        if not recorded:
            storage.delete(settings.STREAMS_TABLE_NAME, requester.org_id, stream_id)
    if wake is not None:
        _wake(settings, storage.Woken(requester.org_id, stream_id, wake))
    out = stream_out(item, size)
    return StreamCreated(**out.model_dump(), secret=secret if body.type == "webhook" else None)


def _wake(settings: StreamSettings, woken: storage.Woken) -> None:
    """Send the delivery message; a queue that cannot take it leaves the stream for the
    next sealed leaves to wake (its lag shows meanwhile), not a failed request."""
    try:
        send_wake(settings.STREAMS_TABLE_NAME, settings.STREAM_QUEUE_URL, woken)
    except (ClientError, BotoCoreError):
        logger.warning("Delivery message not sent", extra={"org_id": woken.org_id, "stream_id": woken.stream_id})


def _stored(settings: StreamSettings, org_id: str, stream_id: str) -> dict[str, Any]:
    if not _STREAM_ID.fullmatch(stream_id):
        raise StreamNotFound(stream_id)
    item = storage.get(settings.STREAMS_TABLE_NAME, org_id, stream_id)
    if item is None:
        raise StreamNotFound(stream_id)
    return item


def list_streams(org_id: str, settings: StreamSettings) -> StreamsList:
    items = storage.of_org(settings.STREAMS_TABLE_NAME, org_id)
    size = ledger_storage.tree_size(settings.LEDGER_TABLE_NAME, org_id) if items else 0
    return StreamsList(streams=[stream_out(item, size) for item in items])


def get_stream(org_id: str, stream_id: str, settings: StreamSettings) -> StreamOut:
    item = _stored(settings, org_id, stream_id)
    return stream_out(item, ledger_storage.tree_size(settings.LEDGER_TABLE_NAME, org_id))


def delete_stream(requester: Requester, stream_id: str, settings: StreamSettings) -> None:
    """Record `log_stream.deleted`, then remove the stream (never any event). A retried
    delete records the event once (keyed by the stream) and answers 404 once it is gone."""
    item = _stored(settings, requester.org_id, stream_id)
    details = {"type": item["type"], "destination": item["destination"], "delivered_up_to": int(item["position"])}
    _record(settings, admin_event(requester, DELETED, _target(stream_id), details), f"{stream_id}:deleted")
    storage.delete(settings.STREAMS_TABLE_NAME, requester.org_id, stream_id)


def resume_stream(requester: Requester, stream_id: str, settings: StreamSettings) -> StreamOut:
    """Restart a paused (or failing) stream from its first undelivered event, now."""
    item = _stored(settings, requester.org_id, stream_id)
    if item["state"] == "active":
        raise StreamNotPaused(stream_id)
    details = {
        "state": item["state"],
        "delivered_up_to": int(item["position"]),
        "last_error": item.get("last_error"),
    }
    since = item.get("paused_at") or item.get("failing_since") or ""
    _record(settings, admin_event(requester, RESUMED, _target(stream_id), details), f"{stream_id}:resumed:{since}")
    wake = storage.new_wake_id()
    now = int(utc_now().timestamp())
    resumed = storage.update(
        settings.STREAMS_TABLE_NAME,
        requester.org_id,
        stream_id,
        set_={"state": "active", "consecutive_failures": 0, "wake": wake, "wake_at": now},
        remove=("failing_since", "paused_at", "lease_id", "lease_until"),
        condition="#a_state <> :active",
        values={":active": "active"},
        returning=True,
    )
    if resumed is None:  # resumed meanwhile by someone else, or deleted
        return get_stream(requester.org_id, stream_id, settings)
    _wake(settings, storage.Woken(requester.org_id, stream_id, wake))
    return stream_out(resumed, ledger_storage.tree_size(settings.LEDGER_TABLE_NAME, requester.org_id))


def send_test_message(org_id: str, stream_id: str, settings: StreamSettings) -> DestinationAnswer:
    """Send one test message (not an event: it moves no position) and say what came back."""
    item = _stored(settings, org_id, stream_id)
    stream = stream_of(item)
    now = datetime.now(UTC)
    try:
        answer = DESTINATIONS[stream.type].send_test(
            stream, allow_private=settings.ALLOW_PRIVATE_DESTINATIONS, now=now, test_id=f"test_{storage.new_wake_id()}"
        )
    except DeliveryFailed as failed:
        return DestinationAnswer(delivered=False, status_code=None, response=None, error=str(failed))
    except StreamRefused as refused:
        return DestinationAnswer(delivered=False, status_code=None, response=None, error=refused.message)
    except (ClientError, BotoCoreError) as failure:
        return DestinationAnswer(
            delivered=False, status_code=None, response=None, error=f"AWS: {type(failure).__name__}"
        )
    delivered = 200 <= answer.status < 300
    problem = None if delivered else f"answered {answer.status}"
    return DestinationAnswer(
        delivered=delivered, status_code=answer.status, response=answer.text or None, error=problem
    )


def stream_out(item: dict[str, Any], size: int) -> StreamOut:
    position = int(item["position"])
    destination = item["destination"]
    paused_at = item.get("paused_at")
    return StreamOut(
        stream_id=item["stream_id"],
        type=item["type"],
        **{name: destination.get(name) for name in _OWN_FIELDS},
        event_types=item.get("event_types"),
        start_leaf=int(item["start_leaf"]),
        created_at=item["created_at"],
        created_by=CreatedBy(**item["created_by"]),
        state=item["state"],
        delivered_up_to=position,
        lag_events=max(0, size - position),
        last_delivery_at=item.get("last_delivery_at"),
        last_error=item.get("last_error"),
        consecutive_failures=int(item.get("consecutive_failures", 0)),
        paused_at=paused_at,
    )
