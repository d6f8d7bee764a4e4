"""The auditor's client verifies offline what the service signs and proves, and only that.

Its RFC 9162 code is checked against the Certificate Transparency vectors (the layer's
tests hold them), against pymerkle (an independent tree) and against the layer's own
proofs for many sizes; its entries against the layer's RFC 8785 entries; its checkpoint
checks against checkpoints the layer's functions write, signed here with a local P-256
key (what KMS does in the service). Every tampering names what failed.
"""

import ast
import base64
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from audit_log.ledger import hashing as layer_hashing
from audit_log.ledger.checkpoints import TreeHead, checkpoint_body
from audit_log.ledger.entries import entry_bytes as layer_entry_bytes
from audit_log.ledger.entries import event_leaf_hash as layer_event_leaf_hash
from audit_log.ledger.signing import public_key_from_der, verify_signature
from audit_log_client import cli
from audit_log_client.checkpoints import load_public_key, parse_body, verify_checkpoint
from audit_log_client.errors import ForkDetected, InputError, VerificationFailed
from audit_log_client.ledger import (
    EMPTY_ROOT,
    TreeBuilder,
    _fast_json,
    entry_bytes,
    event_leaf_hash,
    event_matches_leaf,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from audit_log_client.verify import verify_checkpoints_consistent, verify_event_proof
from tests.conftest import ROOT
from tests.unit.test_ledger_hashing import (
    CONSISTENCY,
    ENTRIES,
    INCLUSION,
    ROOTS,
    corrupted_consistencies,
    corrupted_inclusions,
)

h = bytes.fromhex
ORIGIN = "audit-log.local/audit-log/org_acme"
TIME = "2026-11-26T09:15:02.120Z"
CLIENT_SOURCE = ROOT / "clients/python/src/audit_log_client"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


# --- what the service serves, built with the layer's own functions ---------------------


@dataclass
class Signer:
    """A local stand-in for the KMS checkpoint key."""

    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> Any:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return public_key_from_der(der)

    def key_document(self) -> dict[str, str]:
        """GET /ledger/public-key."""
        return {"key_id": self.public.key_id, "algorithm": "ECDSA_P256_SHA256", "public_key_pem": self.public.pem}

    def client_key(self) -> Any:
        return load_public_key(json.dumps(self.key_document()))

    def checkpoint(self, size: int, root: bytes, origin: str = ORIGIN, timestamp: str = TIME) -> dict[str, Any]:
        """A checkpoint as GET /ledger/checkpoint answers it."""
        body = checkpoint_body(TreeHead(origin, size, root, timestamp))
        signature = self.private.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
        verify_signature(self.public.pem, body, signature)  # what the layer itself accepts
        return {
            "origin": origin,
            "tree_size": size,
            "root_hash": b64(root),
            "timestamp": timestamp,
            "key_id": self.public.key_id,
            "body": body,
            "signature": b64(signature),
        }


SIGNER = Signer()
OTHER = Signer()


def served_event(i: int, **overrides: Any) -> dict[str, Any]:
    """An event as GET /events shows it (signals included, which the entry leaves out)."""
    event: dict[str, Any] = {
        "event_id": f"01JDX2Q7ZP8V4K3M2N1B{i:06d}",
        "event_type": ("user.login", "member.invited", "organisation.settings_updated")[i % 3],
        "occurred_at": f"2026-11-26T09:{i // 60 % 60:02d}:{i % 60:02d}.120Z",
        "recorded_at": f"2026-11-26T09:{i // 60 % 60:02d}:{i % 60:02d}.311Z",
        "actor": {"id": f"usr_{i % 7}", "type": "user", "name": "Ada Lovelace", "email": "ada@example.com"},
        "targets": [{"type": "user", "id": f"usr_{i}", "name": "Grace Hopper"}] if i % 2 else [],
        "context": {"ip_address": "203.0.113.7" if i % 3 else None, "user_agent": "Mozilla/5.0"},
        "details": {"n": i, "note": "é ✓ 𝄞" if i % 5 == 0 else "plain"},
        "signals": ["new_ip"] if i % 4 == 0 else [],
    }
    event.update(overrides)
    return event


class Ledger:
    """An organisation's ledger as the service holds it: events, leaves, and the layer's
    proofs over them."""

    def __init__(self, size: int, signer: Signer = SIGNER) -> None:
        self.events = [served_event(i) for i in range(size)]
        self.leaves = [layer_event_leaf_hash(event) for event in self.events]
        self.tree = layer_hashing.LeafList(self.leaves)
        self.signer = signer

    def root(self, size: int) -> bytes:
        return layer_hashing.root(size, self.tree)

    def checkpoint(self, size: int | None = None) -> dict[str, Any]:
        size = len(self.leaves) if size is None else size
        return self.signer.checkpoint(size, self.root(size))

    def proof(self, index: int, size: int | None = None) -> dict[str, Any]:
        """GET /events/{id}/proof."""
        size = len(self.leaves) if size is None else size
        return {
            "event_id": self.events[index]["event_id"],
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": b64(self.leaves[index]),
            "inclusion_path": [b64(node) for node in layer_hashing.inclusion_path(index, size, self.tree)],
            "checkpoint": self.checkpoint(size),
        }

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        """GET /ledger/consistency."""
        proof = layer_hashing.consistency_proof(old, new, self.tree)
        return {"from": old, "to": new, "proof": [b64(node) for node in proof]}


LEDGER = Ledger(40)


# --- RFC 9162: known answers ---------------------------------------------------------


def test_roots_are_the_reference_roots_at_every_size() -> None:
    leaves = [leaf_hash(entry) for entry in ENTRIES]
    builder = TreeBuilder()
    assert builder.root() == EMPTY_ROOT == h(ROOTS[0])
    for size in range(1, len(ENTRIES) + 1):
        builder.append(leaves[size - 1])
        assert builder.root().hex() == ROOTS[size]
        assert root_hash(leaves[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_reference_inclusion_proofs_verify_and_every_corruption_is_refused(
    index: int, size: int, path: list[str]
) -> None:
    leaf = leaf_hash(ENTRIES[index])
    verify_inclusion(index, size, leaf, [h(node) for node in path], h(ROOTS[size]))
    for probe in corrupted_inclusions(index, size, leaf, [h(node) for node in path], h(ROOTS[size])):
        with pytest.raises(VerificationFailed):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_reference_consistency_proofs_verify_and_every_corruption_is_refused(
    old: int, new: int, proof: list[str]
) -> None:
    verify_consistency(old, new, h(ROOTS[old]), h(ROOTS[new]), [h(node) for node in proof])
    if not proof:
        return
    for probe in corrupted_consistencies(old, new, h(ROOTS[old]), h(ROOTS[new]), [h(node) for node in proof]):
        with pytest.raises(VerificationFailed):
            verify_consistency(*probe)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),  # sizes that need no proof take none
        (3, 3, h(ROOTS[3]), h(ROOTS[3]), [EMPTY_ROOT]),
        (0, 5, h(ROOTS[1]), h(ROOTS[5]), []),  # the empty tree has one root
        (5, 3, h(ROOTS[5]), h(ROOTS[3]), []),  # back in time
        (2, 5, h(ROOTS[2]), h(ROOTS[5]), []),
        (0.0, 5, EMPTY_ROOT, h(ROOTS[5]), []),  # a size is an integer
        (True, 5, h(ROOTS[1]), h(ROOTS[5]), []),
    ],
)
def test_consistency_edge_cases_are_refused(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(VerificationFailed):
        verify_consistency(old, new, old_root, new_root, proof)


def test_two_roots_for_one_size_are_a_fork() -> None:
    with pytest.raises(ForkDetected, match="fork"):
        verify_consistency(3, 3, h(ROOTS[3]), h(ROOTS[4]), [])


@pytest.mark.parametrize("path", [None, iter([]), [b"short"], [EMPTY_ROOT] * 65])
def test_an_inclusion_path_is_a_short_list_of_hashes(path: Any) -> None:
    with pytest.raises(VerificationFailed):
        verify_inclusion(0, 1, EMPTY_ROOT, path, EMPTY_ROOT)


# --- RFC 9162: against an independent tree and the layer, for many sizes --------------


def test_pymerkle_agrees_on_every_root_and_its_inclusion_paths_verify() -> None:
    entries = [bytes([i, (i * 7) % 256, i // 3]) for i in range(70)]
    theirs = InmemoryTree(algorithm="sha256")
    builder = TreeBuilder()
    leaves = [leaf_hash(entry) for entry in entries]
    for entry, leaf in zip(entries, leaves, strict=True):
        theirs.append_entry(entry)
        builder.append(leaf)
        size = builder.size
        their_root = theirs.get_root(size)
        assert builder.root() == their_root
        for index in range(size):
            # pymerkle numbers leaves from 1 and puts the leaf itself first in its path.
            path = [bytes.fromhex(node) for node in theirs.prove_inclusion(index + 1, size).serialize()["path"]][1:]
            verify_inclusion(index, size, leaf_hash(entries[index]), path, their_root)
        for old in range(size + 1):
            old_root = theirs.get_root(old) if old else EMPTY_ROOT
            proof = layer_hashing.consistency_proof(old, size, layer_hashing.LeafList(leaves[:size]))
            verify_consistency(old, size, old_root, their_root, proof)


def test_the_layers_roots_and_proofs_verify_for_many_sizes_and_nothing_else_does() -> None:
    rng = random.Random(9162)
    leaves = [leaf_hash(rng.randbytes(8)) for _ in range(1100)]
    tree = layer_hashing.LeafList(leaves)
    builder = TreeBuilder()
    for size in range(1, len(leaves) + 1):
        builder.append(leaves[size - 1])
        assert builder.root() == layer_hashing.root(size, tree)
    for _ in range(400):
        size = rng.randint(1, len(leaves))
        index, old = rng.randrange(size), rng.randint(0, size)
        top = layer_hashing.root(size, tree)
        path = layer_hashing.inclusion_path(index, size, tree)
        verify_inclusion(index, size, leaves[index], path, top)
        with pytest.raises(VerificationFailed):
            verify_inclusion(index, size, leaves[(index + 1) % len(leaves)], path, top)
        proof = layer_hashing.consistency_proof(old, size, tree)
        old_root = layer_hashing.root(old, tree)
        verify_consistency(old, size, old_root, top, proof)
        if 0 < old < size:
            with pytest.raises(VerificationFailed):
                verify_consistency(old, size, leaves[0] if old > 1 else leaves[1], top, proof)


# --- entries ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(details=st.dictionaries(st.text(max_size=6), json_values, max_size=5), name=st.text())
def test_an_entry_is_the_layers_byte_for_byte_and_only_its_event_matches_its_leaf(
    details: dict[str, Any], name: str
) -> None:
    event = served_event(1, details=details)
    event["actor"]["name"] = name
    try:
        expected = layer_entry_bytes(event)
    except rfc8785.CanonicalizationError:  # a lone surrogate: no JCS form, no leaf
        with pytest.raises(VerificationFailed):
            event_matches_leaf(event, EMPTY_ROOT)
        return
    leaf = layer_hashing.leaf_hash(expected)

    assert entry_bytes(event) == expected
    assert event_leaf_hash(event) == leaf
    assert event_matches_leaf(event, leaf)
    assert event_matches_leaf({**event, "signals": ["anything"]}, leaf)  # signals is not part of it
    assert not event_matches_leaf({**event, "details": {**details, "added by the test": 1}}, leaf)
    assert not event_matches_leaf({**event, "actor": {**event["actor"], "name": name + "x"}}, leaf)


bmp_keys = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=6)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(bmp_keys, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=plain_values)
def test_the_fast_encoder_writes_jcs_for_the_values_it_claims(value: Any) -> None:
    """What `event_matches_leaf` relies on for speed: strings, safe integers, booleans,
    nulls, lists and objects with keys up to U+FFFF serialise as RFC 8785 does."""
    assert _fast_json(value).encode() == rfc8785.dumps(value)
    assert _fast_json.__name__ == "encode" and _fast_json.__qualname__.startswith("_standard_encoder")


def test_entries_that_the_fast_encoder_writes_differently_still_match_by_the_reference() -> None:
    """Floats, keys beyond U+FFFF (sorted by UTF-16 unit, not code point): the standard
    library's bytes differ from JCS, so the match falls back to rfc8785."""
    details = {"\U0001d11e": 1, "\uffff": 2, "ratio": 1e21, "tiny": 1e-7, "half": 0.5}
    event = served_event(3, details=details)
    leaf = layer_event_leaf_hash(event)
    assert json.dumps(details, sort_keys=True, ensure_ascii=False) not in entry_bytes(event).decode()

    assert event_matches_leaf(event, leaf)
    assert not event_matches_leaf(served_event(3, details={**details, "half": 0.25}), leaf)


@pytest.mark.parametrize("missing", ["event_id", "details", "context"])
def test_an_event_without_a_recorded_field_has_no_leaf(missing: str) -> None:
    event = served_event(1)
    del event[missing]
    with pytest.raises(VerificationFailed, match=missing):
        event_matches_leaf(event, LEDGER.leaves[1])


# --- checkpoints --------------------------------------------------------------------------


def test_a_checkpoint_verifies_with_the_key_as_pem_or_as_the_apis_json() -> None:
    checkpoint = LEDGER.checkpoint()
    for key in (load_public_key(SIGNER.public.pem), SIGNER.client_key()):
        verified = verify_checkpoint(checkpoint, key)
        assert verified.head.size == 40
        assert verified.head.root_hash == LEDGER.root(40)
        assert verified.head.origin == ORIGIN
        assert verified.head.timestamp == TIME


def test_the_empty_ledger_has_a_checkpoint_of_size_0_and_no_other_root() -> None:
    assert verify_checkpoint(SIGNER.checkpoint(0, EMPTY_ROOT), SIGNER.client_key()).head.size == 0
    with pytest.raises(VerificationFailed, match="size 0"):
        verify_checkpoint(SIGNER.checkpoint(0, LEDGER.leaves[0]), SIGNER.client_key())


def test_a_checkpoint_signed_by_another_key_names_the_key() -> None:
    forged = OTHER.checkpoint(40, LEDGER.root(40))
    with pytest.raises(VerificationFailed, match=f"signed by key {OTHER.public.key_id}, not by the given key"):
        verify_checkpoint(forged, SIGNER.client_key())


def test_a_checkpoint_signed_by_another_key_under_ours_names_the_signature() -> None:
    forged = {**OTHER.checkpoint(40, LEDGER.root(40)), "key_id": SIGNER.public.key_id}
    with pytest.raises(VerificationFailed, match=r"signature .* is not the given key's"):
        verify_checkpoint(forged, SIGNER.client_key())


def test_a_key_id_may_be_named_by_its_first_16_digits_and_no_fewer() -> None:
    checkpoint = LEDGER.checkpoint()
    verify_checkpoint({**checkpoint, "key_id": SIGNER.public.key_id[:16]}, SIGNER.client_key())
    with pytest.raises(VerificationFailed, match="signed by key"):
        verify_checkpoint({**checkpoint, "key_id": SIGNER.public.key_id[:15]}, SIGNER.client_key())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("origin", "audit-log.local/audit-log/org_other"),
        ("tree_size", 41),
        ("tree_size", "40"),
        ("tree_size", 40.0),
        ("root_hash", b64(EMPTY_ROOT)),
        ("timestamp", "2026-11-27T09:15:02.120Z"),
    ],
)
def test_a_field_beside_the_body_that_says_otherwise_is_named(name: str, value: Any) -> None:
    with pytest.raises(VerificationFailed, match=f"the {name} of the checkpoint .* is not what its signed body states"):
        verify_checkpoint({**LEDGER.checkpoint(), name: value}, SIGNER.client_key())


def test_a_body_changed_after_signing_fails_its_signature() -> None:
    checkpoint = LEDGER.checkpoint()
    body = checkpoint["body"].replace("\n40\n", "\n41\n")
    with pytest.raises(VerificationFailed, match="signature"):
        verify_checkpoint({**checkpoint, "body": body, "tree_size": 41}, SIGNER.client_key())


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "not base64!"},
        {"signature": b64(b"\x30\x06\x02\x01\x01\x02\x01\x01")},  # DER, but not this key's
        {"signature": None},
        {"body": None},
        {"key_id": 7},
    ],
)
def test_a_checkpoint_without_a_usable_signature_fails(change: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed):
        verify_checkpoint({**LEDGER.checkpoint(), **change}, SIGNER.client_key())


