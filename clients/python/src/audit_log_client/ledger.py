"""RFC 9162 §2.1 Merkle tree verification and ledger leaves, written from the RFC and
the public contract only, so an auditor depends on nothing of the service's code.

- leaf hash = SHA-256(0x00 ‖ entry), interior node = SHA-256(0x01 ‖ left ‖ right), the
  empty tree's root SHA-256("");
- an event's entry is the RFC 8785 (JCS) serialisation of the event restricted to its
  recorded fields, all their keys included, `null`s too;
- roots are recomputed with a stack of complete-subtree hashes (`TreeBuilder`): memory
  grows with log2 of the size, never with the number of leaves, and each leaf costs one
  hash on average;
- proofs are checked with the RFC's own algorithms (§2.1.3.2, §2.1.4.2) and a proof
  longer than any tree of a uint64 size can need is refused before any hashing.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import rfc8785

from audit_log_client.errors import ForkDetected, VerificationFailed

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_TREE_SIZE = 2**64 - 1
MAX_INCLUSION_PATH = 64
MAX_CONSISTENCY_PROOF = 65
ENTRY_FIELDS = ("event_id", "event_type", "occurred_at", "recorded_at", "actor", "targets", "context", "details")

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


_ENTRY_KEYS = frozenset(ENTRY_FIELDS)


def _recorded(event: Mapping[str, Any]) -> dict[str, Any]:
    """`event` restricted to the recorded fields (the entry's object, before JCS)."""
    if type(event) is not dict and not isinstance(event, Mapping):  # the exact type first: audits call this per leaf
        raise VerificationFailed("an event is a JSON object")
    try:
        return {field: event[field] for field in ENTRY_FIELDS}
    except KeyError:
        missing = ", ".join(field for field in ENTRY_FIELDS if field not in event)
        raise VerificationFailed(f"event {event.get('event_id')!r} lacks the recorded field(s) {missing}") from None


def entry_bytes(event: Mapping[str, Any]) -> bytes:
    """The ledger entry of `event` as `GET /events` or an NDJSON export shows it:
    VerificationFailed when a recorded field is missing or the value has no JCS form."""
    try:
        return rfc8785.dumps(_recorded(event))
    except (rfc8785.CanonicalizationError, RecursionError) as exc:
        raise VerificationFailed(f"event {event.get('event_id')!r} has no RFC 8785 form: {exc}") from exc


def event_leaf_hash(event: Mapping[str, Any]) -> bytes:
    return leaf_hash(entry_bytes(event))


# The standard library's C encoder writes exactly the JCS bytes for JSON made of strings,
# safe integers, booleans, nulls, lists and objects whose keys sort alike by code point
# and by UTF-16 unit, i.e. for every event seen in practice, about six times faster than
# rfc8785. It differs for floats, integers beyond 2^53 and keys beyond U+FFFF.
def _standard_encoder() -> Callable[[Any], str]:
    """The C encoder called directly (JSONEncoder.encode rebuilds it on every call, a
    fifth of the time of a small event), when this Python's private signature is the one
    expected and encodes a probe right; else the public encoder: a different signature
    may cost speed, never correctness (see `event_matches_leaf`)."""
    public = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"), check_circular=False
    ).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    probe = {"b": [1, True, None, "\u00e9\n"], "a": {}}
    try:
        encoder = make(None, None, escape, None, ":", ",", True, False, False)  # type: ignore[misc]
        if "".join(encoder(probe, 0)) != public(probe):
            return public
    except Exception:  # noqa: BLE001  (any failure of a private API means: use the public one)
        return public

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_fast_json = _standard_encoder()


def event_matches_leaf(event: Mapping[str, Any], expected: bytes) -> bool:
    """Whether `event` is the leaf `expected`, at the standard library's speed.

    The fast serialisation is tried first: if its hash is the leaf, the leaf commits to
    bytes that decode to exactly this event, and where it equals the JCS form (all but
    the value kinds named above) it *is* the JCS leaf — a SHA-256 collision aside. Any
    other outcome is decided by rfc8785, the reference, so a difference between the two
    serialisations can cost time, never a wrong answer. VerificationFailed when the
    event lacks a recorded field or has no JCS form.
    """
    # An event as served holds exactly the recorded fields: encoded as it is, no copy.
    recorded = event if type(event) is dict and event.keys() == _ENTRY_KEYS else _recorded(event)
    try:
        fast = _fast_json(recorded).encode()
    except (TypeError, ValueError, RecursionError):  # NaN, a key that is not a string, a lone surrogate
        pass
    else:
        if hmac.compare_digest(leaf_hash(fast), expected):
            return True
    return hmac.compare_digest(event_leaf_hash(recorded), expected)


