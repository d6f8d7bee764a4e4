"""Splitting a batch of events into request bodies no larger than a destination takes,
and sending them in order (the batch destinations: Splunk HEC, Datadog)."""

from collections.abc import Callable, Iterator, Sequence

from audit_log.streams.formats import LeafEvent, Outcome
from audit_log.streams.transport import Connection, DeliveryFailed, accepted


def chunks(
    events: Sequence[LeafEvent], encode: Callable[[LeafEvent], bytes], *, most_bytes: int, most_events: int
) -> Iterator[tuple[int, list[bytes]]]:
    """(how many events precede the chunk, the chunk's encoded events), in order. An
    event larger than `most_bytes` goes alone (the destination will say if it refuses)."""
    start, size = 0, 0
    current: list[bytes] = []
    for index, leaf in enumerate(events):
        encoded = encode(leaf)
        if current and (size + len(encoded) + 1 > most_bytes or len(current) >= most_events):
            yield start, current
            start, current, size = index, [], 0
        current.append(encoded)
        size += len(encoded) + 1
    if current:
        yield start, current


def post_in_chunks(
    connection: Connection,
    events: Sequence[LeafEvent],
    encode: Callable[[LeafEvent], bytes],
    join: Callable[[list[bytes]], bytes],
    headers: dict[str, str],
    *,
    most_bytes: int,
    most_events: int,
    path: str | None = None,
) -> Outcome:
    """POST the events in chunks, in order, until one is refused: how far they got. The
    connection is closed afterwards."""
    try:
        for start, encoded in chunks(events, encode, most_bytes=most_bytes, most_events=most_events):
            try:
                accepted(connection.post(join(encoded), headers, path), connection.target.host)
            except DeliveryFailed as failed:
                return Outcome(start, str(failed))
    finally:
        connection.close()
    return Outcome(len(events))
