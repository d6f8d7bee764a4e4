"""Write cost: DynamoDB calls and write units per event, for a single event and a batch
of 25, each with and without an idempotency key.

The calls are counted, not assumed: every request the layer's client sends while
audit_log.recording.record_events stores the events is captured (a botocore
`provide-client-params` hook) against moto. moto does not bill, so the write units of each
captured request are computed from the items it actually carries, by DynamoDB's published
rules:

- an item's size: attribute names plus values (strings in UTF-8, numbers about one byte
  per two digits plus one, 3 bytes per map or list plus 1 per element);
- a standard write costs 1 unit per KB of item, rounded up; a write inside a transaction
  costs 2 per KB;
- each global secondary index whose key attributes the item carries takes one more write
  of the index entry, sized by the attributes it projects (ALL here: the whole item), at
  the standard rate (if AWS bills transaction-driven index writes at 2x as well, the
  transactional rows rise by 1 unit per index per KB).

The indexes and their projections are read from template.yaml, not restated here.

Each captured request also asks for DynamoDB's own count (`ReturnConsumedCapacity:
INDEXES`), and what the engine answers is reported beside the derived figure. moto answers
a fixed 1.0 per PutItem, whatever the item's size or indexes, and nothing for a
transaction: it does not bill, so the derived units are the ones to read here. Against
DynamoDB itself the same request gives the billed figure.
"""

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from audit_log import events_table
from audit_log.event_rules import EventIn
from audit_log.recording import record_events
from bench import dataset
from bench.progress import progress
from bench.tables import TABLE, in_process_tables
from devtools.template import load_template, resource

BATCH = 25
GOALS = {False: 3, True: 5}  # with an idempotency key → at most this many units per event
# (request, with an idempotency key, events per request)
SCENARIOS = [
    ("single", False, 1),
    ("single", True, 1),
    (f"batch of {BATCH}", False, BATCH),
    (f"batch of {BATCH}", True, BATCH),
]


