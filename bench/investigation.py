"""The investigation helpers' costs: what indexing adds per event recorded (write units
by kind: target copies, actors, event types, first logins and signals), and what one
page of a resource's history reads beside the hand-rolled alternative.

Writes are counted from every request the indexer sends (a botocore `provide-client-params`
hook on the layer's client): a put or batch put costs its item's size in KB, rounded up; an
update costs the size of the item it leaves, and one more write (two when its key
moves) on the index that holds it (actors on `by_recency`). Stream batches of 100 of one
dataset's events, as Lambda hands them over. Counts, not times: they do not depend on the
machine.
"""

import math
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from audit_log.investigation import indexing
from audit_log.querying import Filters, read_page
from bench import dataset
from bench.progress import progress
from bench.reads import QueryCounter
from bench.tables import TABLE, in_process_tables, put_items, to_wire
from bench.writes import item_size

INVESTIGATION = os.environ["INVESTIGATION_TABLE_NAME"]
EVENTS = 5_000
BATCH = 100
LIMIT = 50
CURSOR_SECRET = "bench-cursor-secret"


@dataclass
class IndexWrites:
    events: int
    targets: int  # (event, target) pairs
    units: dict[str, float]
    requests: int

    @property
    def per_event(self) -> float:
        return sum(self.units.values()) / max(self.events, 1)

    @property
    def per_target(self) -> float:
        return self.units.get("target copy", 0) / max(self.targets, 1)


@dataclass(frozen=True)
class TargetReads:
    target: str
    served: int
    pages: int
    calls: int
    scanned: int
    returned: int
    baseline_calls: int
    baseline_scanned: int

    @property
    def read_per_returned(self) -> float:
        return self.scanned / max(self.returned, 1)


@dataclass(frozen=True)
class InvestigationResult:
    writes: IndexWrites
    reads: TargetReads


def _kind(pk: str) -> str:
    for marker, kind in (
        ("#target#", "target copy"),
        ("#actor-terms", "actor term"),
        ("#actors", "actor"),
        ("#event-types", "event type"),
        ("#first-logins", "first login"),
        ("#signals", "signal"),
    ):
        if marker in pk:
            return kind
    raise AssertionError(f"an item of no known kind: {pk}")


def _recorded(item: dict[str, Any], sequence: int) -> indexing.RecordedEvent:
    return indexing.RecordedEvent(str(sequence), item["org_id"], item, to_wire(item))


def measure(events: int = EVENTS) -> InvestigationResult:
    with in_process_tables() as client:
        items = [{**item, "pk": f"org#{item['org_id']}"} for item in dataset.stored_items(events)]
        put_items(client, [{k: v for k, v in item.items() if k != "org_id"} for item in items])
        units: Counter[str] = Counter()
        requests = 0

        def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
            nonlocal requests
            requests += 1
            if model.name == "PutItem":
                units[_kind(params["Item"]["pk"]["S"])] += math.ceil(item_size(params["Item"]) / 1024)
            elif model.name == "BatchWriteItem":
                for request in params["RequestItems"][INVESTIGATION]:
                    item = request["PutRequest"]["Item"]
                    units[_kind(item["pk"]["S"])] += math.ceil(item_size(item) / 1024)
            elif model.name in ("UpdateItem", "DeleteItem"):
                pending.append(params)

        pending: list[dict[str, Any]] = []

        def cost_updates() -> None:
            for params in pending:
                stored = client.get_item(TableName=INVESTIGATION, Key=params["Key"]).get("Item") or params["Key"]
                kind = _kind(params["Key"]["pk"]["S"])
                units[kind] += math.ceil(item_size(stored) / 1024)
                if kind == "actor":  # its by_recency entry moves: one delete, one put
                    units[kind] += 2
            pending.clear()

        client.meta.events.register("provide-client-params.dynamodb", capture)
        try:
            progress(f"investigation: indexing {events:,} events in stream batches of {BATCH}")
            for first in range(0, len(items), BATCH):
                batch = items[first : first + BATCH]
                by_org: dict[str, list[indexing.RecordedEvent]] = {}
                for n, item in enumerate(batch, start=first):
                    by_org.setdefault(item["org_id"], []).append(_recorded(item, n))
                for org_id, recorded in by_org.items():
                    indexing.index_events(INVESTIGATION, org_id, recorded)
                client.meta.events.unregister("provide-client-params.dynamodb", capture)
                cost_updates()
                client.meta.events.register("provide-client-params.dynamodb", capture)
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb", capture)
        targets = sum(len(item.get("targets") or []) for item in items)
        writes = IndexWrites(events=events, targets=targets, units=dict(units), requests=requests)
        progress(f"investigation: {writes.per_event:.2f} write units per event, {writes.per_target:.2f} per target")
        return InvestigationResult(writes=writes, reads=_target_reads(client, items))


def _target_reads(client: Any, items: list[dict[str, Any]]) -> TargetReads:
    """Every page of the busiest target's history, ours (its copies' partition) and the
    baseline's (the organisation's partition, the target picked out by the client)."""
    named = Counter(
        (item["org_id"], target["type"], target["id"]) for item in items for target in item.get("targets") or []
    )
    (org_id, target_type, target_id), _ = named.most_common(1)[0]
    ours, baseline = QueryCounter(), QueryCounter()

    filters = Filters.from_query(None, None, None, None, target_type, target_id)
    served = pages = 0
    cursor: str | None = None
    client.meta.events.register("after-call.dynamodb.Query", ours)
    try:
        while pages == 0 or cursor is not None:
            page = read_page(
                org_id,
                filters,
                LIMIT,
                cursor,
                table_name=TABLE,
                investigation_table=INVESTIGATION,
                cursor_secret=CURSOR_SECRET,
            )
            served, pages, cursor = served + len(page.events), pages + 1, page.next_cursor
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", ours)
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": f"org#{org_id}"}},
    }
    client.meta.events.register("after-call.dynamodb.Query", baseline)
    found = 0
    try:
        while True:
            answer = client.query(**request)
            found += sum(
                any(
                    t["type"]["S"] == target_type and t["id"]["S"] == target_id
                    for t in ([v["M"] for v in item.get("targets", {}).get("L", [])])
                )
                for item in answer["Items"]
            )
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", baseline)
    assert found == served, f"served {served}, the baseline found {found}"
    progress(f"investigation: {target_type} {target_id}: {served} events, {pages} pages, {ours.calls} calls")
    return TargetReads(
        target=f"{target_type} {target_id}",
        served=served,
        pages=pages,
        calls=ours.calls,
        scanned=ours.scanned,
        returned=ours.returned,
        baseline_calls=baseline.calls,
        baseline_scanned=baseline.scanned,
    )
