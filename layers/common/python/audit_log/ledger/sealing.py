"""Appending recorded events to their organisation's tree: exactly one leaf per event.

Sequencing is a conditional put (`storage.claim`): a sealer reads the tree's end, builds
the segment that starts there and puts it only if that start is still free. Of two
sealers at one end, one wins; the other re-reads and appends after it, so the tree never
forks and no lock can be left held.

Duplicates are ruled out by looking before appending, with reads that grow with the
batch, not with the ledger: an event with a leaf lookup is sealed; an event that begins
a segment has that segment's marker, written with the claim itself. A batch retried after
an attempt that claimed a segment and died before writing its lookups still holds that
segment's first event (Lambda retries a stream batch from the first record reported, or
whole), so the marker leads to the segment and its lookups are written instead of its
events being appended again. One event can begin only one segment: two sealers handed
the same batch collide on the marker, and the loser finds the winner's segment.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audit_log.errors import WriteContention
from audit_log.ledger import storage, tiles
from audit_log.ledger.entries import event_leaf_hash
from audit_log.ledger.hashing import HASH_SIZE
from audit_log.timestamps import format_utc_ms

# Each lost claim means another sealer appended; sealing keeps going behind it.
MAX_LOST_CLAIMS = 20
_writers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ledger-lookups")


@dataclass(frozen=True)
class Sealable:
    """A recorded event as the sealer needs it."""

    event_key: str  # its sort key in the events table (occurred_at#event_id)
    event_id: str
    recorded_at: str
    leaf: bytes


def sealable(item: dict[str, Any], served: dict[str, Any]) -> Sealable:
    """`item` as stored, `served` as `GET /events` shows it (what the leaf hashes)."""
    return Sealable(item["sk"], item["event_id"], item["recorded_at"], event_leaf_hash(served))


@dataclass
class Sealed:
    org_id: str
    tree_size: int = 0
    appended: int = 0  # new leaves this call added
    leaves: dict[str, int] = field(default_factory=dict)  # event id → leaf index
    lost_claims: int = 0


def seal(table_name: str, org_id: str, events: Sequence[Sealable], now: Callable[[], datetime]) -> Sealed:
    """Give every event of `events` (one organisation's, in stream order) its one leaf."""
    pending = list({event.event_key: event for event in events}.values())  # a batch may repeat a record
    result = Sealed(org_id)
    if not pending:
        return result
    read_tile = storage.tile_reader(table_name, org_id)
    size = storage.tree_size(table_name, org_id)
    pending = _not_yet_sealed(table_name, org_id, pending, result)
    while pending:
        take = pending[: tiles.TILE_WIDTH - size % tiles.TILE_WIDTH]  # a segment stays inside its tile
        segment, nodes = _append(size, take, read_tile, format_utc_ms(now()))
        try:
            storage.claim(table_name, org_id, segment, nodes)
        except storage.ClaimLost:
            result.lost_claims += 1
            if result.lost_claims > MAX_LOST_CLAIMS:
                raise WriteContention(f"{result.lost_claims} appends lost to other sealers") from None
            size = storage.tree_size(table_name, org_id)
            pending = _not_yet_sealed(table_name, org_id, pending, result)
            continue
        placed = [(event.event_id, size + offset) for offset, event in enumerate(take)]
        _write_lookups(table_name, org_id, placed)
        result.leaves.update(placed)
        result.appended += len(take)
        size = result.tree_size = segment.end
        pending = pending[len(take) :]
    result.tree_size = max(size, result.tree_size)
    return result


def _not_yet_sealed(table_name: str, org_id: str, pending: list[Sealable], result: Sealed) -> list[Sealable]:
    """`pending` without the events already in the tree; for those, the lookups a dead
    sealer left unwritten are written now (for every event of its segment)."""
    known = storage.leaf_indexes(table_name, org_id, [event.event_id for event in pending])
    for start in set(storage.segment_starts(table_name, org_id, [event.event_key for event in pending]).values()):
        segment = storage.segment_at(table_name, org_id, start)
        # A sort key ends with its event's id (occurred_at#event_id).
        repaired = [(key.rsplit("#", 1)[1], start + offset) for offset, key in enumerate(segment.event_keys)]
        _write_lookups(table_name, org_id, [(event_id, index) for event_id, index in repaired if event_id not in known])
        known.update(repaired)
        result.tree_size = max(result.tree_size, segment.end)
    result.leaves.update((event.event_id, known[event.event_id]) for event in pending if event.event_id in known)
    return [event for event in pending if event.event_id not in known]


def _append(
    size: int, events: Sequence[Sealable], read_tile: tiles.TileReader, sealed_at: str
) -> tuple[storage.LeafSegment, list[tuple[int, int, bytes]]]:
    """The leaf segment for `events` at `size`, and the nodes above it that it completes."""
    segments = tiles.append(size, [event.leaf for event in events], read_tile)
    leaves, above = segments[0], segments[1:]
    segment = storage.LeafSegment(
        start=size, hashes=leaves.hashes, event_keys=tuple(event.event_key for event in events), sealed_at=sealed_at
    )
    nodes = [
        (
            upper.level,
            upper.index * tiles.TILE_WIDTH + upper.start + offset,
            upper.hashes[offset * HASH_SIZE :][:HASH_SIZE],
        )
        for upper in above
        for offset in range(len(upper.hashes) // HASH_SIZE)
    ]
    return segment, nodes


def _write_lookups(table_name: str, org_id: str, placed: Sequence[tuple[str, int]]) -> None:
    """The event → leaf lookups, written in parallel (one conditional put each: they are
    the proofs' index, and must never be rewritten to another leaf)."""
    futures = [_writers.submit(storage.put_lookup, table_name, org_id, event_id, index) for event_id, index in placed]
    for future in futures:
        future.result()
