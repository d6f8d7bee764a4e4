"""Signed checkpoints: the C2SP tlog-checkpoint body, its ECDSA P-256 / SHA-256
signature, and the public key that checks it offline.

A checkpoint's JSON repeats what its body states (`origin`, `tree_size`, `root_hash`,
`timestamp`) for convenience; only the body is signed, so the verifier reads the tree
head from the body and refuses a checkpoint whose JSON fields say anything else.

    <origin>            LEDGER_ORIGIN/<org_id>
    <tree size>         ASCII decimal, no leading zeros
    <root hash>         standard base64 of the RFC 9162 root
    timestamp <time>    RFC 3339 UTC with milliseconds

Parsing is strict: exactly one text states a tree head, so one head has one signature
input.
"""

import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from audit_log_client._fields import b64, decode_hash, get_str, require_object
from audit_log_client.errors import InputError, VerificationFailed
from audit_log_client.ledger import EMPTY_ROOT, MAX_TREE_SIZE

ALGORITHM = "ECDSA_P256_SHA256"
# A key id names a key by the hex SHA-256 of its DER SubjectPublicKeyInfo; the contract
# lets its first 16 digits stand for it.
MIN_KEY_ID_DIGITS = 16

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIMESTAMP = re.compile(r"timestamp ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)")
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class TreeHead:
    """What a signed body states."""

    origin: str
    size: int
    root_hash: bytes
    timestamp: str

    def describe(self) -> str:
        return f"{self.origin} size {self.size} root {b64(self.root_hash)} at {self.timestamp}"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature and fields were verified; `head` comes from its body."""

    head: TreeHead
    key_id: str
    body: str
    signature: bytes


@dataclass(frozen=True)
class PublicKey:
    """A checkpoint key: an ECDSA P-256 public key and its id."""

    key_id: str
    key: ec.EllipticCurvePublicKey

    def names(self, key_id: str) -> bool:
        """Whether `key_id` (all 64 hex digits, or a prefix of at least 16) is this key's."""
        key_id = key_id.lower()
        return len(key_id) >= MIN_KEY_ID_DIGITS and bool(_HEX.fullmatch(key_id)) and self.key_id.startswith(key_id)


def parse_body(body: str) -> TreeHead:
    """The tree head a checkpoint body states; VerificationFailed for any text other
    than the one form the ledger writes."""
    if not body.endswith("\n"):
        raise VerificationFailed("the checkpoint body does not end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) != 4 or not all(lines):
        raise VerificationFailed("the checkpoint body is not four lines: origin, tree size, root hash, timestamp")
    origin, size, root, extension = lines
    if not origin.isprintable() or any(c.isspace() or c == "+" for c in origin):
        raise VerificationFailed("the checkpoint body's origin is not printable text without spaces or '+'")
    if not _SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise VerificationFailed("the checkpoint body's tree size is not a decimal uint64 without leading zeros")
    root_hash = decode_hash(root, "the checkpoint body's root hash")
    if b64(root_hash) != root:
        raise VerificationFailed("the checkpoint body's root hash is not in canonical base64")
    timestamp = _TIMESTAMP.fullmatch(extension)
    if timestamp is None or not _is_real_time(timestamp.group(1)):
        raise VerificationFailed("the checkpoint body's last line is not 'timestamp YYYY-MM-DDTHH:MM:SS.mmmZ'")
    return TreeHead(origin, int(size), root_hash, timestamp.group(1))


def _is_real_time(timestamp: str) -> bool:
    try:
        datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def load_public_key(text: str) -> PublicKey:
    """A public key from PEM text or from the JSON `GET /ledger/public-key` answers;
    InputError for anything else (an RSA key, a key of another curve, a JSON whose
    key_id does not name its own key)."""
    stripped = text.lstrip()
    claimed: str | None = None
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise InputError(f"the public key file is not JSON: {exc}") from exc
        pem = document.get("public_key_pem") if isinstance(document, dict) else None
        if not isinstance(pem, str):
            raise InputError("the public key JSON has no public_key_pem")
        if document.get("algorithm", ALGORITHM) != ALGORITHM:
            raise InputError(f"the public key's algorithm is {document.get('algorithm')!r}, not {ALGORITHM}")
        claimed = document.get("key_id")
        if claimed is not None and not isinstance(claimed, str):
            raise InputError("the public key JSON's key_id is not a string")
    else:
        pem = text
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError("the public key is not a PEM public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InputError("the public key is not an ECDSA P-256 key")
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_key = PublicKey(hashlib.sha256(spki).hexdigest(), key)
    if claimed is not None and not public_key.names(claimed):
        raise InputError(f"the public key JSON's key_id {claimed} is not its key's id {public_key.key_id}")
    return public_key


def read_public_key(path: str | Path) -> PublicKey:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the public key {path}: {exc}") from exc
    return load_public_key(text)


def verify_checkpoint(document: object, key: PublicKey, what: str = "the checkpoint") -> Checkpoint:
    """The checkpoint in `document` (a checkpoint as the API answers it), once its body
    parses, it names `key`, `key`'s signature covers the body, and each JSON field beside
    the body says what the body says; VerificationFailed naming the first thing that
    does not hold."""
    checkpoint = require_object(document, what)
    body = get_str(checkpoint, "body", what)
    key_id = get_str(checkpoint, "key_id", what)
    signature_text = get_str(checkpoint, "signature", what)
    head = parse_body(body)
    if not key.names(key_id):
        raise VerificationFailed(f"{what} was signed by key {key_id}, not by the given key {key.key_id}")
    signature = _decode_signature(signature_text, what)
    try:
        key.key.verify(signature, body.encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        raise VerificationFailed(
            f"the signature of {what} is not the given key's ({key.key_id[:16]}) signature of its body"
        ) from exc
    stated: Mapping[str, Any] = {
        "origin": head.origin,
        "tree_size": head.size,
        "root_hash": b64(head.root_hash),
        "timestamp": head.timestamp,
    }
    for name, value in stated.items():
        field = checkpoint.get(name)
        if field != value or type(field) is not type(value):
            raise VerificationFailed(f"the {name} of {what} ({field!r}) is not what its signed body states ({value!r})")
    if head.size == 0 and head.root_hash != EMPTY_ROOT:
        raise VerificationFailed(f"{what} of size 0 states a root other than the empty tree's")
    return Checkpoint(head=head, key_id=key_id, body=body, signature=signature)


def _decode_signature(text: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode(), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise VerificationFailed(f"the signature of {what} is not standard base64") from exc