class TreeBuilder:
    """The RFC 9162 root of leaves appended one by one, from a stack of the complete
    subtrees the leaves so far split into (largest first, one per set bit of the size):
    what an auditor needs to recompute a ledger of any size with flat memory."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; merges the complete subtrees the new leaf closes."""
        stack = self._stack
        stack.append(leaf)
        self.size = size = self.size + 1
        while not size & 1:  # each trailing zero of the new size closes one subtree
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()
            size >>= 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        append = self.append
        for leaf in leaves:
            append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the right edge folded into the complete subtrees on its
        left, as RFC 9162 splits a tree at its largest power of two."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        result = stack[-1]
        for left in reversed(stack[:-1]):
            result = _sha256(b"\x01" + left + result).digest()
        return result


def root_hash(leaves: Iterable[bytes]) -> bytes:
    """The RFC 9162 root of the tree whose leaf hashes are `leaves`, in order."""
    builder = TreeBuilder()
    builder.extend(leaves)
    return builder.root()


def _check_size(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_TREE_SIZE:
        raise VerificationFailed(f"{what} is not a tree size (an integer within 0..2^64-1)")
    return value


def _check_hashes(hashes: Sequence[object], what: str) -> None:
    if any(not isinstance(value, bytes) or len(value) != HASH_SIZE for value in hashes):
        raise VerificationFailed(f"{what}: every hash is 32 bytes")


def _chain(
    fn: int, sn: int, start: bytes, path: Sequence[bytes], on_left: Callable[[bytes], None] | None
) -> tuple[bytes, int]:
    """The walk that RFC 9162 §2.1.3.2 and §2.1.4.2 share: hash `start` up along `path`
    while shifting the node numbers fn (the leaf or old edge) and sn (the last node) to the
    root. `on_left` sees each path hash that lies to the left of the walk (the consistency
    check also folds those into the old root). Returns the result and the final sn, which
    is 0 exactly when the path had the tree's height."""
    result = start
    for p in path:
        if sn == 0:
            raise VerificationFailed("the proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            result = _sha256(b"\x01" + p + result).digest()
            if on_left is not None:
                on_left(p)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = _sha256(b"\x01" + result + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return result, sn


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> None:
    """VerificationFailed unless `path` proves leaf hash `leaf` is leaf `index` of the tree
    of `size` leaves whose root is `expected_root` (RFC 9162 §2.1.3.2)."""
    _check_size(size, "the tree size")
    if type(index) is not int or not 0 <= index < size:
        raise VerificationFailed(f"leaf index {index!r} is not within a tree of {size} leaves")
    if not isinstance(path, list | tuple) or len(path) > MAX_INCLUSION_PATH:
        raise VerificationFailed("the inclusion path is not a list of at most 64 hashes")
    _check_hashes([leaf, expected_root, *path], "the inclusion proof")
    result, sn = _chain(index, size - 1, leaf, path, None)
    if sn != 0:
        raise VerificationFailed(f"the inclusion path is too short for leaf {index} of a tree of {size} leaves")
    if not hmac.compare_digest(result, expected_root):
        raise VerificationFailed(f"the inclusion path does not lead from leaf {index} to the root of size {size}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """VerificationFailed unless `proof` shows the tree of `new_size` leaves (root
    `new_root`) keeps the tree of `old_size` leaves (root `old_root`) as its prefix
    (RFC 9162 §2.1.4.2); ForkDetected for two roots of one size. The RFC leaves sizes 0
    and equal sizes to the caller: both take an empty proof."""
    _check_size(old_size, "the old tree size")
    _check_size(new_size, "the new tree size")
    if old_size > new_size:
        raise VerificationFailed(f"the old tree (size {old_size}) is larger than the new one (size {new_size})")
    if not isinstance(proof, list | tuple) or len(proof) > MAX_CONSISTENCY_PROOF:
        raise VerificationFailed("the consistency proof is not a list of at most 65 hashes")
    _check_hashes([old_root, new_root, *proof], "the consistency proof")
    if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
        raise VerificationFailed("the tree of size 0 has the root of the empty string, not this one")
    if old_size == new_size:
        if not hmac.compare_digest(old_root, new_root):
            raise ForkDetected(f"fork: two different roots for tree size {old_size}")
        if proof:
            raise VerificationFailed("the consistency proof between equal sizes is empty")
        return
    if old_size == 0:
        if proof:
            raise VerificationFailed("the consistency proof from size 0 is empty")
        return
    if not proof:
        raise VerificationFailed(f"the consistency proof from size {old_size} to {new_size} is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a complete subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_result = path[0]

    def fold_left(p: bytes) -> None:
        nonlocal old_result
        old_result = _sha256(b"\x01" + p + old_result).digest()

    new_result, sn = _chain(fn, sn, path[0], path[1:], fold_left)
    if sn != 0:
        raise VerificationFailed(f"the consistency proof from size {old_size} to {new_size} is too short")
    if not hmac.compare_digest(old_result, old_root):
        raise VerificationFailed(f"the consistency proof does not lead to the root of size {old_size}")
    if not hmac.compare_digest(new_result, new_root):
        raise VerificationFailed(
            f"the consistency proof does not lead from the root of size {old_size} to the root of size {new_size}"
        )
