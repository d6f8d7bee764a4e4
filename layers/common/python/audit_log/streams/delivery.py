"""Delivery: one stream's events, in ledger order, to its destination.

A delivery message names a stream and the wake it was sent under. The worker claims the
stream (a conditional update on that wake, with a lease), then loops: read the ledger's
size, the next up to BATCH leaves and their events (one Query, one BatchGetItem), hand
them to the destination, and move the stream's position past what arrived. Caught up,
it gives the wake back — unless the dispatcher noted a larger tree meanwhile, which
keeps it going — so exactly one message per stream is ever live, and a stream that
falls behind is woken again by the next sealed leaves.

A failure keeps the position at the first event that did not arrive (at least once: a
receiver may see a batch's earlier events again, never a gap), and sends the next
attempt as a new message delayed by exponential backoff with jitter (SQS delays reach
15 minutes). A stream failing for RETRY_WINDOW is paused, which the organisation's log
records as `log_stream.paused`; resuming continues from the same position. Each stream
is its own message, so a slow or failing destination holds up only itself.
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit_log import aws_clients
from audit_log.errors import StreamRefused
from audit_log.events_table import event_keys, get_items, org_pk
from audit_log.ledger import storage as ledger_storage
from audit_log.own_use import service_event
from audit_log.querying import event_out
from audit_log.recording import record_events
from audit_log.settings.streams import StreamDeliverySettings
from audit_log.streams import secrets, storage
from audit_log.streams.destinations import DESTINATIONS
from audit_log.streams.formats import NOT_STREAMED, LeafEvent, Outcome, Stream
from audit_log.timestamps import format_utc_ms

BATCH = 100
RETRY_WINDOW = timedelta(hours=24)
BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 900  # SQS's longest delay
STOP_MARGIN_MS = 30_000  # no new batch with less time than this left
STALE_WAKE_SECONDS = 1_800  # a wake untouched this long lost its message
PAUSED = "log_stream.paused"
Clock = Callable[[], float]


@dataclass(frozen=True)
class DeliveryMessage:
    org_id: str
    stream_id: str
    wake: str

    @classmethod
    def parse(cls, body: str) -> "DeliveryMessage":
        fields = json.loads(body)
        if not isinstance(fields, dict) or not all(
            isinstance(fields.get(name), str) and fields[name] for name in ("org_id", "stream_id", "wake")
        ):
            raise ValueError("a delivery message names org_id, stream_id and wake")
        return cls(fields["org_id"], fields["stream_id"], fields["wake"])

    def body(self) -> str:
        return json.dumps({"org_id": self.org_id, "stream_id": self.stream_id, "wake": self.wake})


def send(queue_url: str, message: DeliveryMessage, delay_seconds: int = 0) -> None:
    aws_clients.sqs().send_message(QueueUrl=queue_url, MessageBody=message.body(), DelaySeconds=delay_seconds)


def send_wake(table_name: str, queue_url: str, woken: storage.Woken) -> None:
    """Send the message of a wake just taken; if it cannot be sent, give the wake back, so
    the next sealed leaves (or a resume) wake the stream at once instead of after
    STALE_WAKE_SECONDS."""
    try:
        send(queue_url, DeliveryMessage(woken.org_id, woken.stream_id, woken.wake))
    except (ClientError, BotoCoreError):
        storage.update(
            table_name,
            woken.org_id,
            woken.stream_id,
            remove=("wake", "wake_at"),
            condition="#a_wake = :wake",
            values={":wake": woken.wake},
        )
        raise


def backoff_seconds(failures: int, rng: Callable[[], float] = random.random) -> int:
    """Exponential from BASE_DELAY_SECONDS, capped at MAX_DELAY_SECONDS, with equal jitter
    (half fixed, half random), so failing streams do not retry in step."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, failures - 1))
    return max(1, int(ceiling / 2 + rng() * ceiling / 2))


def stream_of(item: dict[str, Any]) -> Stream:
    """The stream as destinations take it, its secret decrypted."""
    ciphertext = item.get("secret")
    secret = secrets.decrypt(item["org_id"], item["stream_id"], bytes(ciphertext)) if ciphertext else None
    return Stream(item["org_id"], item["stream_id"], item["type"], dict(item["destination"]), secret)


def read_batch(
    settings: StreamDeliverySettings, org_id: str, start: int, end: int, types: set[str] | None
) -> list[LeafEvent]:
    """The events of leaves [start, end) to deliver, in ledger order. An event gone by
    retention (its leaf remains) has nothing left to deliver."""
    leaves = ledger_storage.leaf_events(settings.LEDGER_TABLE_NAME, org_id, start, end)
    items = get_items(settings.TABLE_NAME, event_keys(org_id, [key for _, key in leaves]))
    batch = []
    for leaf_index, key in leaves:
        item = items.get((org_pk(org_id), key))
        if item is not None and (types is None or item["event_type"] in types):
            batch.append(LeafEvent(leaf_index, event_out(item).model_dump(mode="json", exclude=set(NOT_STREAMED))))
    return batch


