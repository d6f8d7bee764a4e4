"""Warm latency: a record request, a batch of 25 and a query page of 50, each through its
function's lambda_handler (API Gateway events, as in the sample events of events/), side by
side with the bare boto3 call the function makes for it, against a moto server on loopback.

Both sides use the same client (the layer's, with its retry and timeout configuration)
and the same server, and alternate in random order within each iteration, so load on this
shared machine and moto's own cost fall on both alike: the ratio of the two is what our
code (validation, Powertools, logging, metrics, ids, the item mapping) adds to the
DynamoDB call itself. The absolute figures are moto's, not DynamoDB's.

moto copies the whole table for each item of a transaction, so what the table holds
weighs on the batch on both sides and buries the difference under moto's own work. The
record requests therefore get a table of their own, from which every write is removed
again outside the timed part (it stays empty between calls), and the query reads a
second table built from the same template and seeded once; TABLE_NAME, which the
functions read on each request, is pointed at the right one before each call.
"""

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ulid import ULID

from audit_log import events_table
from audit_log.event_rules import EventIn
from audit_log.investigation import storage as investigation_storage
from audit_log.recording import event_item
from audit_log.timestamps import format_utc_ms
from bench import ROOT, dataset
from bench.progress import progress
from bench.tables import TABLE, put_items, server_tables, to_wire
from devtools.functions import LambdaContext, load_function
from devtools.template import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITERATIONS = 300
WARM_UP = 30
# A query page costs moto ~25x what a record does (it lists and serialises the items), so
# the query pair runs every QUERY_EVERY-th iteration: enough samples for a p99, and the
# whole section stays near two minutes.
QUERY_EVERY = 2
BATCH = 25
PAGE = 50
QUERY_TABLE = "bench-events-read"
INVESTIGATION = os.environ["INVESTIGATION_TABLE_NAME"]
QUERY_ORG = "org_reader"
QUERY_EVENTS = 200


@dataclass
class Side:
    """One thing to time: `prepare` (untimed) makes its input, `call` is timed, `cleanup`
    (untimed) gets (input, output), checks the answer and removes what was written."""

    label: str
    prepare: Callable[[], Any]
    call: Callable[[Any], Any]
    cleanup: Callable[[Any, Any], None]
    samples: list[float] = field(default_factory=list)  # milliseconds

    def run(self, record: bool) -> None:
        prepared = self.prepare()
        started = time.perf_counter()
        answer = self.call(prepared)
        elapsed = time.perf_counter() - started
        self.cleanup(prepared, answer)
        if record:
            self.samples.append(elapsed * 1000)


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples: list[float]) -> "Percentiles":
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        return cls(p50=cuts[49], p95=cuts[94], p99=cuts[98])


@dataclass
class Operation:
    """One operation timed both ways; it runs on every `every`-th iteration."""

    name: str
    bare_call: str
    ours: Side
    bare: Side
    every: int = 1


@dataclass(frozen=True)
class LatencyRow:
    operation: str
    bare_call: str
    samples: int
    ours: Percentiles
    bare: Percentiles

    def ratio(self, which: str) -> float:
        ours: float = getattr(self.ours, which)
        bare: float = getattr(self.bare, which)
        return ours / bare

    @property
    def added_p50(self) -> float:
        """What our code adds to the median call, in milliseconds."""
        return self.ours.p50 - self.bare.p50


@dataclass(frozen=True)
class LatencyResult:
    iterations: int
    warm_up: int
    rows: list[LatencyRow]


@contextmanager
def stdout_discarded() -> Iterator[None]:
    """The functions log every request and flush metrics to stdout, as in Lambda; that
    work stays in the timing, but its output goes to /dev/null instead of the terminal."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text())
    return event


def stored(body: dict[str, Any]) -> dict[str, Any]:
    """The item record_event would store for `body` now, in DynamoDB's typed form."""
    event = EventIn.model_validate(body)
    now = format_utc_ms(datetime.now(UTC))
    return to_wire(event_item(event, str(ULID()), event.occurred_at or now, now, 0))


def key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def recorded_key(org_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "pk": {"S": events_table.org_pk(org_id)},
        "sk": {"S": events_table.sort_key(answer["occurred_at"], answer["event_id"])},
    }


def delete(client: "DynamoDBClient", keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), 25):
        requests: Any = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        client.batch_write_item(RequestItems={TABLE: requests})


def on_table(table: str, prepared: Any) -> Callable[[], Any]:
    """A `prepare` pointing the functions at `table` (untimed) and handing over `prepared`."""

    def prepare() -> Any:
        os.environ["TABLE_NAME"] = table
        return prepared() if callable(prepared) else prepared

    return prepare


