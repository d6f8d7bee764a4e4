"""Every read and write of the investigation table, and its key encoding.

The table holds what is derived from the log, never the log itself: it may be updated
and rebuilt, so it lives apart from the events table, whose items are written once.

Items (`pk`, `sk`):

- an actor: `org#<org>#actors`, `<actor id>`; the name, email and type of its most
  recent event (`newest` = that event's sort key), `last_seen`, and its match `terms`.
  `recency_pk` (= the pk) and `recency` (= `<last_seen>#<actor id>`) key the sparse
  index `by_recency`: an organisation's actors, most recently seen first.
- a term of an actor: `org#<org>#actor-terms`, `<term, 100 characters>\\t<actor id>`,
  with `stamp` = the `newest` it was written for, so an older update never undoes a
  newer one. A term may outlive a name change for a moment; every match is checked
  against the actor's current terms.
- an event type: `org#<org>#event-types`, `<event type>`, with `last_seen`.
- a first login: `org#<org>#first-logins`, `<ip_address|user_agent>\\t<actor id>\\t<digest of
  the value>`, `first` = the sort key of the earliest `user.login` with that value.
- an event's signals: `org#<org>#signals`, `<event sort key>`, `signals` (a string set).
- a copy of an event under each of its targets: `org#<org>#target#<len(type)>#<type>#<id>`,
  `<event sort key>`, the event's attributes as stored (no index keys). One Query on
  that partition is a page of the resource's history, in the log's own order.

Items derived from an event carry its `expires_at`, so retention removes them with it.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from audit_log.events_table import (
    Partition,
    dynamodb_client,
    from_dynamodb,
    get_items,
    to_dynamodb,
    unavailable_after_retries,
)

RECENCY_INDEX = "by_recency"
SIGNAL_ORDER = ("new_ip", "new_user_agent")
# BatchWriteItem takes at most 25 requests a call.
_BATCH_WRITE = 25


def actors_pk(org_id: str) -> str:
    return f"org#{org_id}#actors"


def terms_pk(org_id: str) -> str:
    return f"org#{org_id}#actor-terms"


def types_pk(org_id: str) -> str:
    return f"org#{org_id}#event-types"


def first_logins_pk(org_id: str) -> str:
    return f"org#{org_id}#first-logins"


def signals_pk(org_id: str) -> str:
    return f"org#{org_id}#signals"


def target_pk(org_id: str, target_type: str, target_id: str) -> str:
    """The type's length first: types and ids are free text, so `a#b`/`c` and `a`/`b#c`
    must not share a partition."""
    return f"org#{org_id}#target#{len(target_type)}#{target_type}#{target_id}"


def recency(last_seen: str, actor_id: str) -> str:
    return f"{last_seen}#{actor_id}"


def _conditional_failure() -> type[Exception]:
    return dynamodb_client().exceptions.ConditionalCheckFailedException


# --- what recording leads to (the stream's indexer) -----------------------------------


def advance_actor(
    table_name: str, org_id: str, actor: dict[str, Any], newest: str, last_seen: str, terms: list[str]
) -> tuple[bool, dict[str, Any] | None]:
    """Record that `actor` acted in the event at sort key `newest`, if no later event of
    it is recorded yet. (advanced, the item before): advanced is False when a later or
    this same event was already applied; the item before is then the stored one."""
    values = {
        ":id": actor["id"],
        ":name": actor.get("name"),
        ":email": actor.get("email"),
        ":type": actor.get("type", "user"),
        ":newest": newest,
        ":last_seen": last_seen,
        ":recency": recency(last_seen, actor["id"]),
        ":recency_pk": actors_pk(org_id),
        ":terms": terms,
    }
    try:
        with unavailable_after_retries():
            answer = dynamodb_client().update_item(
                TableName=table_name,
                Key=to_dynamodb({"pk": actors_pk(org_id), "sk": actor["id"]}),
                UpdateExpression="SET actor_id = :id, #name = :name, email = :email, #type = :type, newest = :newest, "
                "last_seen = :last_seen, recency = :recency, recency_pk = :recency_pk, terms = :terms",
                ConditionExpression="attribute_not_exists(newest) OR newest < :newest",
                ExpressionAttributeNames={"#name": "name", "#type": "type"},
                ExpressionAttributeValues=to_dynamodb(values),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except _conditional_failure() as exc:
        stored = exc.response.get("Item")  # type: ignore[attr-defined]
        return False, from_dynamodb(stored) if isinstance(stored, dict) else None
    old = answer.get("Attributes")
    return True, from_dynamodb(old) if old else None


def _term_key(org_id: str, term_key: str, actor_id: str) -> dict[str, str]:
    return {"pk": terms_pk(org_id), "sk": f"{term_key}\t{actor_id}"}


def put_terms(table_name: str, org_id: str, actor_id: str, term_keys: Iterable[str], stamp: str) -> None:
    for term_key in term_keys:
        item = {**_term_key(org_id, term_key, actor_id), "actor_id": actor_id, "term": term_key, "stamp": stamp}
        try:
            with unavailable_after_retries():
                dynamodb_client().put_item(
                    TableName=table_name,
                    Item=to_dynamodb(item),
                    ConditionExpression="attribute_not_exists(pk) OR stamp <= :stamp",
                    ExpressionAttributeValues=to_dynamodb({":stamp": stamp}),
                )
        except _conditional_failure():
            pass  # a later update of this actor wrote it


def remove_terms(table_name: str, org_id: str, actor_id: str, term_keys: Iterable[str], stamp: str) -> None:
    """Remove terms written for updates older than `stamp` (a newer one may have
    written the same term again: that one stays)."""
    for term_key in term_keys:
        try:
            with unavailable_after_retries():
                dynamodb_client().delete_item(
                    TableName=table_name,
                    Key=to_dynamodb(_term_key(org_id, term_key, actor_id)),
                    ConditionExpression="stamp < :stamp",
                    ExpressionAttributeValues=to_dynamodb({":stamp": stamp}),
                )
        except _conditional_failure():
            pass


def advance_event_type(table_name: str, org_id: str, event_type: str, last_seen: str) -> None:
    try:
        with unavailable_after_retries():
            dynamodb_client().update_item(
                TableName=table_name,
                Key=to_dynamodb({"pk": types_pk(org_id), "sk": event_type}),
                UpdateExpression="SET event_type = :type, last_seen = :last_seen",
                ConditionExpression="attribute_not_exists(last_seen) OR last_seen < :last_seen",
                ExpressionAttributeValues=to_dynamodb({":type": event_type, ":last_seen": last_seen}),
            )
    except _conditional_failure():
        pass  # a later event of this type is recorded already


def put_copies(table_name: str, items: Sequence[dict[str, Any]]) -> None:
    """Write items in DynamoDB's wire format, 25 a call (BatchWriteItem), asking again
    for what DynamoDB left unprocessed. A copy written twice is the same item."""
    unique = list({(item["pk"]["S"], item["sk"]["S"]): item for item in items}.values())
    for first in range(0, len(unique), _BATCH_WRITE):
        request: dict[str, Any] = {
            table_name: [{"PutRequest": {"Item": item}} for item in unique[first : first + _BATCH_WRITE]]
        }
        while request:
            with unavailable_after_retries():
                answer = dynamodb_client().batch_write_item(RequestItems=request)
            request = answer.get("UnprocessedItems") or {}


@dataclass(frozen=True)
class FirstLogin:
    """Whether an event is its actor's first login with a value, and which earlier
    claimant (a login recorded before it but occurring after it) it displaced."""

    first: bool
    displaced: str | None = None


def first_login_key(org_id: str, kind: str, actor_id: str, value: str) -> dict[str, str]:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return {"pk": first_logins_pk(org_id), "sk": f"{kind}\t{actor_id}\t{digest}"}


def first_logins(table_name: str, keys: Sequence[dict[str, str]]) -> dict[str, str]:
    """The first login held at each of `keys` that has one: sk -> the event's sort key
    (one BatchGetItem per 100 keys: reading is cheaper than a conditional write that
    mostly fails)."""
    return {sk: str(item["first"]) for (_, sk), item in get_items(table_name, keys).items() if "first" in item}


def claim_first_login(table_name: str, key: dict[str, str], event_sort_key: str) -> FirstLogin:
    """Make `event_sort_key` the first login at `key` (an actor with one IP address or
    user agent) unless an earlier-occurring one holds it. Applying it again finds itself
    holding it: first, displacing nothing."""
    try:
        with unavailable_after_retries():
            answer = dynamodb_client().update_item(
                TableName=table_name,
                Key=to_dynamodb(key),
                UpdateExpression="SET #first = :event",
                ConditionExpression="attribute_not_exists(#first) OR #first > :event",
                ExpressionAttributeNames={"#first": "first"},
                ExpressionAttributeValues=to_dynamodb({":event": event_sort_key}),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except _conditional_failure() as exc:
        stored = exc.response.get("Item") or {}  # type: ignore[attr-defined]
        holder = stored.get("first", {}).get("S")
        return FirstLogin(first=holder == event_sort_key)
    previous = (answer.get("Attributes") or {}).get("first", {}).get("S")
    return FirstLogin(first=True, displaced=previous)


def change_signal(
    table_name: str, org_id: str, event_sort_key: str, signal: str, *, add: bool, expires_at: int | None
) -> None:
    """Add a signal to an event, or take it away (set operations: doing either twice is
    doing it once)."""
    expression = ("ADD" if add else "DELETE") + " signals :signal"
    values: dict[str, Any] = {":signal": {signal}}
    if add and expires_at is not None:
        expression += " SET expires_at = :expires"
        values[":expires"] = expires_at
    with unavailable_after_retries():
        dynamodb_client().update_item(
            TableName=table_name,
            Key=to_dynamodb({"pk": signals_pk(org_id), "sk": event_sort_key}),
            UpdateExpression=expression,
            ExpressionAttributeValues=to_dynamodb(values),
        )


# --- what the read routes ask ----------------------------------------------------------


def signals_of(table_name: str, org_id: str, sort_keys: Sequence[str]) -> dict[str, list[str]]:
    """The signals of the events at `sort_keys` that have any (one BatchGetItem per 100)."""
    if not sort_keys:
        return {}
    found = get_items(table_name, [{"pk": signals_pk(org_id), "sk": sort_key} for sort_key in sort_keys])
    signals: dict[str, list[str]] = {}
    for (_, sort_key), item in found.items():
        present = item.get("signals") or set()
        if present:
            signals[sort_key] = [name for name in SIGNAL_ORDER if name in present]
    return signals


def target_partition(
    org_id: str, target_type: str, target_id: str, event_type: str | None, actor_id: str | None
) -> Partition:
    return Partition(None, "pk", target_pk(org_id, target_type, target_id), event_type, actor_id)


def actors_at(table_name: str, org_id: str, actor_ids: Sequence[str]) -> list[dict[str, Any]]:
    found = get_items(table_name, [{"pk": actors_pk(org_id), "sk": actor_id} for actor_id in actor_ids])
    return list(found.values())


def term_candidates(table_name: str, org_id: str, prefix: str, cap: int) -> tuple[list[str], bool]:
    """Ids of actors with a term starting with `prefix`, reading at most `cap` term
    items; (ids, whether every such term was read)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_dynamodb({":p": terms_pk(org_id), ":prefix": prefix}),
        "ProjectionExpression": "actor_id, term",
    }
    ids: dict[str, None] = {}
    read = 0
    while True:
        with unavailable_after_retries():
            answer = dynamodb_client().query(**request, Limit=cap + 1 - read)
        for item in answer["Items"]:
            term = item["term"]["S"]
            if term.startswith(prefix):  # not a query running on into the separator
                ids[item["actor_id"]["S"]] = None
        read += answer["Count"]
        if read > cap:
            return list(ids), False
        if "LastEvaluatedKey" not in answer:
            return list(ids), True
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def actors_by_recency(
    table_name: str, org_id: str, before: str | None, count: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `count` actors, most recently seen first, after the one whose `recency` is
    `before`; (actors, whether the index has none after them)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": RECENCY_INDEX,
        "KeyConditionExpression": "recency_pk = :p",
        "ExpressionAttributeValues": to_dynamodb({":p": actors_pk(org_id)}),
        "ScanIndexForward": False,
    }
    if before is not None:
        request["ExclusiveStartKey"] = to_dynamodb(
            {
                "pk": actors_pk(org_id),
                "sk": before.split("#", 1)[1],
                "recency_pk": actors_pk(org_id),
                "recency": before,
            }
        )
    items: list[dict[str, Any]] = []
    while True:
        with unavailable_after_retries():
            answer = dynamodb_client().query(**request, Limit=count - len(items))
        items += [from_dynamodb(item) for item in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            return items, True
        if len(items) >= count:
            return items, False
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def event_types(table_name: str, org_id: str, cap: int) -> list[dict[str, Any]]:
    """The organisation's event types in name order, at most `cap`."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": to_dynamodb({":p": types_pk(org_id)}),
    }
    items: list[dict[str, Any]] = []
    while len(items) < cap:
        with unavailable_after_retries():
            answer = dynamodb_client().query(**request, Limit=cap - len(items))
        items += [from_dynamodb(item) for item in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return items
