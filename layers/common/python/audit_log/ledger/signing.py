"""Checkpoint signatures: ECDSA P-256 with SHA-256 over the UTF-8 body, made by an AWS
KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that never leaves KMS, and checked with
its public key anywhere, offline.

A key is named by `key_id`: the hex SHA-256 of its DER SubjectPublicKeyInfo, so anyone
holding the public key computes the same name without asking the service. ECDSA
signatures are malleable (s and n - s both verify): a checkpoint is named by its body,
never by its signature bytes.

`cryptography` is imported by the two functions that use it, not with this module: most
requests of the functions that import it (the ledger's reads, exports, the sealer) never
parse a key, and loading its native library costs each cold start about 20 ms.
"""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type stubs only; not shipped in the layer
    from mypy_boto3_kms import KMSClient

ALGORITHM = "ECDSA_P256_SHA256"


class BadSignature(ValueError):
    """A signature that the key did not make over this body."""


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    pem: str


def public_key_from_der(der: bytes) -> PublicKey:
    """The P-256 public key in `der` (SubjectPublicKeyInfo), named by its hash; ValueError
    for any other key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("a checkpoint key is an ECDSA P-256 key")
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return PublicKey(key_id=hashlib.sha256(spki).hexdigest(), pem=pem)


def kms_public_key(kms: "KMSClient", kms_key_id: str) -> PublicKey:
    return public_key_from_der(kms.get_public_key(KeyId=kms_key_id)["PublicKey"])


def kms_sign(kms: "KMSClient", kms_key_id: str, body: str) -> bytes:
    """The DER ECDSA signature of `body` by the KMS key (KMS hashes the raw message)."""
    answer = kms.sign(KeyId=kms_key_id, Message=body.encode(), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    return answer["Signature"]


def verify_signature(public_key_pem: str, body: str, signature: bytes) -> None:
    """BadSignature unless `signature` is the key's ECDSA P-256 / SHA-256 signature of
    the UTF-8 `body`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadSignature("not an ECDSA P-256 key")
    try:
        key.verify(signature, body.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise BadSignature("the signature does not match the body and key") from exc
