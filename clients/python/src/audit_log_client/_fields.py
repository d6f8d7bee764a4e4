"""Typed reads of the JSON the service and its files carry. Every check fails with
VerificationFailed naming the field, so a malformed proof or checkpoint is reported as
evidence that does not verify rather than as a crash."""

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit_log_client.errors import InputError, VerificationFailed

HASH_SIZE = 32


def require_object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise VerificationFailed(f"{what} is not a JSON object")
    return value


def get_str(obj: Mapping[str, Any], name: str, what: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise VerificationFailed(f"{what} has no {name} string")
    return value


def get_int(obj: Mapping[str, Any], name: str, what: str) -> int:
    """An integer field; a bool or a float (1.0) is refused, since JSON `true` or `0.0` must
    not pass for a leaf index or a tree size."""
    value = obj.get(name)
    if type(value) is not int:
        raise VerificationFailed(f"{what} has no integer {name}")
    return value


def decode_hash(text: object, what: str) -> bytes:
    """32 bytes from standard base64, strictly (no URL-safe alphabet, no stray characters)."""
    if not isinstance(text, str) or not text.isascii():
        raise VerificationFailed(f"{what} is not standard base64")
    try:
        value = binascii.a2b_base64(text.encode(), strict_mode=True)
    except binascii.Error as exc:
        raise VerificationFailed(f"{what} is not standard base64") from exc
    if len(value) != HASH_SIZE:
        raise VerificationFailed(f"{what} is not a 32-byte hash")
    return value


def get_hash(obj: Mapping[str, Any], name: str, what: str) -> bytes:
    return decode_hash(obj.get(name), f"the {name} of {what}")


def get_hash_list(obj: Mapping[str, Any], name: str, what: str, limit: int) -> list[bytes]:
    """A list of base64 hashes, at most `limit` long: no tree of a uint64 size needs more,
    so a longer list is not a proof (and is refused before any hashing)."""
    value = obj.get(name)
    if not isinstance(value, list):
        raise VerificationFailed(f"{what} has no {name} list")
    if len(value) > limit:
        raise VerificationFailed(f"the {name} of {what} is longer than any tree needs ({len(value)} hashes)")
    return [decode_hash(item, f"hash {i} of the {name} of {what}") for i, item in enumerate(value)]


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def load_json_file(path: str | Path, what: str) -> Any:
    """The JSON in `path`; InputError when it cannot be read or is not JSON at all."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} {path} is not JSON: {exc}") from exc
