"""All DynamoDB access of the streams table.

pk = `org#<org_id>`; one item per stream, sk = its id (`str_` + a ULID, so a reverse
Query lists them newest first), and one counter item, sk `count`, holding how many
streams the organisation has: creating and deleting change it in the same transaction,
so two admins adding a fifth stream at once cannot make six.

Besides what the routes show, a stream's item holds where delivery is and who may
deliver: `position` (the leaf index of the first event not yet delivered), `wanted` (the
largest tree size the dispatcher has seen), `wake` (the id of the one delivery message
that may run, absent when none is due) with `wake_at`, and a lease. Every change delivery
makes is conditional on the wake id and lease it holds, so a duplicated or stale message
does nothing, and a stream is never delivered by two workers at once.
"""

from dataclasses import dataclass
from typing import Any

from ulid import ULID

from audit_log.errors import StreamNotFound, TooManyStreams
from audit_log.events_table import dynamodb_client, from_dynamodb, to_dynamodb, unavailable_after_retries
from audit_log.streams.models import MAX_STREAMS

COUNT = "count"


def new_stream_id() -> str:
    return f"str_{ULID()}"


def new_wake_id() -> str:
    return str(ULID())


def streams_pk(org_id: str) -> str:
    return f"org#{org_id}"


def _key(org_id: str, stream_id: str) -> dict[str, Any]:
    return to_dynamodb({"pk": streams_pk(org_id), "sk": stream_id})


def _cancelled_by(error: Any, index: int) -> bool:
    reasons = error.response.get("CancellationReasons", [])
    return len(reasons) > index and reasons[index].get("Code") == "ConditionalCheckFailed"


def create(table_name: str, item: dict[str, Any]) -> None:
    """Store a new stream and count it; TooManyStreams if the organisation has the most."""
    org_key = to_dynamodb({"pk": item["pk"], "sk": COUNT})
    request: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": to_dynamodb(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": org_key,
                "UpdateExpression": "SET streams = if_not_exists(streams, :zero) + :one",
                "ConditionExpression": "attribute_not_exists(streams) OR streams < :most",
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":most": {"N": str(MAX_STREAMS)},
                },
            }
        },
    ]
    client = dynamodb_client()
    try:
        with unavailable_after_retries():
            client.transact_write_items(TransactItems=request)  # type: ignore[arg-type]
    except client.exceptions.TransactionCanceledException as error:
        if _cancelled_by(error, 1):
            raise TooManyStreams(f"At most {MAX_STREAMS} streams per organisation; delete one first") from error
        raise


def delete(table_name: str, org_id: str, stream_id: str) -> None:
    """Remove the stream and uncount it; StreamNotFound if it is not there."""
    request: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": table_name,
                "Key": _key(org_id, stream_id),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": table_name,
                "Key": to_dynamodb({"pk": streams_pk(org_id), "sk": COUNT}),
                "UpdateExpression": "SET streams = streams - :one",
                "ConditionExpression": "streams > :zero",
                "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
            }
        },
    ]
    client = dynamodb_client()
    try:
        with unavailable_after_retries():
            client.transact_write_items(TransactItems=request)  # type: ignore[arg-type]
    except client.exceptions.TransactionCanceledException as error:
        if _cancelled_by(error, 0):
            raise StreamNotFound(stream_id) from error
        raise


def get(table_name: str, org_id: str, stream_id: str) -> dict[str, Any] | None:
    """The stream, strongly consistent (delivery must see the wake it was sent with)."""
    with unavailable_after_retries():
        answer = dynamodb_client().get_item(TableName=table_name, Key=_key(org_id, stream_id), ConsistentRead=True)
    item = answer.get("Item")
    return from_dynamodb(item) if item else None


def of_org(table_name: str, org_id: str) -> list[dict[str, Any]]:
    """The organisation's streams, newest first (at most MAX_STREAMS: one page)."""
    with unavailable_after_retries():
        answer = dynamodb_client().query(
            TableName=table_name,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": streams_pk(org_id)}, ":s": {"S": "str_"}},
            ScanIndexForward=False,
            ConsistentRead=True,
        )
    return [from_dynamodb(item) for item in answer["Items"]]


def update(
    table_name: str,
    org_id: str,
    stream_id: str,
    *,
    set_: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    condition: str,
    values: dict[str, Any] | None = None,
    returning: bool = False,
) -> dict[str, Any] | None:
    """One conditional UpdateItem: None if the condition failed (or the stream is gone),
    else the item after it (with `returning`) or {}. `set_` names become placeholders
    `#a_<name>` / `:new_<name>`; `condition` may use the `#a_` names and `values`."""
    names = {f"#a_{name}": name for name in (*(set_ or {}), *remove)}
    expression = ""
    if set_:
        expression += "SET " + ", ".join(f"#a_{name} = :new_{name}" for name in set_)
    if remove:
        expression += " REMOVE " + ", ".join(f"#a_{name}" for name in remove)
    all_values = {**{f":new_{name}": value for name, value in (set_ or {}).items()}, **(values or {})}
    for placeholder in ("#a_state", "#a_position", "#a_wake", "#a_wanted", "#a_lease_until", "#a_lease_id"):
        if placeholder in condition:
            names[placeholder] = placeholder[3:]
    request: dict[str, Any] = {
        "TableName": table_name,
        "Key": _key(org_id, stream_id),
        "UpdateExpression": expression.strip(),
        "ConditionExpression": f"attribute_exists(pk) AND ({condition})",
        "ExpressionAttributeNames": names,
        "ReturnValues": "ALL_NEW" if returning else "NONE",
    }
    if all_values:
        request["ExpressionAttributeValues"] = to_dynamodb(all_values)
    client = dynamodb_client()
    try:
        with unavailable_after_retries():
            answer = client.update_item(**request)
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return from_dynamodb(answer.get("Attributes", {})) if returning else {}


@dataclass(frozen=True)
class Woken:
    """A delivery message to send: the stream, and the wake id it runs under."""

    org_id: str
    stream_id: str
    wake: str


def raise_wanted(table_name: str, org_id: str, stream_id: str, size: int) -> None:
    """Note that the ledger has reached `size` (never lowering what is noted)."""
    update(
        table_name,
        org_id,
        stream_id,
        set_={"wanted": size},
        condition="attribute_not_exists(#a_wanted) OR #a_wanted < :size",
        values={":size": size},
    )


def take_wake(table_name: str, org_id: str, stream_id: str, size: int, now: int, stale_before: int) -> Woken | None:
    """Make a delivery due if none is and the stream is behind `size`, or take over a
    wake nobody has touched since `stale_before` (its message was lost)."""
    wake = new_wake_id()
    taken = update(
        table_name,
        org_id,
        stream_id,
        set_={"wake": wake, "wake_at": now},
        condition="#a_state <> :paused AND #a_position < :size AND (attribute_not_exists(#a_wake) OR wake_at < :stale)",
        values={":paused": "paused", ":size": size, ":stale": stale_before},
    )
    return None if taken is None else Woken(org_id, stream_id, wake)
