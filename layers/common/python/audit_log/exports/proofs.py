"""The proof file of an NDJSON export: that every exported event is a leaf of one signed
checkpoint's tree, in one compact document rather than a path per event.

    {"format": "audit-log-export-proof/v1", "export_id", "events",
     "checkpoint": {... as GET /ledger/checkpoint ...},
     "leaf_indices": [the leaf index of each line, in file order],
     "nodes": [{"level", "index", "hash"}, ...],
     "complete": bool}

`nodes` are the RFC 9162 hashes of the complete subtrees (leaves index·2^level up to
(index+1)·2^level) that together cover exactly the checkpoint's leaves that are not in
the file, each as large as it can be. With the leaves the file gives (each recomputed
from its line), they are all the verifier needs to recompute the root: a node shared by
many exported events appears once. An export holding every leaf of the tree needs no
node at all, and says so (`complete`): it proves that nothing is missing.
"""

import base64
import io
import json
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from audit_log.ledger import publishing
from audit_log.ledger.storage import StoredCheckpoint

FORMAT = "audit-log-export-proof/v1"
SubtreeHash = Callable[[int, int], bytes]  # (level, index) → hash of that complete subtree


def covering_nodes(tree_size: int, exported: Sequence[int]) -> list[tuple[int, int]]:
    """(level, index) of the largest complete subtrees covering the leaves of
    [0, tree_size) not in `exported` (sorted, distinct), left to right.

    The walk follows RFC 9162's own split (the largest power of two below the size), so
    every subtree it names is a node of the tree; it only descends into subtrees that
    hold both exported and other leaves: O(k log n) steps for k exported leaves.
    """
    nodes: list[tuple[int, int]] = []

    def walk(start: int, end: int) -> None:
        inside = bisect_left(exported, end) - bisect_left(exported, start)
        width = end - start
        if inside == width:
            return
        if inside == 0 and width & (width - 1) == 0:  # complete and nothing exported
            level = width.bit_length() - 1
            nodes.append((level, start >> level))
            return
        split = 1 << ((width - 1).bit_length() - 1)
        walk(start, start + split)
        walk(start + split, end)

    if tree_size:
        walk(0, tree_size)
    return nodes


def write_proof(
    out: io.BufferedIOBase | io.BytesIO,
    *,
    export_id: str,
    checkpoint: StoredCheckpoint,
    leaf_indices: Sequence[int],
    subtree_hash: SubtreeHash,
) -> None:
    """The proof document into `out`, the index list written in slices so that a
    million of them never sit in memory as one string."""
    exported = sorted(leaf_indices)
    if exported and (exported[0] < 0 or exported[-1] >= checkpoint.tree_size):
        raise ValueError("an exported leaf is outside the checkpoint's tree")
    if any(left == right for left, right in pairwise(exported)):
        raise ValueError("a leaf is exported twice")
    nodes = covering_nodes(checkpoint.tree_size, exported)
    node_list = [
        {"level": level, "index": index, "hash": base64.b64encode(subtree_hash(level, index)).decode()}
        for level, index in nodes
    ]
    head: dict[str, Any] = {
        "format": FORMAT,
        "export_id": export_id,
        "events": len(leaf_indices),
        "checkpoint": publishing.as_served(checkpoint),
    }
    out.write(json.dumps(head, separators=(",", ":"))[:-1].encode())
    out.write(b',"leaf_indices":[')
    slice_size = 65_536
    for first in range(0, len(leaf_indices), slice_size):
        if first:
            out.write(b",")
        out.write(",".join(map(str, leaf_indices[first : first + slice_size])).encode())
    tail = {"nodes": node_list, "complete": not nodes}
    out.write(b"]," + json.dumps(tail, separators=(",", ":"))[1:].encode())