def operations(client: "DynamoDBClient") -> list[Operation]:
    """Each operation through its handler and as the bare call the handler makes."""
    record_event = load_function("record_event")
    query_log = load_function("query_log")
    context = LambdaContext()

    one = sample_event("record_event")
    one_body = json.loads(one["body"])
    one_org = one_body["org_id"]

    batch_bodies = dataset.event_bodies(BATCH, seed=3, org_id=one_org)
    batch = {**sample_event("record_batch"), "body": json.dumps({"events": batch_bodies})}

    query = sample_event("query_log")
    query["queryStringParameters"] = {"limit": str(PAGE)}
    query["multiValueQueryStringParameters"] = {"limit": [str(PAGE)]}
    query["requestContext"]["authorizer"]["orgId"] = QUERY_ORG

    def handled(status: int, org_id: str) -> Callable[[Any, Any], None]:
        def check_and_remove(_: Any, response: dict[str, Any]) -> None:
            assert response["statusCode"] == status, response
            body = json.loads(response["body"])
            delete(client, [recorded_key(org_id, answer) for answer in body.get("events", [body])])

        return check_and_remove

    def served(_: Any, response: dict[str, Any]) -> None:
        assert response["statusCode"] == 200, response
        assert len(json.loads(response["body"])["events"]) == PAGE

    def put(item: dict[str, Any]) -> Any:
        return client.put_item(
            TableName=TABLE,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def transact(items: list[dict[str, Any]]) -> Any:
        puts: Any = [
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for item in items
        ]
        return client.transact_write_items(TransactItems=puts)

    def query_page(_: Any) -> Any:
        response = client.query(
            TableName=QUERY_TABLE,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={":p": {"S": events_table.org_pk(QUERY_ORG)}},
            ScanIndexForward=False,
            Limit=PAGE + 1,
        )
        assert response["Count"] == PAGE + 1
        # The page's logins' signals, as the handler looks them up (derived data, its own table).
        logins = [item["sk"] for item in response["Items"][:PAGE] if item["event_type"]["S"] == "user.login"]
        if logins:
            keys = [{"pk": {"S": investigation_storage.signals_pk(QUERY_ORG)}, "sk": sk} for sk in logins]
            client.batch_get_item(RequestItems={INVESTIGATION: {"Keys": keys}})
        return response

    return [
        Operation(
            "record one event",
            "PutItem",
            Side(
                "record_event handler",
                on_table(TABLE, one),
                lambda e: record_event.lambda_handler(e, context),
                handled(201, one_org),
            ),
            Side(
                "PutItem",
                on_table(TABLE, lambda: stored(one_body)),
                put,
                lambda item, _: delete(client, [key_of(item)]),
            ),
        ),
        Operation(
            f"record a batch of {BATCH}",
            f"TransactWriteItems ({BATCH} puts)",
            Side(
                "record_event handler",
                on_table(TABLE, batch),
                lambda e: record_event.lambda_handler(e, context),
                handled(201, one_org),
            ),
            Side(
                "TransactWriteItems",
                on_table(TABLE, lambda: [stored(body) for body in batch_bodies]),
                transact,
                lambda items, _: delete(client, [key_of(item) for item in items]),
            ),
        ),
        Operation(
            f"query a page of {PAGE}",
            f"Query (Limit {PAGE + 1}) + BatchGetItem (the signals of its logins)",
            Side(
                "query_log handler",
                on_table(QUERY_TABLE, query),
                lambda e: query_log.lambda_handler(e, context),
                served,
            ),
            Side("Query", on_table(QUERY_TABLE, None), query_page, lambda *_: None),
            every=QUERY_EVERY,
        ),
    ]


def sent_operations(side: Side) -> set[str]:
    """The DynamoDB operations one untimed call of `side` sends (not its preparation or
    cleanup)."""
    names: set[str] = set()

    def note(**kwargs: Any) -> None:
        names.add(kwargs["model"].name)

    prepared = side.prepare()
    emitter = events_table.dynamodb_client().meta.events
    emitter.register("provide-client-params.dynamodb", note)
    try:
        answer = side.call(prepared)
    finally:
        emitter.unregister("provide-client-params.dynamodb", note)
    side.cleanup(prepared, answer)
    return names


def measure(iterations: int = ITERATIONS, warm_up: int = WARM_UP) -> LatencyResult:
    rng = random.Random(5)
    with server_tables() as client:
        create_tables(client, {"EventsTable": QUERY_TABLE})
        put_items(client, dataset.stored_items(QUERY_EVENTS, seed=5, org_id=QUERY_ORG), QUERY_TABLE)
        timed = operations(client)
        try:
            with stdout_discarded():
                for operation in timed:  # the bare side must be the call the handler really makes
                    sent = sent_operations(operation.ours)
                    bare = {call.split()[0] for call in operation.bare_call.split(" + ")}
                    assert sent == bare, f"{operation.name} sends {sent}, not {operation.bare_call}"
                for iteration in range(warm_up + iterations):
                    if iteration % 50 == 0:
                        progress(f"latency: iteration {iteration}/{warm_up + iterations} (first {warm_up} warm-up)")
                    for operation in timed:
                        if iteration % operation.every:
                            continue
                        pair = [operation.ours, operation.bare]
                        for side in pair if rng.random() < 0.5 else reversed(pair):
                            side.run(record=iteration >= warm_up)
        finally:
            os.environ["TABLE_NAME"] = TABLE
        assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 0, "every write was removed again"
    rows = [
        LatencyRow(
            operation=operation.name,
            bare_call=operation.bare_call,
            samples=len(operation.ours.samples),
            ours=Percentiles.of(operation.ours.samples),
            bare=Percentiles.of(operation.bare.samples),
        )
        for operation in timed
    ]
    return LatencyResult(iterations=iterations, warm_up=warm_up, rows=rows)
