"""Read amplification: for each filter shape, how many items DynamoDB reads per item it
returns, and how many Query calls each page costs, walking every page of one
organisation's log through the service's own read path (audit_log.querying.read_page).

The counts are DynamoDB's own: ScannedCount (items read, before any filter) and Count
(items returned) of every Query response, taken from the layer's client by a botocore
`after-call` hook. They do not depend on the machine.

Beside each shape, the hand-rolled alternative a single-table design without indexes
would use: the organisation's partition (with the time range as a key condition) and a
FilterExpression for the type and actor. It serves the same events, which the bench checks.
"""

import math
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from audit_log import events_table
from audit_log.querying import Filters, read_page
from audit_log.timestamps import format_utc_ms
from bench import dataset
from bench.progress import progress
from bench.tables import TABLE, in_process_tables, listing_reused, put_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INVESTIGATION = os.environ["INVESTIGATION_TABLE_NAME"]
EVENTS = 20_000
# The smallest of the three organisations (about 15 % of the log) is the one walked: every
# page costs moto a pass over the whole table, so walking the largest would take most of
# the time budget without changing a ratio. The other organisations' events still share
# the table and its indexes, so a query that strayed outside its organisation would show.
ORG = "org_initech"
LIMIT = 50
CURSOR_SECRET = "bench-cursor-secret"
# The filters: the commonest type, an actor of middling activity, the last four weeks
# before the final two days of the 90 (a window with both ends inside the data).
EVENT_TYPE = "user.login"
ACTOR = "usr_03"
SINCE = format_utc_ms(dataset.END - timedelta(days=30))
UNTIL = format_utc_ms(dataset.END - timedelta(days=2))
SHAPES: dict[str, tuple[bool, bool, bool]] = {  # label → (type, actor, time range)
    "none": (False, False, False),
    "type": (True, False, False),
    "actor": (False, True, False),
    "time range": (False, False, True),
    "type + time": (True, False, True),
    "actor + time": (False, True, True),
    "type + actor": (True, True, False),
    "type + actor + time": (True, True, True),
}
SINGLE_FILTER = {"none", "type", "actor", "time range"}


@dataclass
class QueryCounter:
    """Every Query response's ScannedCount and Count, as botocore parsed them."""

    calls: int = 0
    scanned: int = 0
    returned: int = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        self.scanned += int(parsed.get("ScannedCount", 0))
        self.returned += int(parsed.get("Count", 0))


@dataclass(frozen=True)
class ReadRow:
    shape: str
    served: int  # events handed to the caller over all pages
    pages: int
    calls: int
    scanned: int
    returned: int  # items DynamoDB returned (incl. the one look-ahead item per page)
    # None where the baseline would send exactly our Query (no type or actor to filter on)
    baseline_calls: int | None
    baseline_scanned: int | None
    baseline_returned: int | None

    @property
    def read_per_returned(self) -> float:
        return self.scanned / max(self.returned, 1)

    @property
    def read_per_served(self) -> float:
        return self.scanned / max(self.served, 1)

    @property
    def calls_per_page(self) -> float:
        return self.calls / max(self.pages, 1)

    @property
    def baseline_read_per_returned(self) -> float | None:
        if self.baseline_scanned is None or self.baseline_returned is None:
            return None
        return self.baseline_scanned / max(self.baseline_returned, 1)

    @property
    def baseline_calls_per_page(self) -> float | None:
        """Calls the baseline needs per page of LIMIT events served."""
        if self.baseline_calls is None or self.baseline_returned is None:
            return None
        return self.baseline_calls / max(math.ceil(self.baseline_returned / LIMIT), 1)

    @property
    def has_goal(self) -> bool:
        return self.shape in SINGLE_FILTER

    @property
    def met(self) -> bool | None:
        if not self.has_goal:
            return None
        return self.scanned == self.returned and self.calls == self.pages

    @property
    def events_per_page(self) -> float:
        return self.served / max(self.pages, 1)


