"""Two sealers appending to one organisation's tree at once (as after a shard split):
the conditional claim lets one win each position; the other re-reads and appends after
it. The tree never forks: every event has one leaf, there are no gaps, and the tiles
give the same root as the leaves."""

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from audit_log.ledger import sealing, storage, tiles
from audit_log.ledger.hashing import LeafList, root
from audit_log.ledger.sealing import Sealable
from tests.conftest import TEST_ENV

LEDGER = TEST_ENV["LEDGER_TABLE_NAME"]


def events(count: int, prefix: str) -> list[Sealable]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [
        Sealable(
            f"{now}#{prefix}{i:04d}", f"{prefix}{i:04d}", now, bytes([i % 256]) * 16 + prefix.encode().ljust(16, b".")
        )
        for i in range(count)
    ]


def all_leaves(org: str) -> list[tuple[str, bytes]]:
    size = storage.tree_size(LEDGER, org)
    found = []
    for segment in storage.segments_between(LEDGER, org, 0, size):
        for offset, key in enumerate(segment.event_keys):
            found.append((key, segment.hashes[offset * 32 : offset * 32 + 32]))
    return found


@pytest.mark.parametrize(
    ("counts", "same_batch"),
    [((40, 40), False), ((300, 10), False), ((3, 600), False), ((120, 120), True), ((300, 300), True)],
    ids=["40+40", "300+10", "3+600", "one batch of 120 twice", "one batch of 300 twice"],
)
def test_two_sealers_at_once_never_fork_the_tree(
    ledger_resources: Any,
    one_request_at_a_time: None,
    monkeypatch: pytest.MonkeyPatch,
    counts: tuple[int, int],
    same_batch: bool,
) -> None:
    """Disjoint batches, as two shards deliver them after a split; or one batch handed to
    both (a redelivery racing the original)."""
    first, second = events(counts[0], "a"), events(counts[1], "b")
    batches = [first, first if same_batch else second]
    barrier = threading.Barrier(2)
    real_claim = storage.claim
    claimed = threading.local()

    def claim_together(*args: Any) -> None:
        if not getattr(claimed, "once", False):  # both read the same end before either claims
            claimed.once = True
            barrier.wait(timeout=10)
        real_claim(*args)

    results: list[Any] = []
    errors: list[BaseException] = []

    def run(batch: list[Sealable]) -> None:
        try:
            results.append(sealing.seal(LEDGER, "org_c", batch, lambda: datetime.now(UTC)))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    monkeypatch.setattr(storage, "claim", claim_together)
    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(result.lost_claims for result in results) >= 1, "the two sealers did contend"
    leaves = all_leaves("org_c")
    keys = [key for key, _ in leaves]
    expected = {event.event_key for batch in batches for event in batch}
    sealed = [*first, *([] if same_batch else second)]
    assert len(keys) == len(set(keys)) == len(expected), "one leaf per event, none twice"
    assert set(keys) == expected
    for event in sealed:
        index = storage.leaf_index_of(LEDGER, "org_c", event.event_id)
        assert index is not None and keys[index] == event.event_key
    size = len(keys)
    from_tiles = tiles.TileHashes(size, storage.tile_reader(LEDGER, "org_c"))
    assert root(size, from_tiles) == root(size, LeafList([leaf for _, leaf in leaves]))