def attribute_size(value: dict[str, Any]) -> int:
    """Size of one attribute value in DynamoDB's typed form (`{"S": "…"}`), name excluded."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = content.lstrip("-").replace(".", "").strip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(inner) + 1 for name, inner in content.items())
    if kind == "L":
        return 3 + sum(attribute_size(inner) + 1 for inner in content)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: element}) for element in content)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Size of a whole item as DynamoDB counts it for capacity."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...]

    def entry_size(self, item: dict[str, Any], table_keys: tuple[str, ...]) -> int:
        """The index entry written for `item`: what the index projects of it."""
        if self.projection == "ALL":
            return item_size(item)
        kept = {*self.keys, *table_keys, *self.included}
        return item_size({name: value for name, value in item.items() if name in kept})


@cache
def table_indexes() -> tuple[tuple[str, ...], tuple[Index, ...]]:
    """The events table's key attributes and its global secondary indexes, from the
    template (parsed once: every captured request needs them)."""
    properties = resource(load_template(), "EventsTable")["Properties"]
    table_keys = tuple(str(key["AttributeName"]) for key in properties["KeySchema"])
    indexes = tuple(
        Index(
            name=str(gsi["IndexName"]),
            keys=tuple(str(key["AttributeName"]) for key in gsi["KeySchema"]),
            projection=str(gsi["Projection"]["ProjectionType"]),
            included=tuple(str(name) for name in gsi["Projection"].get("NonKeyAttributes", ())),
        )
        for gsi in properties.get("GlobalSecondaryIndexes", [])
    )
    return table_keys, indexes


@dataclass
class Units:
    """Write units by where they go, summed over the captured requests."""

    events: float = 0
    markers: float = 0
    indexes: float = 0
    sizes: list[int] = field(default_factory=list)  # event item sizes, bytes

    @property
    def total(self) -> float:
        return self.events + self.markers + self.indexes


def units_of(operation: str, params: dict[str, Any], units: Units) -> None:
    """Add the write units one captured request costs to `units`."""
    table_keys, indexes = table_indexes()
    if operation == "PutItem":
        puts, rate = [params["Item"]], 1
    elif operation == "TransactWriteItems":
        kinds = {kind for entry in params["TransactItems"] for kind in entry}
        if kinds != {"Put"}:  # ConditionCheck, Update and Delete would need costing too
            raise AssertionError(f"a transaction with {sorted(kinds)}: only Put entries are costed here")
        puts, rate = [entry["Put"]["Item"] for entry in params["TransactItems"]], 2
    else:
        raise AssertionError(f"record_events made an unexpected {operation} call")
    for item in puts:
        size = item_size(item)
        cost = rate * math.ceil(size / 1024)
        if item["pk"]["S"].startswith("idem#"):
            units.markers += cost
        else:
            units.events += cost
            units.sizes.append(size)
        for index in indexes:
            if all(key in item for key in index.keys):
                units.indexes += math.ceil(index.entry_size(item, table_keys) / 1024)


@dataclass
class CallLog:
    """Every request the client sends: (operation, parameters as passed), each asking for
    the engine's ConsumedCapacity, and the capacity units the engine reported (None: it
    reported none for that request)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reported: list[float | None] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))
        params["ReturnConsumedCapacity"] = "INDEXES"

    def answered(self, parsed: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        self.reported.append(sum(float(entry.get("CapacityUnits", 0)) for entry in entries) if entries else None)


@dataclass(frozen=True)
class WriteRow:
    request: str
    with_key: bool
    events: int
    calls: int
    operations: str
    units: Units
    max_item_bytes: int
    min_item_bytes: int
    reported_units: float | None  # the engine's own ConsumedCapacity, summed; None if any call had none

    @property
    def reported_per_event(self) -> float | None:
        return None if self.reported_units is None else self.reported_units / self.events

    @property
    def calls_per_event(self) -> float:
        return self.calls / self.events

    @property
    def units_per_event(self) -> float:
        return self.units.total / self.events

    @property
    def goal(self) -> int:
        return GOALS[self.with_key]

    @property
    def met(self) -> bool | None:
        """None when an event was over 1 KiB: the goal is set for events up to that size."""
        if self.max_item_bytes > 1024:
            return None
        return self.units_per_event <= self.goal

    @property
    def per_event(self) -> tuple[float, float, float]:
        """Write units per event: (the event's own write, its marker, its index entries)."""
        units = self.units
        return units.events / self.events, units.markers / self.events, units.indexes / self.events


@dataclass(frozen=True)
class WriteResult:
    rows: list[WriteRow]
    indexes: tuple[Index, ...]


def run(request: str, events: list[EventIn], with_key: bool, batch: int) -> WriteRow:
    """Record `events` through record_events, `batch` per request, and cost what was sent."""
    log = CallLog()
    client = events_table.dynamodb_client()
    client.meta.events.register("provide-client-params.dynamodb", log)
    client.meta.events.register("after-call.dynamodb", log.answered)
    try:
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            keys = [f"bench-{request}-{start + n}" if with_key else None for n in range(len(chunk))]
            outcomes = record_events(list(zip(chunk, keys, strict=True)), table_name=TABLE, retention_days=0)
            assert not any(outcome.duplicate for outcome in outcomes)
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", log)
        client.meta.events.unregister("after-call.dynamodb", log.answered)
    units = Units()
    for operation, params in log.calls:
        units_of(operation, params, units)
    assert len(units.sizes) == len(events), "every event was written exactly once"
    return WriteRow(
        request=request,
        with_key=with_key,
        events=len(events),
        calls=len(log.calls),
        operations=", ".join(sorted({operation for operation, _ in log.calls})),
        units=units,
        max_item_bytes=max(units.sizes),
        min_item_bytes=min(units.sizes),
        reported_units=None if None in log.reported else sum(value for value in log.reported if value is not None),
    )


def measure() -> WriteResult:
    events = dataset.events(len(SCENARIOS) * BATCH, seed=11)
    rows = []
    with in_process_tables():
        for number, (request, with_key, batch) in enumerate(SCENARIOS):
            progress(f"writes: {request}, {'with' if with_key else 'without'} idempotency key")
            # Distinct events per scenario: nothing here may be answered as a duplicate.
            rows.append(run(request, events[number * BATCH : (number + 1) * BATCH], with_key, batch))
    return WriteResult(rows=rows, indexes=table_indexes()[1])
