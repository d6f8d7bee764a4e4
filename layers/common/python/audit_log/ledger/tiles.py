"""The tree's hashes in tiles, as C2SP tlog-tiles lays them out (tile height 8): the tile
at level L, index N holds the hashes of the tree's level-8L nodes N·256 … N·256+W-1, W
being 256 once the tile is full. Only those rows are kept; any node between two tile
levels is the hash of a run of at most 128 hashes of one tile, so a proof in a tree of a
million leaves reads at most three tiles per level of proof (level 0, 1 and 2).

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

    @property
    def end(self) -> int:
        return self.start + len(self.hashes) // HASH_SIZE


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves (0: none)."""
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _merkle_of_full_run(hashes: Sequence[bytes]) -> bytes:
    """The root over a power-of-two run of hashes (a complete subtree)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


class TileHashes:
    """Complete-subtree hashes of the tree of `size` leaves, read from tiles: a
    `hashing.SubtreeHashes`. Each tile is fetched once per instance; `fetches` counts
    them (a DynamoDB read each, in storage)."""

    def __init__(self, size: int, read_tile: TileReader) -> None:
        self.size = size
        self._read_tile = read_tile
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self.fetches = 0

    def _tile(self, level: int, index: int) -> list[bytes]:
        if (level, index) not in self._tiles:
            width = tile_width(level, index, self.size)
            self._tiles[(level, index)] = _split(self._read_tile(level, index, width)[: width * HASH_SIZE])
            self.fetches += 1
        return self._tiles[(level, index)]

    def __call__(self, level: int, index: int) -> bytes:
        if (index + 1) << level > self.size:
            raise ValueError("not a complete subtree of this tree size")
        tile_level, sublevel = divmod(level, TILE_HEIGHT)
        first = index << sublevel  # its first node on the tile's row
        tile = self._tile(tile_level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return _merkle_of_full_run(tile[offset : offset + (1 << sublevel)])


def append(old_size: int, leaves: Sequence[bytes], read_tile: TileReader) -> list[Segment]:
    """The segments that appending `leaves` (leaf hashes) to the tree of `old_size`
    leaves adds: the leaves on level 0, then on each level above the roots of the tiles
    below that this append fills. `read_tile` reads the old tree's tiles (only those the
    append completes are read, for the hashes they held before it)."""
    segments: list[Segment] = []
    level, position, row = 0, old_size, list(leaves)  # new hashes at row indices position…
    while row:
        filled: list[tuple[int, bytes]] = []  # (tile index, root) of tiles this append fills
        while row:
            index, offset = divmod(position, TILE_WIDTH)
            taken, row = row[: TILE_WIDTH - offset], row[TILE_WIDTH - offset :]
            segments.append(Segment(level, index, offset, b"".join(taken)))
            if offset + len(taken) == TILE_WIDTH:
                before = _split(read_tile(level, index, offset)[: offset * HASH_SIZE]) if offset else []
                filled.append((index, _merkle_of_full_run([*before, *taken])))
            position += len(taken)
        level += 1
        position = filled[0][0] if filled else 0
        row = [root for _, root in filled]
    return segments
