"""All DynamoDB access of the ledger table: every item is written once, with a condition,
and never changed; nothing here updates or deletes.

Items (pk, sk; `<org>` is an organisation id, which never holds `#`):

- Leaf segments: `org#<org>#leaves`, sk = the first leaf index, 20 digits. A run of
  consecutive leaves inside one level-0 tile: their hashes (`hashes`, concatenated),
  the events' sort keys in the events table (`events`), and when it was sealed
  (`sealed_at`). Putting the segment that starts at the tree's current size is the
  claim that sequences leaves: of two sealers appending at one size, the condition lets
  exactly one win; the other re-reads the end and appends after it. The newest segment
  (a reverse Query of one item) tells the tree size.
- Segment markers: `org#<org>#first#<event sort key>`, sk `segment`: the start of the
  segment that event begins, written in the claim's transaction. A sealer retrying a
  batch finds through them any segment an earlier attempt claimed but did not finish
  (its lookups unwritten), and an event can begin only one segment.
- Nodes above the leaves: `org#<org>#nodes#<tile level>`, sk = node index, 20 digits:
  one hash of the row at tree level 8·L (tile level L ≥ 1, C2SP tlog-tiles), written in
  the same transaction as the segment that completes its subtree, so no claim exists
  without the nodes it implies.
- Leaf lookups: `org#<org>#event#<event_id>`, sk `leaf`: the event's leaf index, for
  inclusion proofs by event id and for telling sealed events from new ones. Written
  after the claim; a sealer that died in between leaves them to the next attempt, which
  finds the segment by its marker.
- Checkpoints: `org#<org>#checkpoints`, sk = tree size, 20 digits: the signed note, its
  fields, and the compact range of that size (the roots of the perfect subtrees that
  make up the tree, left to right), from which any proof against it takes its right edge
  without reading the tiles there. One checkpoint per size, ever.
"""

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from audit_log.errors import StoreUnavailable
from audit_log.events_table import dynamodb_client, from_dynamodb, get_items, to_dynamodb, unavailable_after_retries
from audit_log.ledger.hashing import HASH_SIZE
from audit_log.ledger.tiles import TILE_WIDTH, TileReader

_NEW = "attribute_not_exists(pk)"
_DIGITS = 20  # every uint64 fits


class ClaimLost(Exception):
    """Another sealer appended at this tree size first; re-read the end and retry."""


class LedgerCorrupted(RuntimeError):
    """Stored ledger items contradict each other (a hash written twice differently, a
    gap in a tile): never papered over, always loud."""


def _number(value: int) -> str:
    return f"{value:0{_DIGITS}d}"


def leaves_pk(org_id: str) -> str:
    return f"org#{org_id}#leaves"


def nodes_pk(org_id: str, tile_level: int) -> str:
    return f"org#{org_id}#nodes#{tile_level}"


def lookup_key(org_id: str, event_id: str) -> dict[str, str]:
    return {"pk": f"org#{org_id}#event#{event_id}", "sk": "leaf"}


def marker_key(org_id: str, event_key: str) -> dict[str, str]:
    return {"pk": f"org#{org_id}#first#{event_key}", "sk": "segment"}


def checkpoints_pk(org_id: str) -> str:
    return f"org#{org_id}#checkpoints"


@dataclass(frozen=True)
class LeafSegment:
    start: int
    hashes: bytes
    event_keys: tuple[str, ...]  # the events' sort keys, one per leaf
    sealed_at: str

    @property
    def end(self) -> int:
        return self.start + len(self.hashes) // HASH_SIZE


def _segment(item: dict[str, Any]) -> LeafSegment:
    return LeafSegment(
        start=int(item["sk"]),
        hashes=bytes(item["hashes"]),
        event_keys=tuple(item["events"]),
        sealed_at=item["sealed_at"],
    )


def _query(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a Query matches, page after page (DynamoDB stops each at 1 MB)."""
    while True:
        with unavailable_after_retries():
            answer = dynamodb_client().query(**request)
        yield from (from_dynamodb(item) for item in answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


def tree_size(table_name: str, org_id: str) -> int:
    """The tree's size: where its newest segment ends (a strongly consistent read)."""
    with unavailable_after_retries():
        answer = dynamodb_client().query(
            TableName=table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": leaves_pk(org_id)}},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
    return _segment(from_dynamodb(answer["Items"][0])).end if answer["Items"] else 0


def leaf_events(table_name: str, org_id: str, start: int, end: int) -> list[tuple[int, str]]:
    """(leaf index, the event's sort key) of every leaf in [start, end), in order. A
    segment lies inside one level-0 tile, so the one holding `start` begins at or after
    the start of `start`'s tile: one Query (paged) from there."""
    if end <= start:
        return []
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": {"S": leaves_pk(org_id)},
            ":first": {"S": _number(start - start % TILE_WIDTH)},
            ":last": {"S": _number(end - 1)},
        },
        "ConsistentRead": True,
    }
    found: list[tuple[int, str]] = []
    for item in _query(request):
        segment = _segment(item)
        for offset, event_key in enumerate(segment.event_keys):
            if start <= segment.start + offset < end:
                found.append((segment.start + offset, event_key))
    return found


