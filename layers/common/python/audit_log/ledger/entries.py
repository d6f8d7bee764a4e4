"""Ledger entries: the bytes a leaf hashes, recomputable by anyone from what the API or
an export shows.

An event's entry is the RFC 8785 (JCS) serialisation, UTF-8, of the event exactly as
`GET /events` returns it, restricted to the recorded fields (all their keys, `null`s
included); `signals`, derived after recording, is not part of it.
"""

from collections.abc import Mapping
from typing import Any

import rfc8785

from audit_log.ledger.hashing import leaf_hash

ENTRY_FIELDS = ("event_id", "event_type", "occurred_at", "recorded_at", "actor", "targets", "context", "details")


def entry_bytes(event: Mapping[str, Any]) -> bytes:
    """The entry of `event` as served (KeyError if a recorded field is missing)."""
    return rfc8785.dumps({field: event[field] for field in ENTRY_FIELDS})


def event_leaf_hash(event: Mapping[str, Any]) -> bytes:
    return leaf_hash(entry_bytes(event))
