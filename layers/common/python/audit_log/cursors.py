"""Page cursors: opaque to clients, HMAC-SHA256-signed with CURSOR_SECRET, and bound to
the organisation and the filter set they were issued for.

A cursor carries only the sort key of the last event served. The partition queried is
always derived from the caller's authorizer context, never from the cursor, so even a
forged cursor could not reach another organisation; the signature makes forging one
fail outright.
"""

import base64
import binascii
import hashlib
import hmac
import json

from audit_log.errors import InvalidCursor

_VERSION = 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Decode, accepting only the one encoding _b64 produces: base64 leaves spare bits in
    its last character, and a cursor altered there must not pass as the original."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def encode_cursor(secret: str, org_id: str, filter_digest: str, last_sort_key: str) -> str:
    payload = json.dumps(
        {"v": _VERSION, "o": org_id, "f": filter_digest, "k": last_sort_key}, separators=(",", ":")
    ).encode()
    return f"{_b64(payload)}.{_b64(_sign(secret, payload))}"


def decode_cursor(secret: str, org_id: str, filter_digest: str, cursor: str) -> str:
    """The last sort key served, if `cursor` is ours, untouched, and for this caller and
    these filters; InvalidCursor otherwise."""
    try:
        encoded_payload, encoded_signature = cursor.split(".")
        payload = _unb64(encoded_payload)
        signature = _unb64(encoded_signature)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("is not a cursor this API issued") from exc
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        raise InvalidCursor("is not a cursor this API issued, or was altered")
    fields = json.loads(payload)
    if fields.get("o") != org_id:
        raise InvalidCursor("was issued to another organisation")
    if fields.get("f") != filter_digest:
        raise InvalidCursor("was issued for other filters; repeat the same filters to page on")
    last_sort_key = fields.get("k")
    if fields.get("v") != _VERSION or not isinstance(last_sort_key, str):
        raise InvalidCursor("is from an incompatible version")
    return last_sort_key
