"""All DynamoDB access of Audit Log: the key encoding and every read and write.

Events table items:

- `pk` = `org#<org_id>`; `sk` = `<occurred_at as 2026-11-26T09:15:02.120Z>#<event_id>`.
  Fixed-width UTC timestamps make string order time order, so a reverse Query is
  newest first, with ties broken by event id.
- GSI keys, both sharing `sk` as their sort key:
  `type_pk` = `org#<org_id>#type#<event_type>` (index `by_event_type`),
  `actor_pk` = `org#<org_id>#actor#<actor_id>` (index `by_actor`). `org_id` cannot
  contain `#` and the free-form part comes last, so no two keys collide by accident.
- `details` is stored as compact JSON text: byte-for-byte what was accepted, with no
  float-to-Decimal conversion or nesting limits in the way.

Reads are Queries on the table or one index (see `partition_for`), never a Scan. Two
indexes, not one per filter combination: every index costs a write unit per event, and
events are written far more often than the log is read (see the README's Write cost).

Idempotency markers share the table: `pk` = `idem#<org_id>#<key>`, `sk` = `marker`,
holding the answer given for the original event and `expires_at` 24 hours after it. They
carry no index keys, so no query ever sees them, and no `org#` partition holds them. A
marker written ahead of its event (`put_marker`) also holds the event item itself, as a
map under `event`, so whoever finds the marker can finish the write.
"""

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from audit_log import aws_clients
from audit_log.attribute_values import deserialize, serialize
from audit_log.errors import EventAlreadyExists, KeysAlreadyUsed, StoreUnavailable, WriteContention

if TYPE_CHECKING:  # type stubs only; not shipped in the layer
    from mypy_boto3_dynamodb import DynamoDBClient


# botocore's standard retry mode: throttling, 5xx and connection errors are retried with
# exponential backoff and full jitter (a random wait of up to 1, 2, 4 s after throttling;
# botocore scales it down for DynamoDB's 5xx), 4 attempts in all. A stuck connection is
# abandoned after 5 s (DynamoDB answers in milliseconds; moto server's transactions take
# seconds on a big local table). The worst case, every attempt timing out, stays inside
# the functions' 25 s timeout, so the caller gets a 503 rather than a gateway timeout.
MAX_ATTEMPTS = 4
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}, connect_timeout=2, read_timeout=5
)
# Errors that mean "DynamoDB could not do it now", besides any 5xx.
_UNAVAILABLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


@cache
def dynamodb_client() -> "DynamoDBClient":
    """The one DynamoDB client, made on first use rather than at import, so importing a
    function needs no AWS region or endpoint yet (tests, tools), then reused."""
    return cast("DynamoDBClient", aws_clients.create("dynamodb", _CLIENT_CONFIG))


@contextmanager
def unavailable_after_retries() -> Iterator[None]:
    """Turn what is left after botocore's retries (throttling, 5xx, no connection) into
    StoreUnavailable; any other error is a bug or a condition and passes through."""
    try:
        yield
    except (BotocoreConnectionError, HTTPClientError) as exc:
        raise StoreUnavailable(type(exc).__name__) from exc
    except ClientError as exc:
        metadata = exc.response.get("ResponseMetadata", {})
        code = exc.response.get("Error", {}).get("Code", "")
        if metadata.get("HTTPStatusCode", 0) >= 500 or code in _UNAVAILABLE_CODES:
            raise StoreUnavailable(code) from exc
        raise


# A marker past its expiry may still be stored (TTL deletes lazily); it no longer counts.
_MARKER_IS_FREE = "attribute_not_exists(pk) OR expires_at < :now"
_EVENT_IS_NEW = "attribute_not_exists(pk)"


def org_pk(org_id: str) -> str:
    return f"org#{org_id}"


def type_pk(org_id: str, event_type: str) -> str:
    return f"org#{org_id}#type#{event_type}"


def actor_pk(org_id: str, actor_id: str) -> str:
    return f"org#{org_id}#actor#{actor_id}"


