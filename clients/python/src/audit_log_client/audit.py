"""The full audit: recompute an organisation's whole ledger from `/ledger/entries` and
hold it against the latest signed checkpoint and, optionally, an older checkpoint the
auditor kept from a previous run.

What it proves when it passes: every entry the service serves is the leaf it claims
(its event, unless removed by retention, hashes to its leaf hash), the leaves are
numbered 0…N-1 without gap or duplicate, they hash to the root the service signed, and
the first M of them still hash to the root the service signed when the ledger had M
leaves, i.e. nothing recorded before the kept checkpoint was changed, removed or
reordered since. The first thing that does not hold is reported, in ledger order.

Entries are streamed page by page into a `TreeBuilder`: memory stays flat whatever the
ledger's size.
"""

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from audit_log_client._fields import b64, decode_hash
from audit_log_client.api import Client
from audit_log_client.checkpoints import Checkpoint, PublicKey, verify_checkpoint
from audit_log_client.errors import ForkDetected, VerificationFailed
from audit_log_client.ledger import TreeBuilder, event_matches_leaf
from audit_log_client.verify import check_consistency_proof


@dataclass(frozen=True)
class LedgerCount:
    """What a recomputation went through."""

    events: int  # entries whose event was checked against its leaf hash
    removed: int  # entries whose event was removed by retention (leaf hash only)


@dataclass(frozen=True)
class AuditReport:
    latest: Checkpoint
    latest_document: Mapping[str, Any]  # as the API answered it: what --save keeps
    kept: Checkpoint | None
    count: LedgerCount
    seconds: float


def recompute(
    entries: Iterable[Any],
    size: int,
    expected_root: bytes,
    kept: Checkpoint | None = None,
) -> LedgerCount:
    """Check the first `size` of `entries` (dicts as `/ledger/entries` serves them) and
    their root against `expected_root`, and the first `kept.head.size` against the kept
    checkpoint's root; VerificationFailed naming the first mismatch."""
    builder = TreeBuilder()
    append = builder.append
    events = removed = 0
    kept_size = kept.head.size if kept is not None else -1
    if kept is not None and kept_size == 0:
        _check_kept(builder, kept)
    position = 0
    for entry in entries:
        if position == size:
            break
        if not isinstance(entry, dict):
            raise VerificationFailed(f"entry {position} is not a JSON object")
        index = entry.get("leaf_index")
        if index != position or type(index) is not int:
            raise VerificationFailed(_order_failure(position, index))
        leaf = decode_hash(entry.get("leaf_hash"), f"the leaf hash of entry {position}")
        event = entry.get("event")
        if event is None:
            removed += 1
        else:
            if not isinstance(event, dict):
                raise VerificationFailed(f"entry {position} has an event that is neither null nor a JSON object")
            try:
                matches = event_matches_leaf(event, leaf)
            except VerificationFailed as failure:  # a recorded field missing, or no JCS form
                raise VerificationFailed(f"entry {position}: {failure.message}") from failure
            if not matches:
                raise VerificationFailed(
                    f"entry {position} (event {event.get('event_id')}) does not match its leaf hash"
                )
            events += 1
        append(leaf)
        position += 1
        if position == kept_size and kept is not None:
            _check_kept(builder, kept)
    if position < size:
        raise VerificationFailed(
            f"the ledger ends after {position} entries, but the checkpoint signs a tree of {size}: entries are missing"
        )
    root = builder.root()
    if root != expected_root:
        raise VerificationFailed(
            f"the ledger's {size} entries hash to root {b64(root)}, not to the signed checkpoint's root "
            f"{b64(expected_root)}: root mismatch"
        )
    return LedgerCount(events=events, removed=removed)


def _order_failure(position: int, index: object) -> str:
    if type(index) is not int:
        return f"entry {position} has no integer leaf_index ({index!r})"
    if index < position:
        return f"leaf {index} is served twice (at position {position}): a duplicate in the ledger"
    return f"leaves {position}..{index - 1} are missing (the next entry is leaf {index}): a gap in the ledger"


def _check_kept(builder: TreeBuilder, kept: Checkpoint) -> None:
    root = builder.root()
    if root != kept.head.root_hash:
        raise VerificationFailed(
            f"the kept checkpoint of size {kept.head.size} contradicts the ledger: history was rewritten "
            f"(its first {kept.head.size} entries now hash to {b64(root)}, the kept checkpoint signed "
            f"{b64(kept.head.root_hash)})"
        )


def audit(
    client: Client,
    key: PublicKey,
    kept_document: object = None,
    clock: Callable[[], float] = time.perf_counter,
) -> AuditReport:
    """Audit the ledger the client's token reads (see the module's docstring); the
    kept checkpoint, when given, is verified first, so a bad kept file fails before
    any fetching."""
    started = clock()
    kept = verify_checkpoint(kept_document, key, "the kept checkpoint") if kept_document is not None else None
    latest_document = client.latest_checkpoint()
    latest = verify_checkpoint(latest_document, key, "the latest checkpoint")
    if kept is not None:
        if kept.head.origin != latest.head.origin:
            raise VerificationFailed(
                f"the kept checkpoint is of ledger {kept.head.origin}, the API serves {latest.head.origin}"
            )
        if kept.head.size > latest.head.size:
            raise VerificationFailed(
                f"the kept checkpoint has size {kept.head.size}, the latest only {latest.head.size}: "
                "the ledger shrank, history was rewritten"
            )
        if kept.head.size == latest.head.size and kept.head.root_hash != latest.head.root_hash:
            raise ForkDetected(
                f"fork: the kept checkpoint and the latest checkpoint both have size {kept.head.size} "
                "but different roots: history was rewritten"
            )
    size = latest.head.size
    count = recompute(client.entries(0, size), size, latest.head.root_hash, kept)
    if kept is not None:
        check_consistency_proof(kept, latest, client.consistency(kept.head.size, size))
    return AuditReport(latest, latest_document, kept, count, clock() - started)
