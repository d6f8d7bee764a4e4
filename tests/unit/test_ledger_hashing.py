"""The ledger's RFC 9162 hashing against what others compute: the Certificate
Transparency reference vectors (as published by transparency-dev/merkle, testonly and
proof/verify_test.go; used as data only), and pymerkle, an independent Python
implementation, for every root and inclusion path of trees up to 70 leaves. Proofs that
are corrupted in any of the reference tests' ways are refused."""

from collections.abc import Iterator
from typing import Any

import pytest
from pymerkle import InmemoryTree

from audit_log.ledger.hashing import (
    EMPTY_ROOT,
    InvalidProof,
    LeafList,
    consistency_proof,
    inclusion_path,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex
ENTRIES = [
    h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
TREE = LeafList([leaf_hash(entry) for entry in ENTRIES])
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, path); the reference numbers leaves from 1, these from 0.
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
# (index or old size, size or new size, hash, list of hashes or hash, ...) as the verifier takes them.
Probe = tuple[Any, ...]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_every_complete_subtree_and_root_matches_the_reference() -> None:
    for level, hashes in enumerate(NODE_HASHES):
        assert [TREE(level, index).hex() for index in range(len(hashes))] == hashes
    assert [root(size, TREE).hex() for size in range(9)] == ROOTS
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert node_hash(TREE(0, 0), TREE(0, 1)).hex() == ROOTS[2]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_paths_are_the_references(index: int, size: int, path: list[str]) -> None:
    assert [node.hex() for node in inclusion_path(index, size, TREE)] == path
    verify_inclusion(index, size, TREE(0, index), [h(node) for node in path], h(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_are_the_references(old: int, new: int, proof: list[str]) -> None:
    assert [node.hex() for node in consistency_proof(old, new, TREE)] == proof
    verify_consistency(old, new, h(ROOTS[old]), h(ROOTS[new]), [h(node) for node in proof])


def corrupted_inclusions(index: int, size: int, leaf: bytes, path: list[bytes], top: bytes) -> Iterator[Probe]:
    """The reference tests' corruptions of a valid inclusion proof."""
    yield index - 1, size, leaf, path, top
    yield index + 1, size, leaf, path, top
    yield index ^ 2, size, leaf, path, top
    yield index, size * 2, leaf, path, top
    yield index, size // 2, leaf, path, top
    yield index, size, SOME_HASH, path, top
    yield index, size, leaf, path, EMPTY_ROOT
    yield index, size, leaf, path, SOME_HASH
    yield index, size, leaf, [*path, top], top
    yield index, size, leaf, [top, *path], top
    yield index, size, leaf, [*path, b""], top
    for i in range(len(path)):
        flipped = bytearray(path[i])
        flipped[0] ^= 8
        yield index, size, leaf, [*path[:i], bytes(flipped), *path[i + 1 :]], top
    if path:
        yield index, size, leaf, path[:-1], top
    if len(path) > 1:
        yield index, size, leaf, [path[0], SOME_HASH, *path[1:]], top


def corrupted_consistencies(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> Iterator[Probe]:
    yield old - 1, new, old_root, new_root, proof
    yield old + 1, new, old_root, new_root, proof
    yield old ^ 2, new, old_root, new_root, proof
    yield old, new * 2, old_root, new_root, proof
    yield old, new // 2, old_root, new_root, proof
    yield old, new, SOME_HASH, new_root, proof
    yield old, new, old_root, SOME_HASH, proof
    yield old, new, new_root, old_root, proof
    yield old, new, old_root, new_root, []
    for extra in (old_root, new_root, proof[0]):
        yield old, new, old_root, new_root, [*proof, extra]
        yield old, new, old_root, new_root, [extra, *proof]
    yield old, new, old_root, new_root, proof[:-1]
    for i in range(len(proof)):
        flipped = bytearray(proof[i])
        flipped[0] ^= 16
        yield old, new, old_root, new_root, [*proof[:i], bytes(flipped), *proof[i + 1 :]]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_corrupted_inclusion_proofs_are_refused(index: int, size: int, path: list[str]) -> None:
    probes = list(corrupted_inclusions(index, size, TREE(0, index), [h(p) for p in path], h(ROOTS[size])))
    for probe in probes:
        with pytest.raises((InvalidProof, ValueError)):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("old", "new", "proof"), [case for case in CONSISTENCY if case[2]])
def test_corrupted_consistency_proofs_are_refused(old: int, new: int, proof: list[str]) -> None:
    for probe in corrupted_consistencies(old, new, h(ROOTS[old]), h(ROOTS[new]), [h(p) for p in proof]):
        with pytest.raises((InvalidProof, ValueError)):
            verify_consistency(*probe)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),  # sizes that need no proof take none
        (3, 3, h(ROOTS[3]), h(ROOTS[3]), [EMPTY_ROOT]),
        (3, 3, h(ROOTS[3]), SOME_HASH, []),  # two roots at one size: a fork
        (0, 5, SOME_HASH, h(ROOTS[5]), []),  # the empty tree has one root
        (5, 3, h(ROOTS[5]), h(ROOTS[3]), []),  # back in time
    ],
)
def test_the_edge_cases_of_consistency_are_refused(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(InvalidProof):
        verify_consistency(old, new, old_root, new_root, proof)


def test_an_independent_implementation_agrees_on_every_root_and_path_and_our_proofs_join_its_roots() -> None:
    entries = [bytes([i, (i * 7) % 256, i // 3]) for i in range(70)]
    theirs = InmemoryTree(algorithm="sha256")
    for entry in entries:
        theirs.append_entry(entry)
    ours = LeafList([leaf_hash(entry) for entry in entries])

    for size in range(1, 71):
        their_root = theirs.get_root(size)
        assert root(size, ours) == their_root
        for index in range(size):
            path = inclusion_path(index, size, ours)
            # pymerkle numbers leaves from 1 and puts the leaf itself first in its path.
            their_path = [bytes.fromhex(node) for node in theirs.prove_inclusion(index + 1, size).serialize()["path"]]
            assert path == their_path[1:]
            verify_inclusion(index, size, leaf_hash(entries[index]), path, their_root)
        for old in range(size + 1):
            old_root = theirs.get_root(old) if old else EMPTY_ROOT
            verify_consistency(old, size, old_root, their_root, consistency_proof(old, size, ours))


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [(0.0, 1, []), (True, 2, [TREE(0, 0)]), (0, 1.0, []), ("0", 1, []), (0, 2, None), (0, 2, iter([TREE(0, 1)]))],
)
def test_a_proof_is_about_integers_and_a_list_of_hashes(index: object, size: object, path: object) -> None:
    with pytest.raises(InvalidProof):
        verify_inclusion(index, size, TREE(0, 0), path, TREE(0, 0))  # type: ignore[arg-type]
