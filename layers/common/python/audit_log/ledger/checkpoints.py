"""Checkpoint bodies in the C2SP tlog-checkpoint format: the note text a checkpoint's
signature covers.

    <origin>            LEDGER_ORIGIN/<org_id>
    <tree size>         ASCII decimal, no leading zeros
    <root hash>         standard base64 of the RFC 9162 root
    timestamp <time>    one extension line: when the checkpoint was made (RFC 3339, UTC, ms)

Every line is non-empty and ends with a newline (U+000A), as the C2SP signed-note text
does. `parse_body` is strict: it accepts exactly the text `checkpoint_body` writes, so
one tree head has one body and one signature input.
"""

import base64
import re
from dataclasses import dataclass
from datetime import datetime

from audit_log.ledger.hashing import HASH_SIZE, MAX_TREE_SIZE

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIMESTAMP = re.compile(r"timestamp ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)")


class InvalidCheckpoint(ValueError):
    """Text that is not a checkpoint body this ledger writes."""


@dataclass(frozen=True)
class TreeHead:
    origin: str
    size: int
    root_hash: bytes
    timestamp: str


def checkpoint_body(head: TreeHead) -> str:
    """The note text of `head`; ValueError for a head no checkpoint may state."""
    if not head.origin.isprintable() or any(c.isspace() or c == "+" for c in head.origin) or not head.origin:
        raise ValueError("an origin is non-empty printable text, without spaces or '+'")
    if type(head.size) is not int or not 0 <= head.size <= MAX_TREE_SIZE or len(head.root_hash) != HASH_SIZE:
        raise ValueError("a tree head has a size within 0..2^64-1 and a 32-byte root")
    if not _TIMESTAMP.fullmatch(f"timestamp {head.timestamp}") or not _is_real_time(head.timestamp):
        raise ValueError("a tree head's timestamp is UTC with milliseconds, e.g. 2026-11-26T09:15:02.120Z")
    root = base64.b64encode(head.root_hash).decode()
    return f"{head.origin}\n{head.size}\n{root}\ntimestamp {head.timestamp}\n"


def _is_real_time(timestamp: str) -> bool:
    try:
        datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def parse_body(body: str) -> TreeHead:
    """The tree head a body states; InvalidCheckpoint for any other text."""
    if not body.endswith("\n"):
        raise InvalidCheckpoint("a checkpoint body ends with a newline")
    lines = body[:-1].split("\n")
    if len(lines) != 4 or not all(lines):
        raise InvalidCheckpoint("a checkpoint body is origin, size, root hash and timestamp lines")
    origin, size, root, extension = lines
    if not _SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise InvalidCheckpoint("the tree size is a decimal number without leading zeros")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except ValueError as exc:  # binascii.Error, or text that is not ASCII
        raise InvalidCheckpoint("the root hash is standard base64") from exc
    timestamp = _TIMESTAMP.fullmatch(extension)
    if len(root_hash) != HASH_SIZE or timestamp is None:
        raise InvalidCheckpoint("the root hash is 32 bytes and the last line its timestamp")
    head = TreeHead(origin, int(size), root_hash, timestamp.group(1))
    try:
        canonical = checkpoint_body(head)
    except ValueError as exc:
        raise InvalidCheckpoint(str(exc)) from exc
    if canonical != body:
        raise InvalidCheckpoint("not the one form this ledger writes")
    return head