class _Run:
    """One claimed delivery: the conditions every change is made under."""

    def __init__(self, settings: StreamDeliverySettings, message: DeliveryMessage, lease_id: str, clock: Clock) -> None:
        self.settings, self.message, self.lease_id, self.clock = settings, message, lease_id, clock

    def update(
        self,
        *,
        set_: dict[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        extra: str = "",
        values: dict[str, Any] | None = None,
    ) -> bool:
        condition = "#a_wake = :wake AND #a_lease_id = :lease" + (f" AND {extra}" if extra else "")
        done = storage.update(
            self.settings.STREAMS_TABLE_NAME,
            self.message.org_id,
            self.message.stream_id,
            set_=set_,
            remove=remove,
            condition=condition,
            values={":wake": self.message.wake, ":lease": self.lease_id, **(values or {})},
        )
        return done is not None

    def hand_on(self, delay_seconds: int, changes: dict[str, Any]) -> bool:
        """Give the stream to a new message (after `delay_seconds`), with `changes`."""
        wake = storage.new_wake_id()
        moved = self.update(
            set_={**changes, "wake": wake, "wake_at": int(self.clock())}, remove=("lease_id", "lease_until")
        )
        if moved:
            message = DeliveryMessage(self.message.org_id, self.message.stream_id, wake)
            send(self.settings.STREAM_QUEUE_URL, message, delay_seconds)
        return moved


def run(
    message: DeliveryMessage,
    settings: StreamDeliverySettings,
    *,
    lease_id: str,
    remaining_ms: Callable[[], int],
    clock: Clock,
    rng: Callable[[], float] = random.random,
) -> str:
    """Deliver what the stream is behind by; what happened, in a word (for the log)."""
    now = int(clock())
    claimed = storage.update(
        settings.STREAMS_TABLE_NAME,
        message.org_id,
        message.stream_id,
        set_={"lease_id": lease_id, "lease_until": now + remaining_ms() // 1000 + 5},
        condition="#a_wake = :wake AND #a_state <> :paused"
        " AND (attribute_not_exists(#a_lease_until) OR #a_lease_until < :now)",
        values={":wake": message.wake, ":paused": "paused", ":now": now},
        returning=True,
    )
    if claimed is None:
        return "stale"  # another wake replaced this one, the stream is paused, gone or leased
    run_ = _Run(settings, message, lease_id, clock)
    stream = stream_of(claimed)
    destination = DESTINATIONS[stream.type]
    position = int(claimed["position"])
    types = set(claimed["event_types"]) if claimed.get("event_types") else None
    failures = int(claimed.get("consecutive_failures", 0))
    failing_since = claimed.get("failing_since")
    while True:
        size = ledger_storage.tree_size(settings.LEDGER_TABLE_NAME, message.org_id)
        if position >= size:
            if run_.update(
                remove=("wake", "wake_at", "lease_id", "lease_until"),
                extra="(attribute_not_exists(#a_wanted) OR #a_wanted <= :position)",
                values={":position": position},
            ):
                return "caught up"
            current = storage.get(settings.STREAMS_TABLE_NAME, message.org_id, message.stream_id)
            if current is None or current.get("wake") != message.wake or current.get("lease_id") != lease_id:
                return "lost"
            continue  # the dispatcher saw the tree grow: go on
        if remaining_ms() < STOP_MARGIN_MS:
            return "continued" if run_.hand_on(0, {}) else "lost"
        end = min(size, position + BATCH)
        batch = read_batch(settings, message.org_id, position, end, types)
        now_at = datetime.fromtimestamp(clock(), UTC)
        try:
            outcome = (
                destination.deliver(stream, batch, allow_private=settings.ALLOW_PRIVATE_DESTINATIONS, now=now_at)
                if batch
                else Outcome(0)
            )
        except StreamRefused as refused:
            outcome = Outcome(0, refused.message)
        reached = end if outcome.error is None else (batch[outcome.delivered].leaf_index if batch else position)
        if reached > position:
            changes: dict[str, Any] = {"position": reached, "consecutive_failures": 0, "state": "active"}
            if outcome.delivered:
                changes["last_delivery_at"] = format_utc_ms(now_at)
            if not run_.update(
                set_=changes, remove=("failing_since",), extra="#a_position = :old", values={":old": position}
            ):
                return "lost"
            position, failures, failing_since = reached, 0, None
        if outcome.error is not None:
            return _failed(run_, stream, outcome.error, failures + 1, failing_since, position, rng)


def _failed(
    run_: _Run,
    stream: Stream,
    error: str,
    failures: int,
    failing_since: int | None,
    position: int,
    rng: Callable[[], float],
) -> str:
    now = int(run_.clock())
    since = int(failing_since) if failing_since is not None else now
    changes: dict[str, Any] = {"last_error": error, "consecutive_failures": failures, "failing_since": since}
    if now - since >= RETRY_WINDOW.total_seconds():
        settings = run_.settings
        event = service_event(
            stream.org_id,
            PAUSED,
            {"type": "log_stream", "id": stream.stream_id},
            {
                "reason": error,
                "failing_since": format_utc_ms(datetime.fromtimestamp(since, UTC)),
                "consecutive_failures": failures,
                "delivered_up_to": position,
            },
        )
        # Recorded first, keyed by the failure it ends: a retried pause records it once.
        record_events(
            [(event, f"{stream.stream_id}:paused:{since}")],
            table_name=settings.TABLE_NAME,
            retention_days=settings.RETENTION_DAYS,
        )
        paused = run_.update(
            set_={**changes, "state": "paused", "paused_at": format_utc_ms(datetime.fromtimestamp(now, UTC))},
            remove=("wake", "wake_at", "lease_id", "lease_until"),
        )
        return "paused" if paused else "lost"
    delay = backoff_seconds(failures, rng)
    return "retrying" if run_.hand_on(delay, {**changes, "state": "failing"}) else "lost"