def segment_at(table_name: str, org_id: str, start: int) -> LeafSegment:
    key = {"pk": leaves_pk(org_id), "sk": _number(start)}
    with unavailable_after_retries():
        answer = dynamodb_client().get_item(TableName=table_name, Key=to_dynamodb(key), ConsistentRead=True)
    if "Item" not in answer:
        raise LedgerCorrupted(f"a marker names the segment at {start}, which is not stored")
    return _segment(from_dynamodb(answer["Item"]))


def leaf_indexes(table_name: str, org_id: str, event_ids: Sequence[str]) -> dict[str, int]:
    """The leaf of each of `event_ids` that has a lookup (strongly consistent)."""
    keys = [lookup_key(org_id, event_id) for event_id in event_ids]
    found = get_items(table_name, keys, consistent=True)
    prefix = len(f"org#{org_id}#event#")
    return {pk[prefix:]: int(item["leaf_index"]) for (pk, _), item in found.items()}


def segment_starts(table_name: str, org_id: str, event_keys: Sequence[str]) -> dict[str, int]:
    """For each of `event_keys` that begins a segment, that segment's start."""
    keys = [marker_key(org_id, event_key) for event_key in event_keys]
    found = get_items(table_name, keys, consistent=True)
    prefix = len(f"org#{org_id}#first#")
    return {pk[prefix:]: int(item["start"]) for (pk, _), item in found.items()}


def read_tile(table_name: str, org_id: str, tile_level: int, index: int, width: int) -> bytes:
    """The first `width` hashes of tile (level, index), concatenated; fewer only if fewer
    are stored (the caller refuses a short tile). One Query."""
    if width <= 0:
        return b""
    first, last = index * TILE_WIDTH, index * TILE_WIDTH + width - 1
    pk = leaves_pk(org_id) if tile_level == 0 else nodes_pk(org_id, tile_level)
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": {"S": pk},
            ":first": {"S": _number(first)},
            ":last": {"S": _number(last)},
        },
        "ConsistentRead": True,
    }
    data, expected = bytearray(), first
    for item in _query(request):
        if int(item["sk"]) != expected:
            raise LedgerCorrupted(f"tile {tile_level}/{index} has a gap at {expected}")
        chunk = bytes(item["hashes"]) if tile_level == 0 else bytes(item["hash"])
        data += chunk
        expected += len(chunk) // HASH_SIZE
    return bytes(data[: width * HASH_SIZE])


def tile_reader(table_name: str, org_id: str) -> TileReader:
    """`read_tile` for one organisation's tree, as `tiles` wants it."""

    def read(level: int, index: int, width: int) -> bytes:
        return read_tile(table_name, org_id, level, index, width)

    return read


def claim(
    table_name: str,
    org_id: str,
    segment: LeafSegment,
    nodes: Sequence[tuple[int, int, bytes]],
) -> None:
    """Append `segment` at its start, with its first-event marker and the (tile level,
    node index, hash) nodes it completes: all of it or nothing, in one transaction.
    ClaimLost if the start (or the marker: the same event appended by someone else) is
    taken. botocore's retry of a transaction whose answer was lost is made idempotent by
    its request token."""
    item = {
        "pk": leaves_pk(org_id),
        "sk": _number(segment.start),
        "hashes": segment.hashes,
        "events": list(segment.event_keys),
        "sealed_at": segment.sealed_at,
    }
    marker: dict[str, Any] = {**marker_key(org_id, segment.event_keys[0]), "start": segment.start}
    nodes_items: list[dict[str, Any]] = [
        {"pk": nodes_pk(org_id, level), "sk": _number(index), "hash": value} for level, index, value in nodes
    ]
    request = [
        {"Put": {"TableName": table_name, "Item": to_dynamodb(put), "ConditionExpression": _NEW}}
        for put in (item, marker, *nodes_items)
    ]
    token = hashlib.sha256(f"{org_id}#{segment.start}#".encode() + segment.hashes).hexdigest()[:36]
    try:
        with unavailable_after_retries():
            dynamodb_client().transact_write_items(TransactItems=request, ClientRequestToken=token)  # type: ignore[arg-type]
    except dynamodb_client().exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            raise ClaimLost(segment.start) from exc
        raise StoreUnavailable(str([reason.get("Code") for reason in reasons])) from exc