@pytest.mark.parametrize(
    "body",
    [
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z",  # no final newline
        "o\n01\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # leading zero
        "o\n-1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n18446744073709551616\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # 2^64
        "o\n1\n{root}\n",  # no timestamp
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\nextra\n",
        "o\n1\n{root}\n\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o p\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "\ufeffo\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n1\n{short}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n1\n{urlsafe}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02Z\n",
        "o\n1\n{root}\ntimestamp 2026-13-99T99:99:99.000Z\n",
        "o\n\uff11\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # a full-width digit
    ],
)
def test_only_the_one_form_the_ledger_writes_is_a_body(body: str) -> None:
    root = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # base64 with '+' and '/'
    text = body.format(root=b64(root), short=b64(root[:31]), urlsafe=base64.urlsafe_b64encode(root).decode())
    with pytest.raises(VerificationFailed):
        parse_body(text)


def test_every_body_the_layer_writes_parses_to_its_head() -> None:
    for size in (0, 1, 40, 2**64 - 1):
        head = TreeHead(ORIGIN, size, LEDGER.root(min(size, 40)), TIME)
        parsed = parse_body(checkpoint_body(head))
        assert (parsed.origin, parsed.size, parsed.root_hash, parsed.timestamp) == (
            head.origin,
            head.size,
            head.root_hash,
            head.timestamp,
        )


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        json.dumps({"key_id": "00" * 32, "algorithm": "ECDSA_P256_SHA256", "public_key_pem": SIGNER.public.pem}),
        json.dumps({**SIGNER.key_document(), "algorithm": "RSASSA_PSS_SHA_256"}),
        json.dumps({"key_id": SIGNER.public.key_id}),
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    ],
    # Fixed ids: the keys are made at collection, and every xdist worker must collect the same tests.
    ids=["not a key", "another key's id", "another algorithm", "an id alone", "an RSA key", "a P-384 key"],
)
def test_only_a_p256_key_that_its_id_names_is_a_checkpoint_key(text: str) -> None:
    with pytest.raises(InputError):
        load_public_key(text)


