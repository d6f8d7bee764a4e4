"""What the ledger's read routes answer: checkpoints, proofs and entries of one
organisation, always against a published checkpoint, so whatever the API shows can be
checked against a signature.

A proof reads the tiles along its own path only: the right edge of the tree comes from
the checkpoint's compact range. At 10^6 leaves that is 3 tile reads per inclusion proof.
"""

import base64
from collections.abc import Callable
from datetime import datetime, timedelta

from audit_log import events_table
from audit_log.errors import EventNotFound, InvalidParameter, NotYetInCheckpoint
from audit_log.ledger import hashing, publishing, storage, tiles
from audit_log.models.events import EventOut
from audit_log.models.ledger import CheckpointOut, ConsistencyOut, EntriesPage, EntryOut, InclusionProofOut
from audit_log.querying import with_signals
from audit_log.response_size import ENVELOPE_BYTES, MAX_LAMBDA_RESPONSE_BYTES, payload_bytes
from audit_log.timestamps import format_utc_ms

# How far around an unsealed event's id time (a ULID's) its occurred_at is looked for:
# events are recorded at most 5 minutes ahead of their occurred_at's future limit, and
# platform backends report events as they happen.
_RECENT_WINDOW = timedelta(hours=1)
# How long sealing usually takes: the Retry-After of a 409.
RETRY_AFTER_SECONDS = 5


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoint_out(checkpoint: storage.StoredCheckpoint) -> CheckpointOut:
    return CheckpointOut.model_validate(publishing.as_served(checkpoint))


def latest(
    ledger_table: str, org_id: str, ledger_origin: str, key: publishing.Signer, now: Callable[[], datetime]
) -> storage.StoredCheckpoint:
    """The latest published checkpoint; for an organisation with none yet, a freshly
    signed checkpoint of the empty tree."""
    found = storage.latest_checkpoint(ledger_table, org_id)
    return found if found is not None else publishing.empty_checkpoint(ledger_origin, org_id, key, now())


def _hashes(ledger_table: str, org_id: str, checkpoint: storage.StoredCheckpoint) -> tiles.TileHashes:
    return tiles.TileHashes(
        checkpoint.tree_size, storage.tile_reader(ledger_table, org_id), publishing.known_hashes(checkpoint)
    )


def inclusion_proof(
    *,
    ledger_table: str,
    events_table_name: str,
    org_id: str,
    event_id: str,
    tree_size: int | None,
    event_time: datetime | None,
) -> InclusionProofOut:
    """The proof that `event_id` is in the checkpoint of `tree_size` (default: the
    latest). `event_time` is when the id says the event was recorded (a ULID's time)."""
    if tree_size is not None:
        checkpoint = storage.checkpoint_of_size(ledger_table, org_id, tree_size)
        if checkpoint is None:
            raise InvalidParameter("tree_size", "is not the size of a published checkpoint")
    else:
        checkpoint = storage.latest_checkpoint(ledger_table, org_id)
    index = storage.leaf_index_of(ledger_table, org_id, event_id)
    if index is None:
        if event_time is not None and events_table.find_recent_event(
            events_table_name,
            org_id,
            event_id,
            format_utc_ms(event_time - _RECENT_WINDOW),
            format_utc_ms(event_time + _RECENT_WINDOW),
        ):
            raise NotYetInCheckpoint(RETRY_AFTER_SECONDS)
        raise EventNotFound(event_id)
    if checkpoint is None or index >= checkpoint.tree_size:
        if tree_size is not None:
            raise InvalidParameter("tree_size", f"is a checkpoint from before this event (leaf {index}) was sealed")
        raise NotYetInCheckpoint(RETRY_AFTER_SECONDS)
    hashes = _hashes(ledger_table, org_id, checkpoint)
    path = hashing.inclusion_path(index, checkpoint.tree_size, hashes)
    return InclusionProofOut(
        event_id=event_id,
        leaf_index=index,
        tree_size=checkpoint.tree_size,
        leaf_hash=_b64(hashes(0, index)),
        inclusion_path=[_b64(node) for node in path],
        checkpoint=checkpoint_out(checkpoint),
    )


def consistency(ledger_table: str, org_id: str, old_size: int, new_size: int) -> ConsistencyOut:
    """The RFC 9162 proof that the tree of `new_size` extends the tree of `old_size`."""
    checkpoint = storage.latest_checkpoint(ledger_table, org_id)
    latest_size = checkpoint.tree_size if checkpoint is not None else 0
    if not 0 <= old_size <= new_size <= latest_size:
        raise InvalidParameter("from", f"0 <= from <= to <= {latest_size}, the latest published tree size")
    known = publishing.known_hashes(checkpoint) if checkpoint is not None and new_size == latest_size else {}
    hashes = tiles.TileHashes(new_size, storage.tile_reader(ledger_table, org_id), known)
    proof = hashing.consistency_proof(old_size, new_size, hashes)
    return ConsistencyOut(from_=old_size, to=new_size, proof=[_b64(node) for node in proof])


def entries(
    *, ledger_table: str, events_table_name: str, investigation_table: str, org_id: str, start: int, limit: int
) -> EntriesPage:
    """Leaves [start, start + limit) of the latest published tree, each with its event as
    `GET /events` shows it (null once retention removed it), cut short if the answer
    would pass what Lambda can return."""
    checkpoint = storage.latest_checkpoint(ledger_table, org_id)
    size = checkpoint.tree_size if checkpoint is not None else 0
    if start > size:
        raise InvalidParameter("start", f"is past the latest published tree size ({size})")
    end = min(size, start + limit)
    leaves: list[tuple[int, bytes, str]] = []
    for segment in storage.segments_between(ledger_table, org_id, start, end):
        for offset, key in enumerate(segment.event_keys):
            index = segment.start + offset
            if start <= index < end:
                leaf = segment.hashes[offset * hashing.HASH_SIZE :][: hashing.HASH_SIZE]
                leaves.append((index, leaf, key))
    if [index for index, _, _ in leaves] != list(range(start, end)):
        raise storage.LedgerCorrupted(f"the leaves {start}..{end} are not all stored")
    keys = events_table.event_keys(org_id, [key for _, _, key in leaves])
    found = events_table.get_items(events_table_name, keys)
    items = list(found.values())
    events = dict(zip((item["sk"] for item in items), with_signals(investigation_table, org_id, items), strict=True))
    served: list[EntryOut] = []
    budget = MAX_LAMBDA_RESPONSE_BYTES - ENVELOPE_BYTES
    for index, leaf, key in leaves:
        event: EventOut | None = events.get(key)
        entry = EntryOut(leaf_index=index, leaf_hash=_b64(leaf), event=event)
        budget -= payload_bytes(entry.model_dump(mode="json"))
        if budget < 0 and served:
            break
        served.append(entry)
    next_start = start + len(served)
    return EntriesPage(entries=served, next_start=next_start if next_start < size else None)
