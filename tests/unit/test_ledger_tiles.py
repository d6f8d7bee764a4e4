"""Tiles (C2SP tlog-tiles, height 8) hold the same tree: appended in batches of any size,
their segments give every root, inclusion path and consistency proof that the leaves
themselves give, and a proof reads a handful of tiles, not the tree."""

import hashlib
import random

import pytest

from audit_log.ledger.hashing import HASH_SIZE, LeafList, consistency_proof, inclusion_path, root
from audit_log.ledger.tiles import TILE_WIDTH, Segment, TileHashes, append, tile_width


class SegmentStore:
    """Segments kept as written once each, a tile read as the concatenation of its own."""

    def __init__(self) -> None:
        self.segments: dict[tuple[int, int, int], bytes] = {}

    def write(self, segments: list[Segment]) -> None:
        for segment in segments:
            key = (segment.level, segment.index, segment.start)
            assert key not in self.segments, "a segment is written once"
            self.segments[key] = segment.hashes

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        parts = sorted(
            (start, hashes) for (lv, ix, start), hashes in self.segments.items() if (lv, ix) == (level, index)
        )
        joined = b""
        for start, hashes in parts:
            assert start * HASH_SIZE == len(joined), "a tile's segments leave no gap"
            joined += hashes
        assert len(joined) >= width * HASH_SIZE, (level, index, width, len(joined) // HASH_SIZE)
        return joined


def leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(count)]


def grown(all_leaves: list[bytes], batches: list[int]) -> tuple[SegmentStore, list[int]]:
    store, size, sizes = SegmentStore(), 0, [0]
    for batch in batches:
        store.write(append(size, all_leaves[size : size + batch], store.read_tile))
        size += batch
        sizes.append(size)
    return store, sizes


@pytest.mark.parametrize("seed", range(4))
def test_tiles_grown_in_batches_give_the_trees_hashes_at_every_size(seed: int) -> None:
    rng = random.Random(seed)
    batches = [rng.choice([1, 2, 7, 100, 255, 256, 257, 600]) for _ in range(40)]
    all_leaves = leaves(sum(batches))
    store, sizes = grown(all_leaves, batches)
    memory = LeafList(all_leaves)

    for size in sizes:
        tiles = TileHashes(size, store.read_tile)
        assert root(size, tiles) == root(size, LeafList(all_leaves[:size]))
        for index in rng.sample(range(size), min(size, 5)):
            assert inclusion_path(index, size, tiles) == inclusion_path(index, size, memory)
        for old in rng.sample(sizes[: sizes.index(size) + 1], min(3, sizes.index(size) + 1)):
            assert consistency_proof(old, size, tiles) == consistency_proof(old, size, memory)


def test_upper_tiles_appear_when_the_tiles_below_fill() -> None:
    size = TILE_WIDTH * TILE_WIDTH + 3  # 65,539 leaves: level 2 gets its first hash
    store, _ = grown(leaves(size), [size])

    assert tile_width(0, 0, size) == 256 and tile_width(0, 256, size) == 3
    assert tile_width(1, 0, size) == 256 and tile_width(2, 0, size) == 1
    assert {key[:2] for key in store.segments} >= {(0, 0), (0, 256), (1, 0), (2, 0)}
    assert root(size, TileHashes(size, store.read_tile)) == root(size, LeafList(leaves(size)))


def test_a_proof_reads_few_tiles() -> None:
    size = 70_001
    store, _ = grown(leaves(size), [size])

    for index in (0, 12_345, 65_535, 65_536, size - 1):
        tiles = TileHashes(size, store.read_tile)
        inclusion_path(index, size, tiles)
        assert tiles.fetches <= 4, (index, tiles.fetches)  # one tile per level, and the right edge's
    tiles = TileHashes(size, store.read_tile)
    consistency_proof(40_000, size, tiles)
    assert tiles.fetches <= 4


def test_a_short_tile_read_is_an_error_not_a_wrong_hash() -> None:
    store, _ = grown(leaves(8), [8])
    short = TileHashes(8, lambda level, index, width: store.read_tile(level, index, 2)[: 2 * HASH_SIZE])

    with pytest.raises(ValueError, match="fewer than"):
        short(2, 0)


def test_leaves_are_32_byte_hashes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        append(0, [b"x" * 31, b"y" * 33], SegmentStore().read_tile)