@dataclass(frozen=True)
class ReadResult:
    events: int
    org_events: int
    rows: list[ReadRow]


def filters_for(shape: str) -> Filters:
    by_type, by_actor, by_time = SHAPES[shape]
    return Filters.from_query(
        EVENT_TYPE if by_type else None,
        ACTOR if by_actor else None,
        SINCE if by_time else None,
        UNTIL if by_time else None,
    )


def walk(filters: Filters) -> tuple[int, int]:
    """Every page of ORG's log under `filters`, as a client paging with next_cursor
    would: (events served, pages)."""
    served = pages = 0
    cursor: str | None = None
    while True:
        page = read_page(
            ORG,
            filters,
            LIMIT,
            cursor,
            table_name=TABLE,
            investigation_table=INVESTIGATION,
            cursor_secret=CURSOR_SECRET,
        )
        served, pages, cursor = served + len(page.events), pages + 1, page.next_cursor
        if cursor is None:
            return served, pages


def walk_baseline(client: "DynamoDBClient", filters: Filters) -> None:
    """The organisation's partition, newest first, LIMIT per call, the time range as a
    key condition and type/actor as a FilterExpression, until DynamoDB says it is done."""
    names: dict[str, str] = {"#p": "pk"}
    values: dict[str, Any] = {":p": {"S": events_table.org_pk(ORG)}}
    key_condition = "#p = :p"
    if filters.since is not None or filters.until is not None:
        names["#s"] = "sk"
        values[":since"] = {"S": filters.since or ""}
        values[":until"] = {"S": filters.until or "~"}
        key_condition += " AND #s BETWEEN :since AND :until"
    conditions = []
    if filters.event_type is not None:
        names["#t"] = "event_type"
        values[":t"] = {"S": filters.event_type}
        conditions.append("#t = :t")
    if filters.actor_id is not None:
        names["#a"] = "actor"
        names["#i"] = "id"
        values[":a"] = {"S": filters.actor_id}
        conditions.append("#a.#i = :a")
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": LIMIT,
    }
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)
    while True:
        response = client.query(**request)
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def walk_shape(client: "DynamoDBClient", shape: str) -> ReadRow:
    """Walk one filter shape our way and the baseline's, counting every Query of each."""
    filters = filters_for(shape)
    ours, baseline = QueryCounter(), QueryCounter()
    client.meta.events.register("after-call.dynamodb.Query", ours)
    try:
        served, pages = walk(filters)
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", ours)
    if filters.event_type is None and filters.actor_id is None:
        # Nothing to filter: the baseline's Query would be ours, call for call.
        progress(f"reads: {shape}: {served} events, {pages} pages, {ours.calls} calls")
        return ReadRow(shape, served, pages, ours.calls, ours.scanned, ours.returned, None, None, None)
    client.meta.events.register("after-call.dynamodb.Query", baseline)
    try:
        walk_baseline(client, filters)
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", baseline)
    assert served == baseline.returned, f"{shape}: served {served}, the baseline found {baseline.returned}"
    progress(f"reads: {shape}: {served} events, {pages} pages, {ours.calls} calls; baseline {baseline.calls} calls")
    return ReadRow(
        shape=shape,
        served=served,
        pages=pages,
        calls=ours.calls,
        scanned=ours.scanned,
        returned=ours.returned,
        baseline_calls=baseline.calls,
        baseline_scanned=baseline.scanned,
        baseline_returned=baseline.returned,
    )


def measure(events: int = EVENTS) -> ReadResult:
    with in_process_tables() as client:
        progress(f"reads: seeding {events:,} events")
        items = dataset.stored_items(events)
        put_items(client, items)
        org_events = sum(item["org_id"] == ORG for item in items)
        with listing_reused():
            rows = [walk_shape(client, shape) for shape in SHAPES]
    return ReadResult(events=events, org_events=org_events, rows=rows)