def _put_new(table_name: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """Put `item` unless its key is taken: None when stored (or already stored exactly
    so), else the item that holds the key."""
    try:
        with unavailable_after_retries():
            dynamodb_client().put_item(
                TableName=table_name,
                Item=to_dynamodb(item),
                ConditionExpression=_NEW,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except dynamodb_client().exceptions.ConditionalCheckFailedException as exc:
        found: Any = exc.response.get("Item") or {}
        stored = from_dynamodb(found)
        return None if stored == item else stored
    return None


def put_lookup(table_name: str, org_id: str, event_id: str, leaf_index: int) -> None:
    """Record that `event_id` is leaf `leaf_index`; LedgerCorrupted if it was recorded at
    another leaf (an event sealed twice)."""
    item = {**lookup_key(org_id, event_id), "leaf_index": leaf_index}
    stored = _put_new(table_name, item)
    if stored is not None:
        raise LedgerCorrupted(f"event {event_id} is leaf {stored.get('leaf_index')} and {leaf_index}")


def leaf_index_of(table_name: str, org_id: str, event_id: str) -> int | None:
    with unavailable_after_retries():
        answer = dynamodb_client().get_item(TableName=table_name, Key=to_dynamodb(lookup_key(org_id, event_id)))
    item = answer.get("Item")
    return int(from_dynamodb(item)["leaf_index"]) if item else None


def segments_between(table_name: str, org_id: str, start: int, end: int) -> Iterator[LeafSegment]:
    """The leaf segments holding leaves [start, end), in leaf order (the first may begin
    before `start`: a segment never crosses a tile boundary, so it begins at most 255
    leaves earlier)."""
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": {"S": leaves_pk(org_id)},
            ":first": {"S": _number(max(0, start - TILE_WIDTH + 1))},
            ":last": {"S": _number(max(0, end - 1))},
        },
    }
    for segment in (_segment(item) for item in _query(request)):
        if segment.end > start:
            yield segment


# --- checkpoints -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCheckpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    body: str
    signature: bytes
    compact_range: bytes  # concatenated hashes, left to right


def _checkpoint(item: dict[str, Any]) -> StoredCheckpoint:
    return StoredCheckpoint(
        origin=item["origin"],
        tree_size=int(item["sk"]),
        root_hash=bytes(item["root_hash"]),
        timestamp=item["timestamp"],
        key_id=item["key_id"],
        body=item["body"],
        signature=bytes(item["signature"]),
        compact_range=bytes(item["compact_range"]) if item.get("compact_range") else b"",
    )


def put_checkpoint(table_name: str, org_id: str, checkpoint: StoredCheckpoint) -> StoredCheckpoint:
    """Publish `checkpoint` unless its size already has one: the checkpoint of that size
    as published (ours, or the one another sealer published first, for the same tree)."""
    item = {
        "pk": checkpoints_pk(org_id),
        "sk": _number(checkpoint.tree_size),
        "origin": checkpoint.origin,
        "root_hash": checkpoint.root_hash,
        "timestamp": checkpoint.timestamp,
        "key_id": checkpoint.key_id,
        "body": checkpoint.body,
        "signature": checkpoint.signature,
        "compact_range": checkpoint.compact_range,
    }
    stored = _put_new(table_name, item)
    if stored is None:
        return checkpoint
    published = _checkpoint(stored)
    if published.root_hash != checkpoint.root_hash:
        raise LedgerCorrupted(f"two roots for tree size {checkpoint.tree_size}")
    return published


def checkpoints_newest_first(
    table_name: str, org_id: str, *, below: int | None = None, limit: int | None = None
) -> list[StoredCheckpoint]:
    """Published checkpoints, newest (largest) first, of sizes below `below` if given."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk" + (" AND sk < :below" if below is not None else ""),
        "ExpressionAttributeValues": {":pk": {"S": checkpoints_pk(org_id)}},
        "ScanIndexForward": False,
    }
    if below is not None:
        request["ExpressionAttributeValues"][":below"] = {"S": _number(below)}
    if limit is not None:
        request["Limit"] = limit
    found: list[StoredCheckpoint] = []
    for item in _query(request):
        found.append(_checkpoint(item))
        if limit is not None and len(found) >= limit:
            break
    return found


def latest_checkpoint(table_name: str, org_id: str) -> StoredCheckpoint | None:
    found = checkpoints_newest_first(table_name, org_id, limit=1)
    return found[0] if found else None


def checkpoint_of_size(table_name: str, org_id: str, tree_size: int) -> StoredCheckpoint | None:
    key = {"pk": checkpoints_pk(org_id), "sk": _number(tree_size)}
    with unavailable_after_retries():
        answer = dynamodb_client().get_item(TableName=table_name, Key=to_dynamodb(key))
    item = answer.get("Item")
    return _checkpoint(from_dynamodb(item)) if item else None


def first_checkpoint_from(table_name: str, org_id: str, tree_size: int) -> StoredCheckpoint | None:
    """The smallest published checkpoint of at least `tree_size` leaves: the one an
    export of leaves below that size is proven against (the fewest leaves it misses)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND sk >= :size",
        "ExpressionAttributeValues": {":pk": {"S": checkpoints_pk(org_id)}, ":size": {"S": _number(tree_size)}},
        "Limit": 1,
    }
    with unavailable_after_retries():
        answer = dynamodb_client().query(**request)
    items = answer["Items"]
    return _checkpoint(from_dynamodb(items[0])) if items else None
