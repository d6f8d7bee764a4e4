"""The tree's hashes in tiles, as C2SP tlog-tiles lays them out (tile height 8): the tile
at level L, index N holds the hashes of the tree's level-8L nodes N·256 … N·256+W-1, W
being 256 once the tile is full. Only those rows are kept; any node between two tile
levels is the hash of a run of at most 128 hashes of one tile, so a proof reads a few
tiles rather than the tree (4 at most in the tests' tree of 70,001 leaves).

Appending leaves yields `Segment`s: hashes added to one tile at an offset, never
changing a hash already there. Storage keeps them as items written once; a tile is the
concatenation of its segments, and a tree size reads each tile as the prefix that size
had.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audit_log.ledger.hashing import HASH_SIZE, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

# (tile level, tile index, width) → at least `width` hashes of that tile, concatenated.
TileReader = Callable[[int, int, int], bytes]


@dataclass(frozen=True)
class Segment:
    level: int  # tile level
    index: int  # tile index within its level
    start: int  # offset of the first hash within the tile
    hashes: bytes  # concatenated 32-byte hashes


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves (0: none)."""
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def full_run_root(hashes: Sequence[bytes]) -> bytes:
    """The root over a power-of-two run of hashes (a complete subtree)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


class TileHashes:
    """Complete-subtree hashes of the tree of `size` leaves, read from tiles: a
    `hashing.SubtreeHashes`. Each tile is fetched once per instance; `fetches` counts
    them (a DynamoDB read each, in storage). `known` holds subtree hashes already at hand
    (a checkpoint's compact range), which are then never read from a tile."""

    def __init__(self, size: int, read_tile: TileReader, known: dict[tuple[int, int], bytes] | None = None) -> None:
        self.size = size
        self._read_tile = read_tile
        self._known = known or {}
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self.fetches = 0

    def _tile(self, level: int, index: int) -> list[bytes]:
        if (level, index) not in self._tiles:
            width = tile_width(level, index, self.size)
            data = self._read_tile(level, index, width)
            if len(data) < width * HASH_SIZE:  # a short read must never become a wrong root
                raise ValueError(f"tile {level}/{index} holds fewer than the {width} hashes of this tree size")
            self._tiles[(level, index)] = _split(data[: width * HASH_SIZE])
            self.fetches += 1
        return self._tiles[(level, index)]

    def __call__(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            raise ValueError("not a complete subtree of this tree size")
        if (level, index) in self._known:
            return self._known[(level, index)]
        tile_level, sublevel = divmod(level, TILE_HEIGHT)
        first = index << sublevel  # its first node on the tile's row
        tile = self._tile(tile_level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return full_run_root(tile[offset : offset + (1 << sublevel)])


def append(old_size: int, leaves: Sequence[bytes], read_tile: TileReader) -> list[Segment]:
    """The segments that appending `leaves` (leaf hashes) to the tree of `old_size`
    leaves adds: the leaves on level 0, then on each level above the roots of the tiles
    below that this append fills. `read_tile` reads the old tree's tiles (only those the
    append completes are read, for the hashes they held before it)."""
    if any(len(leaf) != HASH_SIZE for leaf in leaves):
        raise ValueError("every leaf hash is 32 bytes")
    segments: list[Segment] = []
    level, position, row = 0, old_size, list(leaves)  # new hashes at row indices position…
    while row:
        filled: list[bytes] = []  # roots of the tiles this append fills, left to right
        first_filled = 0  # the index of the first of them: their place on the row above
        while row:
            index, offset = divmod(position, TILE_WIDTH)
            taken, row = row[: TILE_WIDTH - offset], row[TILE_WIDTH - offset :]
            segments.append(Segment(level, index, offset, b"".join(taken)))
            if offset + len(taken) == TILE_WIDTH:
                before = _split(read_tile(level, index, offset)[: offset * HASH_SIZE]) if offset else []
                first_filled = index if not filled else first_filled
                filled.append(full_run_root([*before, *taken]))
            position += len(taken)
        level, position, row = level + 1, first_filled, filled
    return segments


def compact_range_nodes(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that make up the tree of `size` leaves, left
    to right: one per set bit of `size`, largest first."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_of_compact_range(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root from the compact range's hashes: each perfect subtree is the left
    child of everything to its right."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result
