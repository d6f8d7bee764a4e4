"""Destination secrets (a webhook's signing secret, a Splunk token, a Datadog API key),
encrypted with the streams' KMS key. The encryption context binds each ciphertext to its
organisation and stream, so a ciphertext copied onto another stream does not decrypt."""

import base64
import secrets as random_bytes

from audit_log import aws_clients

WEBHOOK_SECRET_BYTES = 32


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(random_bytes.token_bytes(WEBHOOK_SECRET_BYTES)).decode("ascii")


def _context(org_id: str, stream_id: str) -> dict[str, str]:
    return {"org_id": org_id, "stream_id": stream_id}


def encrypt(key_id: str, org_id: str, stream_id: str, secret: str) -> bytes:
    answer = aws_clients.kms().encrypt(
        KeyId=key_id, Plaintext=secret.encode("utf-8"), EncryptionContext=_context(org_id, stream_id)
    )
    return answer["CiphertextBlob"]


def decrypt(org_id: str, stream_id: str, ciphertext: bytes) -> str:
    answer = aws_clients.kms().decrypt(CiphertextBlob=ciphertext, EncryptionContext=_context(org_id, stream_id))
    return answer["Plaintext"].decode("utf-8")