def sort_key(occurred_at: str, event_id: str) -> str:
    return f"{occurred_at}#{event_id}"


def marker_key(org_id: str, idempotency_key: str) -> dict[str, str]:
    return {"pk": f"idem#{org_id}#{idempotency_key}", "sk": "marker"}


def to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    return {name: serialize(value) for name, value in item.items()}


def from_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    return {name: deserialize(value) for name, value in item.items()}


def _is(stored: Any, item: dict[str, Any]) -> bool:
    """Whether an item DynamoDB returned (wire format) is exactly `item`."""
    return isinstance(stored, dict) and from_dynamodb(stored) == item


def _put_unless(table_name: str, item: dict[str, Any], condition: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """A standard conditional put of `item`; None if it is stored, else the item that made
    the condition fail (returned by the failure itself, so no read permission is needed).

    When botocore retried a put whose first answer was lost, the condition finds this very
    item: that is our own write, done once, not a clash.
    """
    request: dict[str, Any] = {
        "TableName": table_name,
        "Item": to_dynamodb(item),
        "ConditionExpression": condition,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if values:
        request["ExpressionAttributeValues"] = values
    try:
        with unavailable_after_retries():
            dynamodb_client().put_item(**request)
    except dynamodb_client().exceptions.ConditionalCheckFailedException as exc:
        stored = exc.response.get("Item")
        if _is(stored, item):
            return None
        if not isinstance(stored, dict):
            raise
        return from_dynamodb(stored)
    return None


def put_marker(table_name: str, marker: dict[str, Any], now_epoch: int) -> None:
    """Claim an idempotency key with a standard write: the marker is stored unless a live
    one holds the key, in which case KeysAlreadyUsed carries the stored marker."""
    stored = _put_unless(table_name, marker, _MARKER_IS_FREE, {":now": serialize(now_epoch)})
    if stored is not None:
        raise KeysAlreadyUsed({marker["pk"]: stored})


def put_event(table_name: str, item: dict[str, Any]) -> None:
    """Write one new event; an item already at its key is never overwritten."""
    if _put_unless(table_name, item, _EVENT_IS_NEW, {}) is not None:
        raise EventAlreadyExists(item["sk"])


def put_events_with_markers(
    table_name: str,
    events: Sequence[dict[str, Any]],
    markers: Sequence[dict[str, Any]],
    now_epoch: int,
) -> None:
    """Write events and their idempotency markers in one transaction: all or nothing.

    Raises KeysAlreadyUsed (with the stored markers, returned by the failed condition
    itself, so no read permission is needed) when a live marker exists, EventAlreadyExists
    if an event key is taken, WriteContention on a conflict with a concurrent transaction.
    In each case nothing at all was written. A retry of a transaction that had landed
    (botocore retries when an answer is lost) finds exactly its own items: that is success.
    """
    now_value = serialize(now_epoch)
    transact_items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": to_dynamodb(marker),
                "ConditionExpression": _MARKER_IS_FREE,
                "ExpressionAttributeValues": {":now": now_value},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for marker in markers
    ]
    transact_items += [
        {
            "Put": {
                "TableName": table_name,
                "Item": to_dynamodb(event),
                "ConditionExpression": _EVENT_IS_NEW,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for event in events
    ]
    try:
        with unavailable_after_retries():
            dynamodb_client().transact_write_items(TransactItems=transact_items)  # type: ignore[arg-type]
    except dynamodb_client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if _landed_before(reasons, [*markers, *events]):
            return
        _raise_for_cancellation(reasons, markers, events)
        raise WriteContention(str(reasons)) from exc


def _landed_before(reasons: Sequence[Any], items: Sequence[dict[str, Any]]) -> bool:
    """Whether every failed condition found exactly our own item: the transaction had
    already been applied (transactions are all or nothing, so one such item proves all)."""
    failed = [(item, reason) for item, reason in zip(items, reasons, strict=False) if reason.get("Code") != "None"]
    return bool(failed) and all(
        reason.get("Code") == "ConditionalCheckFailed" and _is(reason.get("Item"), item) for item, reason in failed
    )


def _raise_for_cancellation(
    reasons: Sequence[Any],
    markers: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
) -> None:
    used: dict[str, dict[str, Any]] = {}
    for marker, reason in zip(markers, reasons, strict=False):
        stored = reason.get("Item")
        if reason.get("Code") == "ConditionalCheckFailed" and stored:
            used[marker["pk"]] = from_dynamodb(stored)
    if used:
        raise KeysAlreadyUsed(used)
    for event, reason in zip(events, reasons[len(markers) :], strict=False):
        if reason.get("Code") == "ConditionalCheckFailed":
            raise EventAlreadyExists(event["sk"])


# How many items one page may read when a filter discards some: a page of an actor's rare
# event type stops there (with a cursor) rather than reading a huge actor's whole history
# in one request. 2,000 items of ~1 KB are about 500 read units (eventually consistent).
FILTERED_READ_BUDGET = 2_000


@dataclass(frozen=True)
class Partition:
    """Where a filter set is served from: the table or one index, one partition key of it,
    and the event type and actor when no key holds them (then a FilterExpression)."""

    index_name: str | None
    key_attribute: str
    key_value: str
    event_type: str | None = None
    actor_id: str | None = None


def partition_for(org_id: str, event_type: str | None, actor_id: str | None) -> Partition:
    """The partition serving a filter set: every single filter is a key, so it reads only
    matching items; type + actor reads the actor's partition and filters by type (an
    actor is usually the narrower of the two: one user's events, not every user's logins)."""
    if actor_id is not None:
        return Partition("by_actor", "actor_pk", actor_pk(org_id, actor_id), event_type)
    if event_type is not None:
        return Partition("by_event_type", "type_pk", type_pk(org_id, event_type))
    return Partition(None, "pk", org_pk(org_id))


@dataclass(frozen=True)
class QueryResult:
    items: list[dict[str, Any]]
    # Set when the read budget ran out first: the sort key of the last item read, where
    # the next page resumes (every item up to it has been looked at).
    resume_after: str | None = None


def query_newest_first(
    table_name: str,
    org_id: str,
    partition: Partition,
    *,
    since: str | None,
    until: str | None,
    after_sort_key: str | None,
    count: int,
) -> QueryResult:
    """Up to `count` items of one partition, newest first, with `since <= sk < until`
    and strictly older than `after_sort_key` (the last item of the previous page).

    The range is a key condition, so without an event-type filter every item DynamoDB
    reads is returned, and a second call happens only when DynamoDB stops at its 1 MB
    page size first. With the filter, each further call asks for as many items as the
    share matched so far says it needs, within FILTERED_READ_BUDGET.
    """
    conditions = ["#p = :p"]
    names = {"#p": partition.key_attribute}
    values: dict[str, Any] = {":p": {"S": partition.key_value}}
    if since is not None and until is not None:
        conditions.append("#s BETWEEN :since AND :until")  # `since#…` ≥ since; `until#…` > until
    elif since is not None:
        conditions.append("#s >= :since")
    elif until is not None:
        conditions.append("#s < :until")
    if since is not None:
        values[":since"] = {"S": since}
    if until is not None:
        values[":until"] = {"S": until}
    if len(conditions) > 1:
        names["#s"] = "sk"
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": " AND ".join(conditions),
        "ScanIndexForward": False,
    }
    filters = []
    if partition.event_type is not None:
        filters.append("#t = :t")
        names["#t"] = "event_type"
        values[":t"] = {"S": partition.event_type}
    if partition.actor_id is not None:
        filters.append("#a.#id = :a")
        names |= {"#a": "actor", "#id": "id"}
        values[":a"] = {"S": partition.actor_id}
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    request |= {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
    if partition.index_name is not None:
        request["IndexName"] = partition.index_name
    start: dict[str, Any] | None = None
    if after_sort_key is not None:
        # An index's key includes the table's; items of the table's own partitions hold
        # the organisation's events (pk org#…) or copies of them (the investigation table).
        table_pk = partition.key_value if partition.index_name is None else org_pk(org_id)
        start = {"pk": {"S": table_pk}, "sk": {"S": after_sort_key}}
        if partition.index_name is not None:
            start[partition.key_attribute] = {"S": partition.key_value}
    items: list[dict[str, Any]] = []
    read = 0
    while True:
        wanted = count - len(items)
        if read:  # scale by the share of items the filter kept so far (1 without a filter)
            wanted = min(math.ceil(wanted * read / max(len(items), 1)), FILTERED_READ_BUDGET - read)
        page_request = {**request, "Limit": wanted}
        if start:
            page_request["ExclusiveStartKey"] = start
        with unavailable_after_retries():
            response = dynamodb_client().query(**page_request)
        items += [from_dynamodb(item) for item in response["Items"]]
        read += response["ScannedCount"]
        start = response.get("LastEvaluatedKey")
        if not start or len(items) >= count:
            return QueryResult(items[:count])
        if read >= FILTERED_READ_BUDGET:
            return QueryResult(items, resume_after=start["sk"]["S"])


# BatchGetItem takes at most 100 keys a call.
_BATCH_GET_KEYS = 100


def get_items(
    table_name: str, keys: Sequence[dict[str, str]], *, consistent: bool = False
) -> dict[tuple[str, str], dict[str, Any]]:
    """The items at `keys` ({"pk", "sk"}) that exist, by (pk, sk): BatchGetItem, 100 keys
    a call, keys DynamoDB left unprocessed asked for again."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    unique = list({(key["pk"], key["sk"]): key for key in keys}.values())  # BatchGetItem refuses repeats
    for first in range(0, len(unique), _BATCH_GET_KEYS):
        chunk = [to_dynamodb(key) for key in unique[first : first + _BATCH_GET_KEYS]]
        request: dict[str, Any] = {table_name: {"Keys": chunk, "ConsistentRead": consistent}}
        while request:
            with unavailable_after_retries():
                answer = dynamodb_client().batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table_name, []):
                plain = from_dynamodb(item)
                found[(plain["pk"], plain["sk"])] = plain
            request = answer.get("UnprocessedKeys") or {}
    return found


def event_keys(org_id: str, sort_keys: Sequence[str]) -> list[dict[str, str]]:
    return [{"pk": org_pk(org_id), "sk": sort_key} for sort_key in sort_keys]


def scan_page(
    table_name: str, start: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of every item in the table (reconciliation only: the service's reads are
    Queries), and where the next page starts (None after the last)."""
    request: dict[str, Any] = {"TableName": table_name, "Limit": limit}
    if start:
        request["ExclusiveStartKey"] = start
    with unavailable_after_retries():
        answer = dynamodb_client().scan(**request)
    return [from_dynamodb(item) for item in answer["Items"]], answer.get("LastEvaluatedKey")


def find_recent_event(table_name: str, org_id: str, event_id: str, since: str, until: str) -> bool:
    """Whether `org_id` holds event `event_id` among the events that occurred in
    [since, until): a bounded read (at most FILTERED_READ_BUDGET items), for telling an
    event not yet sealed from one that is not the organisation's."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :since AND :until",
        "FilterExpression": "event_id = :id",
        "ExpressionAttributeValues": {
            ":p": {"S": org_pk(org_id)},
            ":since": {"S": since},
            ":until": {"S": until},
            ":id": {"S": event_id},
        },
        "ProjectionExpression": "event_id",
    }
    read = 0
    while read < FILTERED_READ_BUDGET:
        with unavailable_after_retries():
            answer = dynamodb_client().query(**{**request, "Limit": FILTERED_READ_BUDGET - read})
        if answer["Items"]:
            return True
        read += answer["ScannedCount"]
        if "LastEvaluatedKey" not in answer:
            return False
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return False
