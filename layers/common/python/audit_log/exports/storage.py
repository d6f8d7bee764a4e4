"""All DynamoDB access of the exports table.

One item per export: pk = `org#<org_id>`, sk = the export id (`exp_` + a ULID, so the
organisation's exports sort by creation and a reverse Query lists them newest first).
Besides what the routes show (state, filters, counts, who asked), the item holds where
the worker is: `step` (the number of the work message that may run next), `after` (the
sort key of the last event written), `part` (the next multipart part number),
`upload_id`, `leaf_max` (the largest leaf index written, for the proof) and a lease.

Every change is a conditional update on the step (and the lease), so a redelivered or
duplicated work message can neither run a step twice at once nor move an export back.
"""

from dataclasses import dataclass
from typing import Any

from ulid import ULID

from audit_log.events_table import dynamodb_client, from_dynamodb, to_dynamodb, unavailable_after_retries

ACTIVE_STATES = ("queued", "running")


def new_export_id() -> str:
    return f"exp_{ULID()}"


def exports_pk(org_id: str) -> str:
    return f"org#{org_id}"


def _key(org_id: str, export_id: str) -> dict[str, Any]:
    return to_dynamodb({"pk": exports_pk(org_id), "sk": export_id})


def put_new(table_name: str, item: dict[str, Any]) -> None:
    with unavailable_after_retries():
        dynamodb_client().put_item(
            TableName=table_name, Item=to_dynamodb(item), ConditionExpression="attribute_not_exists(pk)"
        )


def get(table_name: str, org_id: str, export_id: str) -> dict[str, Any] | None:
    """The export, strongly consistent (the worker must see the step it claims)."""
    with unavailable_after_retries():
        answer = dynamodb_client().get_item(TableName=table_name, Key=_key(org_id, export_id), ConsistentRead=True)
    item = answer.get("Item")
    return from_dynamodb(item) if item else None


@dataclass(frozen=True)
class ExportsSlice:
    items: list[dict[str, Any]]
    last_key: str | None  # the sk to go on after, when there may be more


def newest_first(table_name: str, org_id: str, after: str | None, limit: int) -> ExportsSlice:
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": exports_pk(org_id)}},
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if after is not None:
        request["ExclusiveStartKey"] = _key(org_id, after)
    with unavailable_after_retries():
        answer = dynamodb_client().query(**request)
    items = [from_dynamodb(item) for item in answer["Items"]]
    more = len(items) > limit
    items = items[:limit]
    return ExportsSlice(items, items[-1]["sk"] if more and items else None)


def update(
    table_name: str,
    org_id: str,
    export_id: str,
    *,
    set_: dict[str, Any],
    remove: tuple[str, ...] = (),
    condition: str,
    values: dict[str, Any],
) -> bool:
    """SET `set_` (and REMOVE `remove`) if `condition` holds; False if it did not.
    `condition` names attributes as `#<name>` and its own `values` as `:<name>`."""
    names = {f"#{name}": name for name in set_} | {f"#{name}": name for name in remove}
    names |= {"#state": "state", "#step": "step", "#lease_id": "lease_id", "#lease_until": "lease_until"}
    expression = "SET " + ", ".join(f"#{name} = :new_{name}" for name in set_)
    if remove:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in remove)
    attribute_values = to_dynamodb({f":new_{name}": value for name, value in set_.items()} | values)
    used = {name for name in names if name in expression or name in condition}
    try:
        with unavailable_after_retries():
            dynamodb_client().update_item(
                TableName=table_name,
                Key=_key(org_id, export_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={name: names[name] for name in used},
                ExpressionAttributeValues=attribute_values,
            )
    except dynamodb_client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def claim(table_name: str, org_id: str, export_id: str, step: int, lease_id: str, now: int, until: int) -> bool:
    """Take step `step` of an active export for this invocation until `until` (epoch s),
    unless another invocation holds it (a live lease) or the export has moved on."""
    return update(
        table_name,
        org_id,
        export_id,
        set_={"state": "running", "lease_id": lease_id, "lease_until": until},
        condition="#step = :step AND #state IN (:queued, :running) "
        "AND (attribute_not_exists(#lease_until) OR #lease_until < :now)",
        values={":step": step, ":queued": "queued", ":running": "running", ":now": now},
    )


def advance(table_name: str, org_id: str, export_id: str, step: int, lease_id: str, changes: dict[str, Any]) -> bool:
    """Record a finished step (and release the lease): the next message is step + 1."""
    return update(
        table_name,
        org_id,
        export_id,
        set_={**changes, "step": step + 1},
        remove=("lease_id", "lease_until"),
        condition="#step = :step AND #lease_id = :lease",
        values={":step": step, ":lease": lease_id},
    )


def fail(table_name: str, org_id: str, export_id: str, reason: str, completed_at: str) -> bool:
    """Mark an active export failed (never one that succeeded)."""
    return update(
        table_name,
        org_id,
        export_id,
        set_={"state": "failed", "error": reason, "completed_at": completed_at},
        remove=("lease_id", "lease_until"),
        condition="#state IN (:queued, :running)",
        values={":queued": "queued", ":running": "running"},
    )
