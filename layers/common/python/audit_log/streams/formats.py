"""What delivery hands every destination: events in ledger order, each with its leaf."""

from dataclasses import dataclass
from typing import Any

# Signals are derived after recording (by the investigation indexer) and may not exist
# yet when an event is delivered: a stream carries the event as recorded; GET /events
# shows its signals.
NOT_STREAMED = frozenset({"signals"})


@dataclass(frozen=True)
class LeafEvent:
    leaf_index: int
    event: dict[str, Any]  # as GET /events serves it, without signals


@dataclass(frozen=True)
class Stream:
    """What delivery needs of a stream: whose, where, and the destination's secret."""

    org_id: str
    stream_id: str
    type: str
    destination: dict[str, Any]
    secret: str | None


@dataclass(frozen=True)
class Outcome:
    """How far a batch got: the first `delivered` events are at the destination; `error`
    says why the rest are not (None: all of them are)."""

    delivered: int
    error: str | None = None
