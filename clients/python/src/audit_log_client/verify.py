"""Offline verification of what the API hands out: an event's inclusion proof and the
consistency of two checkpoints. Everything is checked against the public key alone; no
field of a proof is trusted until the signed checkpoint it leads to is."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_log_client._fields import get_hash, get_hash_list, get_int, get_str, require_object
from audit_log_client.checkpoints import Checkpoint, PublicKey, verify_checkpoint
from audit_log_client.errors import ForkDetected, VerificationFailed
from audit_log_client.ledger import (
    MAX_CONSISTENCY_PROOF,
    MAX_INCLUSION_PATH,
    event_matches_leaf,
    verify_consistency,
    verify_inclusion,
)


@dataclass(frozen=True)
class EventInclusion:
    event_id: str
    leaf_index: int
    checkpoint: Checkpoint


def verify_event_proof(proof_document: object, event: object, key: PublicKey) -> EventInclusion:
    """That `event` (as `GET /events` shows it) is leaf `leaf_index` of the tree its
    proof's checkpoint signs: the checkpoint verifies, the proof is for that size and
    that event, the event hashes to the proof's leaf hash, and the path leads to the
    signed root."""
    proof = require_object(proof_document, "the proof")
    checkpoint = verify_checkpoint(proof.get("checkpoint"), key, "the proof's checkpoint")
    size = get_int(proof, "tree_size", "the proof")
    if size != checkpoint.head.size:
        raise VerificationFailed(f"the proof is for tree size {size}, its checkpoint has size {checkpoint.head.size}")
    event_id = get_str(proof, "event_id", "the proof")
    record = require_object(event, "the event")
    if record.get("event_id") != event_id:
        raise VerificationFailed(f"the proof is for event {event_id}, not for event {record.get('event_id')!r}")
    leaf_index = get_int(proof, "leaf_index", "the proof")
    leaf = get_hash(proof, "leaf_hash", "the proof")
    if not event_matches_leaf(record, leaf):
        raise VerificationFailed(
            f"event {event_id} does not match the proof's leaf hash: the event differs from what was recorded"
        )
    path = get_hash_list(proof, "inclusion_path", "the proof", MAX_INCLUSION_PATH)
    verify_inclusion(leaf_index, size, leaf, path, checkpoint.head.root_hash)
    return EventInclusion(event_id, leaf_index, checkpoint)


def verify_checkpoints_consistent(
    old_document: object, new_document: object, proof_document: object, key: PublicKey
) -> tuple[Checkpoint, Checkpoint]:
    """That the newer signed checkpoint's tree keeps the older one's as its prefix: both
    signatures, one ledger, the proof's sizes being the checkpoints', and RFC 9162
    §2.1.4.2. Two checkpoints of one size with different roots are a fork
    (ForkDetected), whatever the proof says."""
    old = verify_checkpoint(old_document, key, "the old checkpoint")
    new = verify_checkpoint(new_document, key, "the new checkpoint")
    check_consistency_proof(old, new, require_object(proof_document, "the consistency proof"))
    return old, new


def check_consistency_proof(old: Checkpoint, new: Checkpoint, proof: Mapping[str, Any]) -> None:
    """The checks of `verify_checkpoints_consistent` once both checkpoints are verified
    (the audit reuses them with the proof it fetched)."""
    if old.head.origin != new.head.origin:
        raise VerificationFailed(f"the checkpoints are of two ledgers: {old.head.origin} and {new.head.origin}")
    if old.head.size == new.head.size and old.head.root_hash != new.head.root_hash:
        raise ForkDetected(
            f"fork: two signed checkpoints of size {old.head.size} with different roots: the history was rewritten"
        )
    if old.head.size > new.head.size:
        raise VerificationFailed(
            f"the old checkpoint (size {old.head.size}) is larger than the new one (size {new.head.size})"
        )
    sizes = (get_int(proof, "from", "the consistency proof"), get_int(proof, "to", "the consistency proof"))
    if sizes != (old.head.size, new.head.size):
        raise VerificationFailed(
            f"the consistency proof is from size {sizes[0]} to {sizes[1]}, "
            f"not from {old.head.size} to {new.head.size} as the checkpoints are"
        )
    hashes = get_hash_list(proof, "proof", "the consistency proof", MAX_CONSISTENCY_PROOF)
    verify_consistency(old.head.size, new.head.size, old.head.root_hash, new.head.root_hash, hashes)