# --- an event's proof --------------------------------------------------------------------


def test_every_events_proof_verifies_at_every_size() -> None:
    key = SIGNER.client_key()
    for size in (1, 2, 3, 7, 8, 9, 31, 40):
        for index in range(size):
            included = verify_event_proof(LEDGER.proof(index, size), LEDGER.events[index], key)
            assert (included.leaf_index, included.checkpoint.head.size) == (index, size)


def tampered_proofs() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(what must be named, proof, event) for each way an event or its proof can lie."""
    proof, event = LEDGER.proof(5, 40), LEDGER.events[5]
    yield "does not match the proof's leaf hash", proof, {**event, "event_type": "user.logout"}
    yield "does not match the proof's leaf hash", proof, {**event, "details": {}}
    yield "not for event", proof, LEDGER.events[6]
    yield "does not match the proof's leaf hash", {**proof, "leaf_hash": b64(LEDGER.leaves[6])}, event
    yield "does not lead from leaf 6", {**proof, "leaf_index": 6}, event
    yield "tree size 39, its checkpoint has size 40", {**proof, "tree_size": 39}, event
    path = proof["inclusion_path"]
    yield "does not lead from leaf 5", {**proof, "inclusion_path": [path[1], path[0], *path[2:]]}, event
    yield "too short", {**proof, "inclusion_path": path[:-1]}, event
    yield "longer than the tree is high", {**proof, "inclusion_path": [*path, path[0]]}, event
    yield "signed by key", {**proof, "checkpoint": OTHER.checkpoint(40, LEDGER.root(40))}, event
    yield "root_hash", {**proof, "checkpoint": {**proof["checkpoint"], "root_hash": b64(LEDGER.root(39))}}, event
    yield "integer leaf_index", {**proof, "leaf_index": "5"}, event


@pytest.mark.parametrize(("failure", "proof", "event"), list(tampered_proofs()))
def test_a_tampered_event_or_proof_is_named(failure: str, proof: dict[str, Any], event: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed, match=failure):
        verify_event_proof(proof, event, SIGNER.client_key())


# --- consistency of two checkpoints ------------------------------------------------------


def test_checkpoints_of_a_growing_ledger_are_consistent() -> None:
    key = SIGNER.client_key()
    for old in range(41):
        for new in range(old, 41, 3):
            proof = LEDGER.consistency(old, new)
            verify_checkpoints_consistent(LEDGER.checkpoint(old), LEDGER.checkpoint(new), proof, key)


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork() -> None:
    other_history = Ledger(40)
    other_history.events[3]["details"] = {"rewritten": True}
    other_history.leaves[3] = layer_event_leaf_hash(other_history.events[3])
    other_history.tree = layer_hashing.LeafList(other_history.leaves)
    with pytest.raises(ForkDetected, match="fork: two signed checkpoints of size 40"):
        verify_checkpoints_consistent(
            LEDGER.checkpoint(), other_history.checkpoint(), {"from": 40, "to": 40, "proof": []}, SIGNER.client_key()
        )


def test_a_rewritten_prefix_fails_the_consistency_proof() -> None:
    rewritten = Ledger(40)
    del rewritten.events[3], rewritten.leaves[3]
    rewritten.tree = layer_hashing.LeafList(rewritten.leaves)
    with pytest.raises(VerificationFailed, match="consistency proof does not lead"):
        verify_checkpoints_consistent(
            LEDGER.checkpoint(20), rewritten.checkpoint(39), rewritten.consistency(20, 39), SIGNER.client_key()
        )


OLD, NEW, PROOF = LEDGER.checkpoint(10), LEDGER.checkpoint(31), LEDGER.consistency(10, 31)


@pytest.mark.parametrize(
    ("failure", "old", "new", "proof"),
    [
        ("from size 10 to 30, not from 10 to 31", OLD, NEW, LEDGER.consistency(10, 30)),
        ("larger than the new one", NEW, OLD, PROOF),
        ("two ledgers", SIGNER.checkpoint(10, LEDGER.root(10), origin="x/org_b"), NEW, PROOF),
        ("signed by key", OLD, OTHER.checkpoint(31, LEDGER.root(31)), PROOF),
        ("does not lead", OLD, NEW, {**PROOF, "proof": [b64(EMPTY_ROOT), *PROOF["proof"][1:]]}),
        ("no proof list", OLD, NEW, {"from": 10, "to": 31}),
    ],
)
def test_an_inconsistent_pair_is_named(failure: str, old: Any, new: Any, proof: Any) -> None:
    with pytest.raises(VerificationFailed, match=failure):
        verify_checkpoints_consistent(old, new, proof, SIGNER.client_key())


# --- the verify commands -----------------------------------------------------------------


def write(directory: Path, name: str, document: Any) -> str:
    path = directory / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_verify_checkpoint_prints_the_head_or_what_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write(tmp_path, "key.pem", SIGNER.public.pem)
    good = write(tmp_path, "good.json", LEDGER.checkpoint())
    forged = write(tmp_path, "forged.json", OTHER.checkpoint(40, LEDGER.root(40)))

    assert cli.main(["verify", "checkpoint", good, "--public-key", key]) == 0
    assert capsys.readouterr().out == f"OK: {ORIGIN} size 40 root {b64(LEDGER.root(40))} at {TIME}\n"
    assert cli.main(["verify", "checkpoint", forged, "--public-key", key]) == 1
    assert capsys.readouterr().err.startswith(f"FAILED: the checkpoint was signed by key {OTHER.public.key_id}")
    assert cli.main(["verify", "checkpoint", str(tmp_path / "missing.json"), "--public-key", key]) == 2
    assert "cannot read the checkpoint" in capsys.readouterr().err


def test_verify_event_checks_the_event_against_its_proof(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write(tmp_path, "key.json", SIGNER.key_document())
    proof = write(tmp_path, "proof.json", LEDGER.proof(17))
    event = write(tmp_path, "event.json", LEDGER.events[17])
    altered = write(tmp_path, "altered.json", {**LEDGER.events[17], "occurred_at": "2026-11-26T10:00:00.000Z"})

    assert cli.main(["verify", "event", proof, "--event", event, "--public-key", key]) == 0
    event_id = LEDGER.events[17]["event_id"]
    assert capsys.readouterr().out.startswith(f"OK: event {event_id} is leaf 17 of {ORIGIN} size 40")
    assert cli.main(["verify", "event", proof, "--event", altered, "--public-key", key]) == 1
    assert "does not match the proof's leaf hash" in capsys.readouterr().err


def test_verify_consistency_names_a_fork(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write(tmp_path, "key.pem", SIGNER.public.pem)
    old = write(tmp_path, "old.json", LEDGER.checkpoint(12))
    new = write(tmp_path, "new.json", LEDGER.checkpoint(40))
    proof = write(tmp_path, "proof.json", LEDGER.consistency(12, 40))
    fork = write(tmp_path, "fork.json", SIGNER.checkpoint(40, LEDGER.root(39)))
    same = write(tmp_path, "same.json", LEDGER.consistency(40, 40))

    assert cli.main(["verify", "consistency", "--old", old, "--new", new, "--proof", proof, "--public-key", key]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {ORIGIN} size 40 root {b64(LEDGER.root(40))}")
    assert cli.main(["verify", "consistency", "--old", new, "--new", fork, "--proof", same, "--public-key", key]) == 1
    assert capsys.readouterr().err.startswith("FAILED: fork: two signed checkpoints of size 40")


def test_a_key_file_that_is_no_key_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write(tmp_path, "key.pem", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    checkpoint = write(tmp_path, "checkpoint.json", LEDGER.checkpoint())
    assert cli.main(["verify", "checkpoint", checkpoint, "--public-key", key]) == 2
    assert capsys.readouterr().err.startswith("error: the public key is not a PEM public key")


# --- the package stands alone ------------------------------------------------------------


def test_the_client_imports_nothing_of_the_service() -> None:
    for path in CLIENT_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [name for name in names if name == "audit_log" or name.startswith("audit_log.")], path


def test_the_client_runs_where_the_layer_is_not_importable(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "import audit_log_client.cli, audit_log_client.audit, audit_log_client.api\n"
        "assert not any('layers/common/python' in p for p in sys.path), sys.path\n"
        "assert not any(m == 'audit_log' or m.startswith('audit_log.') for m in sys.modules), sorted(sys.modules)\n"
        "try:\n"
        "    import audit_log\n"
        "except ImportError:\n"
        "    print('standalone')\n"
    )
    env = {**os.environ, "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "standalone\n"
