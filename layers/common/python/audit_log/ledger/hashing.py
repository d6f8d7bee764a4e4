"""RFC 9162 §2.1 Merkle tree hashing, exactly: SHA-256, leaf hash SHA-256(0x00 ‖ entry),
interior node SHA-256(0x01 ‖ left ‖ right), the empty tree's root SHA-256(""), and the
split of n leaves at the largest power of two smaller than n.

Proofs are built from the hashes of *complete* subtrees only, read through a
`SubtreeHashes` callable (`level`, `index`) → the hash of leaves
[index·2^level, (index+1)·2^level): what a store of immutable tiles can answer for any
published tree size, since a complete subtree never changes once its last leaf is in.
The hash of an incomplete right edge is computed from the complete subtrees it splits
into. The lists in memory (`LeafList`) serve tests and small trees.

Verification follows the RFC's own algorithms (§2.1.3.2, §2.1.4.2) and never trusts a
proof's length: a path longer than a tree of that size can need is refused.
"""

import hashlib
import hmac
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Tree sizes are uint64 (as in a checkpoint); such a tree needs at most 64 hashes in an
# inclusion path and 65 in a consistency proof: anything longer is not a proof.
MAX_TREE_SIZE = 2**64 - 1
_MAX_PATH = 64
_MAX_CONSISTENCY = 65

SubtreeHashes = Callable[[int, int], bytes]


class InvalidProof(ValueError):
    """A proof that does not prove what it claims (or is not a proof at all)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than `size` (size ≥ 2): where RFC 9162 splits."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_root(start: int, end: int, read: SubtreeHashes) -> bytes:
    """MTH of leaves [start, end), `start` aligned as the RFC's recursion leaves it (a
    multiple of the largest power of two not above end - start)."""
    size = end - start
    if size & (size - 1) == 0:  # complete: stored as it is
        level = size.bit_length() - 1
        return read(level, start >> level)
    k = split(size)
    return node_hash(subtree_root(start, start + k, read), subtree_root(start + k, end, read))


def root(size: int, read: SubtreeHashes) -> bytes:
    """The root hash of the tree's first `size` leaves."""
    _check_size(size)
    return EMPTY_ROOT if size == 0 else subtree_root(0, size, read)


def inclusion_path(index: int, size: int, read: SubtreeHashes) -> list[bytes]:
    """RFC 9162 PATH(index, D[size]), from the leaf's sibling up to the root's child."""
    _check_size(size)
    _check_numbers(index)
    if not 0 <= index < size:
        raise ValueError("index must be within the tree")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # descend to the leaf; siblings collected top-down
        k = split(end - start)
        if index < start + k:
            path.append(subtree_root(start + k, end, read))
            end = start + k
        else:
            path.append(subtree_root(start, start + k, read))
            start += k
    return path[::-1]


def consistency_proof(old_size: int, new_size: int, read: SubtreeHashes) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[new_size]); empty when old_size is 0 or new_size."""
    _check_size(new_size)
    _check_numbers(old_size)
    if not 0 <= old_size <= new_size:
        raise ValueError("old_size must be within 0..new_size")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, complete = 0, new_size, True  # SUBPROOF(m, D[start:end], b)
    m = old_size
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append(subtree_root(start + k, end, read))
            end = start + k
        else:
            proof.append(subtree_root(start, start + k, read))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(subtree_root(start, end, read))
    return proof[::-1]


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> None:
    """InvalidProof unless `path` proves leaf hash `leaf` at `index` of the tree of
    `size` leaves whose root is `expected_root` (RFC 9162 §2.1.3.2)."""
    _check_numbers(index, size)
    if not 0 <= index < size <= MAX_TREE_SIZE or not isinstance(path, list | tuple) or len(path) > _MAX_PATH:
        raise InvalidProof("the index is not within the tree, or the path is not a list short enough for it")
    _check_hashes([leaf, expected_root, *path])
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise InvalidProof("the path is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or not hmac.compare_digest(r, expected_root):
        raise InvalidProof("the path does not lead to the root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """InvalidProof unless `proof` shows the tree of `new_size` leaves (root `new_root`)
    extends the tree of `old_size` leaves (root `old_root`): RFC 9162 §2.1.4.2, with its
    edge cases (0 and equal sizes) made explicit."""
    _check_numbers(old_size, new_size)
    if (
        not 0 <= old_size <= new_size <= MAX_TREE_SIZE
        or not isinstance(proof, list | tuple)
        or len(proof) > _MAX_CONSISTENCY
    ):
        raise InvalidProof("the sizes are not in order, or the proof is not a list short enough for them")
    _check_hashes([old_root, new_root, *proof])
    if old_size == new_size or old_size == 0:
        if proof:
            raise InvalidProof("the proof must be empty between these sizes")
        if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
            raise InvalidProof("the tree of size 0 has the empty root")
        if old_size == new_size and not hmac.compare_digest(old_root, new_root):
            raise InvalidProof("two different roots for one tree size: the history forked")
        return
    if not proof:
        raise InvalidProof("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or not hmac.compare_digest(fr, old_root) or not hmac.compare_digest(sr, new_root):
        raise InvalidProof("the proof does not join the two roots")


class LeafList:
    """Complete subtree hashes of leaf hashes held in memory (tests, small trees)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def __call__(self, level: int, index: int) -> bytes:
        return self.levels[level][index]


def _check_size(size: int) -> None:
    _check_numbers(size)
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError("a tree size is within 0..2^64-1")


def _check_numbers(*values: object) -> None:
    """Sizes and indexes are ints (not floats, not bools): 0.0 must not pass for 0."""
    if any(type(value) is not int for value in values):
        raise InvalidProof("sizes and indexes are integers")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    if any(not isinstance(value, bytes) or len(value) != HASH_SIZE for value in hashes):
        raise InvalidProof("every hash is 32 bytes")
