"""The dispatcher: follows the sealed ledger (the ledger table's stream, not the events
table's, whose two readers are the sealer and the indexer) and wakes each stream the new
leaves leave behind.

For each organisation in a batch of new leaf segments, the tree's new size is the end of
its last segment. Each of the organisation's streams that is behind it (and not paused)
first has the size noted (`wanted`), then gets a delivery message if none is live; a
live delivery sees the noted size before it lets go, so no leaf is ever left unwoken. A
wake untouched for STALE_WAKE_SECONDS (its message lost) is taken over."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from botocore.exceptions import BotoCoreError, ClientError

from audit_log.errors import StoreUnavailable
from audit_log.settings.streams import StreamDispatchSettings
from audit_log.streams import storage
from audit_log.streams.delivery import STALE_WAKE_SECONDS, send_wake

DISPATCH_FAILURES = (StoreUnavailable, ClientError, BotoCoreError)
_LEAVES = "#leaves"


@dataclass
class DispatchOutcome:
    orgs: int = 0
    woken: int = 0
    failed_sequence_numbers: list[str] = field(default_factory=list)


def tree_ends(records: Iterable[DynamoDBRecord]) -> tuple[dict[str, int], dict[str, str]]:
    """(org → the largest tree size the batch's new segments reach, org → its first
    record's sequence number). Other ledger items (nodes, lookups, checkpoints) are not
    leaves and are passed over."""
    ends: dict[str, int] = {}
    first: dict[str, str] = {}
    for record in records:
        if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
            continue
        image = record.dynamodb.new_image
        pk = image.get("pk")
        if not isinstance(pk, str) or not pk.startswith("org#") or not pk.endswith(_LEAVES):
            continue
        try:
            end = int(image["sk"]) + len(image["events"])
        except (KeyError, TypeError, ValueError):
            continue
        org_id = pk[len("org#") : -len(_LEAVES)]
        ends[org_id] = max(end, ends.get(org_id, 0))
        first.setdefault(org_id, record.dynamodb.sequence_number or "")
    return ends, first


def wake_org(settings: StreamDispatchSettings, org_id: str, size: int, now: int) -> int:
    """Wake the organisation's streams that are behind `size`; how many messages were sent."""
    sent = 0
    for item in storage.of_org(settings.STREAMS_TABLE_NAME, org_id):
        if item["state"] == "paused" or int(item["position"]) >= size:
            continue
        if int(item.get("wanted", 0)) < size:
            storage.raise_wanted(settings.STREAMS_TABLE_NAME, org_id, item["stream_id"], size)
        woken = storage.take_wake(
            settings.STREAMS_TABLE_NAME, org_id, item["stream_id"], size, now, now - STALE_WAKE_SECONDS
        )
        if woken is not None:
            send_wake(settings.STREAMS_TABLE_NAME, settings.STREAM_QUEUE_URL, woken)
            sent += 1
    return sent


def dispatch(records: Iterable[DynamoDBRecord], settings: StreamDispatchSettings, now: int) -> DispatchOutcome:
    ends, first = tree_ends(records)
    outcome = DispatchOutcome(orgs=len(ends))
    for org_id, size in ends.items():
        try:
            outcome.woken += wake_org(settings, org_id, size, now)
        except DISPATCH_FAILURES:
            # Lambda retries the batch from this organisation's first record.
            outcome.failed_sequence_numbers.append(first[org_id])
    return outcome
