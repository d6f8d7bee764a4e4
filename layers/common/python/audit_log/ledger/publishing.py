"""Publishing an organisation's signed checkpoint: the tree head, signed by the KMS key,
copied to the Object-Lock bucket, then stored as the published checkpoint of its size.

The copy is written before the checkpoint is published, so every checkpoint anyone can
read has a copy nobody can alter or delete. Checkpoints of one organisation are at least
`interval` apart: a sealer finding the last one too recent asks (`Deferred`) to be
called again when it is due, and the seal_log function queues that call.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from audit_log import aws_clients
from audit_log.ledger import storage, tiles
from audit_log.ledger.checkpoints import TreeHead, checkpoint_body
from audit_log.ledger.hashing import EMPTY_ROOT, HASH_SIZE
from audit_log.ledger.signing import PublicKey, kms_public_key, kms_sign
from audit_log.timestamps import format_utc_ms, parse_rfc3339


@dataclass(frozen=True)
class Signer:
    """The KMS key that signs checkpoints, named by its public key's hash."""

    kms_key_id: str
    public_key: PublicKey


_signers: dict[str, Signer] = {}


def signer(kms_key_id: str) -> Signer:
    """The key's public half is fetched once per container."""
    if kms_key_id not in _signers:
        _signers[kms_key_id] = Signer(kms_key_id, kms_public_key(aws_clients.kms(), kms_key_id))
    return _signers[kms_key_id]


@dataclass(frozen=True)
class Deferred:
    """Not published: the latest checkpoint is too recent; due in `seconds`."""

    seconds: float


def origin(ledger_origin: str, org_id: str) -> str:
    return f"{ledger_origin}/{org_id}"


def sign(head: TreeHead, key: Signer, compact_range: bytes) -> storage.StoredCheckpoint:
    body = checkpoint_body(head)
    return storage.StoredCheckpoint(
        origin=head.origin,
        tree_size=head.size,
        root_hash=head.root_hash,
        timestamp=head.timestamp,
        key_id=key.public_key.key_id,
        body=body,
        signature=kms_sign(aws_clients.kms(), key.kms_key_id, body),
        compact_range=compact_range,
    )


def empty_checkpoint(ledger_origin: str, org_id: str, key: Signer, now: datetime) -> storage.StoredCheckpoint:
    """The checkpoint of an organisation with nothing sealed yet: size 0, the empty root."""
    head = TreeHead(origin(ledger_origin, org_id), 0, EMPTY_ROOT, format_utc_ms(now))
    return sign(head, key, b"")


def publish_if_due(
    *,
    ledger_table: str,
    bucket: str,
    ledger_origin: str,
    key: Signer,
    org_id: str,
    interval: timedelta,
    now: Callable[[], datetime],
) -> storage.StoredCheckpoint | Deferred | None:
    """Publish the checkpoint of the tree as it is now, unless the latest checkpoint
    already covers it (None) or is younger than `interval` (Deferred)."""
    size = storage.tree_size(ledger_table, org_id)
    latest = storage.latest_checkpoint(ledger_table, org_id)
    if size == 0 or (latest is not None and latest.tree_size >= size):
        return None
    if latest is not None:
        due = parse_rfc3339(latest.timestamp) + interval - now()
        if due > timedelta(0):
            return Deferred(due.total_seconds())
    read = tiles.TileHashes(size, storage.tile_reader(ledger_table, org_id))
    compact = [read(level, index) for level, index in tiles.compact_range_nodes(size)]
    head = TreeHead(origin(ledger_origin, org_id), size, tiles.root_of_compact_range(compact), format_utc_ms(now()))
    checkpoint = sign(head, key, b"".join(compact))
    put_copy(bucket, org_id, checkpoint)
    return storage.put_checkpoint(ledger_table, org_id, checkpoint)


def as_served(checkpoint: storage.StoredCheckpoint) -> dict[str, Any]:
    """A checkpoint as the API (and its Object-Lock copy) shows it."""
    return {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "timestamp": checkpoint.timestamp,
        "key_id": checkpoint.key_id,
        "body": checkpoint.body,
        "signature": base64.b64encode(checkpoint.signature).decode(),
    }


def copy_key(org_id: str, tree_size: int) -> str:
    return f"checkpoints/{org_id}/{tree_size:020d}.json"


def put_copy(bucket: str, org_id: str, checkpoint: storage.StoredCheckpoint) -> None:
    """The checkpoint's copy under the bucket's default Object Lock retention (compliance
    mode): a second put of one size adds a version, never replaces the first."""
    aws_clients.s3().put_object(
        Bucket=bucket,
        Key=copy_key(org_id, checkpoint.tree_size),
        Body=json.dumps(as_served(checkpoint), indent=2).encode(),
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
    )


def known_hashes(checkpoint: storage.StoredCheckpoint) -> dict[tuple[int, int], bytes]:
    """The checkpoint's compact range as subtree hashes a proof need not read again."""
    nodes = tiles.compact_range_nodes(checkpoint.tree_size)
    data = checkpoint.compact_range
    if len(data) != len(nodes) * HASH_SIZE:
        return {}
    return {node: data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i, node in enumerate(nodes)}
