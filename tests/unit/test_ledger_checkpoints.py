"""Checkpoint bodies (C2SP tlog-checkpoint), their KMS signatures (ECDSA P-256, checked
offline with the public key) and ledger entries (RFC 8785 of the event as served)."""

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto import mock_aws

from audit_log.ledger.checkpoints import InvalidCheckpoint, TreeHead, checkpoint_body, parse_body
from audit_log.ledger.entries import entry_bytes, event_leaf_hash
from audit_log.ledger.hashing import EMPTY_ROOT, leaf_hash
from audit_log.ledger.signing import BadSignature, kms_public_key, kms_sign, public_key_from_der, verify_signature
from tests.unit.test_record_validation import valid_event

ROOT = hashlib.sha256(b"a root").digest()
HEAD = TreeHead("audit-log.local/audit-log/org_acme", 20852163, ROOT, "2026-11-26T09:15:02.120Z")


def test_a_body_is_the_c2sp_note_text() -> None:
    body = checkpoint_body(HEAD)

    assert body == (
        "audit-log.local/audit-log/org_acme\n20852163\n"
        f"{base64.b64encode(ROOT).decode()}\ntimestamp 2026-11-26T09:15:02.120Z\n"
    )
    assert parse_body(body) == HEAD


def test_the_empty_tree_has_a_checkpoint_of_size_0() -> None:
    head = TreeHead("audit-log.local/x/org_new", 0, EMPTY_ROOT, "2026-11-26T09:15:02.120Z")

    assert checkpoint_body(head).split("\n")[1:3] == ["0", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]


@pytest.mark.parametrize(
    "body",
    [
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z",  # no final newline
        "o\n01\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # leading zero
        "o\n-1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n18446744073709551616\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # 2^64
        "o\n1\n{root}\n",  # no timestamp
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\nextra\n",
        "o\n1\n{root}\n\ntimestamp 2026-11-26T09:15:02.120Z\n",  # an empty line
        "o\r\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o p\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # a space in the origin
        "\n1\n{root}\ntimestamp 2026-11-26T09:15:02.120Z\n",
        "o\n1\n{short}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # 31 bytes
        "o\n1\n{urlsafe}\ntimestamp 2026-11-26T09:15:02.120Z\n",  # not standard base64
        "o\n1\n{root}\ntimestamp 2026-11-26T09:15:02Z\n",
    ],
)
def test_parse_refuses_any_other_text(body: str) -> None:
    root = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # base64 with '+' and '/'
    text = body.format(
        root=base64.b64encode(root).decode(),
        short=base64.b64encode(root[:31]).decode(),
        urlsafe=base64.urlsafe_b64encode(root).decode(),
    )

    with pytest.raises(InvalidCheckpoint):
        parse_body(text)


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("kms")


def new_key(kms: Any) -> str:
    key_id: str = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    return key_id


def test_a_kms_signature_verifies_offline_with_the_public_key_alone(kms: Any) -> None:
    key = new_key(kms)
    body = checkpoint_body(HEAD)

    signature = kms_sign(kms, key, body)
    public = kms_public_key(kms, key)

    verify_signature(public.pem, body, signature)
    loaded = serialization.load_pem_public_key(public.pem.encode())
    spki = loaded.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public.key_id == hashlib.sha256(spki).hexdigest()


def test_a_signature_over_another_body_or_by_another_key_is_refused(kms: Any) -> None:
    key, other = new_key(kms), new_key(kms)
    body = checkpoint_body(HEAD)
    signature = kms_sign(kms, key, body)

    with pytest.raises(BadSignature):
        verify_signature(kms_public_key(kms, key).pem, body.replace("20852163", "20852164"), signature)
    with pytest.raises(BadSignature):
        verify_signature(kms_public_key(kms, other).pem, body, signature)
    with pytest.raises(BadSignature):
        verify_signature(kms_public_key(kms, key).pem, body, signature[:-1] + bytes([signature[-1] ^ 1]))


def test_only_a_p256_key_names_checkpoints() -> None:
    for key in (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP384R1()),
    ):
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(ValueError, match="P-256"):
            public_key_from_der(der)


def test_an_entry_is_the_rfc8785_form_of_the_event_as_served(post: Any, get: Any) -> None:
    event = valid_event(org_id="org_a", details={"b": 1.0, "a": "é", "n": [1e20, 1e21, 0.1], "z": None})
    assert post("/events", event).status == 201
    (served,) = get().body["events"]

    entry = entry_bytes({**served, "signals": ["new_ip"]})  # signals is never part of it

    decoded = json.loads(entry)
    assert list(decoded) == sorted(decoded)  # keys sorted (UTF-16 code units; these are ASCII)
    assert set(decoded) == set(served) - {"signals"}  # every recorded key the API serves
    assert b'"details":{"a":"\xc3\xa9","b":1,"n":[100000000000000000000,1e+21,0.1],"z":null}' in entry
    assert entry.startswith(b'{"actor":{"email":"ada@example.com","id":"usr_1","name":"Ada Lovelace","type":"user"},')
    assert event_leaf_hash(served) == leaf_hash(entry)


@pytest.mark.parametrize(
    "head",
    [
        TreeHead("audit-log.local/x/org\x00a", 1, ROOT, "2026-11-26T09:15:02.120Z"),  # a control character
        TreeHead("\ufeffaudit-log.local/x/org_a", 1, ROOT, "2026-11-26T09:15:02.120Z"),  # a BOM
        TreeHead("audit-log.local/x/org_a", 5.0, ROOT, "2026-11-26T09:15:02.120Z"),  # type: ignore[arg-type]
        TreeHead("audit-log.local/x/org_a", True, ROOT, "2026-11-26T09:15:02.120Z"),
        TreeHead("audit-log.local/x/org_a", 1, ROOT, "\uff12026-11-26T09:15:02.120Z"),  # a full-width digit
        TreeHead("audit-log.local/x/org_a", 1, ROOT, "2026-13-99T99:99:99.000Z"),
    ],
)
def test_no_body_is_written_for_a_head_no_checkpoint_may_state(head: TreeHead) -> None:
    with pytest.raises(ValueError, match=r"origin|size|timestamp"):
        checkpoint_body(head)


def test_a_root_line_that_is_not_ascii_is_not_a_checkpoint() -> None:
    body = checkpoint_body(HEAD).split("\n")
    body[2] = "é" * 44

    with pytest.raises(InvalidCheckpoint):
        parse_body("\n".join(body))
