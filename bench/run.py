"""`make bench`: machine-independent counts and side-by-side ratios.

1. Reads: for each filter shape, DynamoDB calls and items read (DynamoDB's own
   ScannedCount) per event served, walking every page, against a baseline that queries
   the organisation's partition and filters with a FilterExpression.
2. Writes: DynamoDB item sizes of the sample events and the write units each request
   shape costs (computed from DynamoDB's published size and capacity rules).
3. Authorizer cold start: a fresh process importing the authorizer and loading its keys
   (JWKS_JSON with the development key), vs
   a fresh process that only creates a boto3 DynamoDB client; medians of interleaved runs.

Everything runs in-process against moto (reads, writes) or in subprocesses (cold start);
nothing leaves the machine.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers/common/python"), str(ROOT)]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "bench-events",
        "CURSOR_SECRET": "bench-cursor-secret",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "AuditLogBench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

import boto3
from moto import mock_aws  # moto before any boto3 client

from audit_log import events_table, recording
from audit_log.models import EventIn
from audit_log.querying import Filters, read_page
from devtools.dev_tokens import jwks as dev_jwks
from devtools.template import create_tables

TABLE = os.environ["TABLE_NAME"]
TYPES = ["user.login", "organisation.settings_updated", "member.invited", "api_key.rotated", "member.removed"]


def seed() -> None:
    """3 organisations, 12 users, 1,500 events over 30 days, skewed like real logs."""
    events = []
    for n in range(1500):
        org = ["org_acme", "org_globex", "org_initech"][n % 3]
        events.append(
            EventIn.model_validate(
                {
                    "org_id": org,
                    "event_type": TYPES[0] if n % 5 < 3 else TYPES[n % 5],
                    "actor": {"id": f"usr_{n % 12}"},
                    "occurred_at": f"2026-11-{1 + n % 25:02d}T{n % 24:02d}:{n % 60:02d}:00.000Z",
                }
            )
        )
    for n, event in enumerate(events):  # plain conditional puts: moto copies the table per transaction
        event_id = f"01KB{n:022d}"
        assert event.occurred_at is not None
        item = recording.event_item(event, event_id, event.occurred_at, "2026-11-26T00:00:00.000Z", 0)
        events_table.put_event(TABLE, item)


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.read = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        self.read += parsed.get("ScannedCount", 0)


def walk_ours(filters: Filters, limit: int) -> int:
    served, cursor = 0, None
    while True:
        page = read_page("org_acme", filters, limit, cursor, table_name=TABLE, cursor_secret="s")
        served += len(page.events)
        cursor = page.next_cursor
        if cursor is None:
            return served


def walk_baseline(client: Any, filters: Filters, limit: int) -> int:
    """The hand-rolled alternative: the org partition, newest first, FilterExpression."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":p": {"S": "org#org_acme"}}
    conditions = []
    if filters.event_type:
        names["#t"] = "event_type"
        values[":t"] = {"S": filters.event_type}
        conditions.append("#t = :t")
    if filters.actor_id:
        names["#a"] = "actor"
        values[":a"] = {"S": filters.actor_id}
        conditions.append("#a.id = :a")
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)
        request["ExpressionAttributeNames"] = names
    served: int = 0
    while True:
        response = client.query(**request)
        served += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return served
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def reads() -> None:
    print("\n## Reads: walking every page of org_acme's log (500 events), limit 50")
    header = ("filter shape", "served", "calls", "read/served", "baseline calls", "baseline read/served")
    print(f"{header[0]:<28}{header[1]:>8}{header[2]:>7}{header[3]:>13}{header[4]:>16}{header[5]:>22}")
    shapes = {
        "none": Filters(),
        "event_type": Filters(event_type="user.login"),
        "actor_id": Filters(actor_id="usr_3"),
        "event_type + actor_id": Filters(event_type="api_key.rotated", actor_id="usr_3"),
        "event_type + time range": Filters(event_type="user.login", since="2026-11-05T00:00:00.000Z"),
    }
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client, {"EventsTable": TABLE})
        seed()
        for label, filters in shapes.items():
            ours, base = Counter(), Counter()
            events_table.dynamodb_client().meta.events.register("after-call.dynamodb.Query", ours)
            served = walk_ours(filters, 50)
            events_table.dynamodb_client().meta.events.unregister("after-call.dynamodb.Query", ours)
            client.meta.events.register("after-call.dynamodb.Query", base)
            baseline_served = walk_baseline(client, Filters(filters.event_type, filters.actor_id), 50)
            client.meta.events.unregister("after-call.dynamodb.Query", base)
            note = "" if filters.since is None else "  (baseline without the time range)"
            print(
                f"{label:<28}{served:>8}{ours.calls:>7}{ours.read / max(served, 1):>13.3f}"
                f"{base.calls:>16}{base.read / max(baseline_served, 1):>22.3f}{note}"
            )


def item_size(value: Any) -> int:
    """DynamoDB's item-size rules: names and values in UTF-8, numbers ~1 byte per 2 digits,
    3 bytes of overhead per map or list plus 1 per element."""
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + item_size(v) + 1 for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(item_size(v) + 1 for v in value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return 1 + math.ceil(len(str(abs(value)).replace(".", "")) / 2)
    return len(str(value).encode())


def writes() -> None:
    print("\n## Writes: the sample events (events/record_*.json)")
    samples = []
    for path in sorted((ROOT / "events").glob("record_*.json")):
        body = json.loads(json.loads(path.read_text())["body"])
        samples += body.get("events", [body])
    print(f"{'event':<34}{'item bytes':>11}{'no key':>8}{'with key':>10}{'in batch':>10}")
    for sample in samples:
        event = EventIn.model_validate({k: v for k, v in sample.items() if k != "idempotency_key"})
        item = recording.event_item(event, "01KB" + "0" * 22, "2026-11-25T09:15:02.120Z", "2026-11-25T09:15:02.120Z", 0)
        size = sum(len(k.encode()) + item_size(v) for k, v in item.items())
        units = math.ceil(size / 1024)
        marker = 2  # a marker item is well under 1 KB, written transactionally
        indexes = 3 * units
        print(
            f"{event.event_type:<34}{size:>11}{units + indexes:>8}{2 * units + marker + indexes:>10}"
            f"{2 * units + indexes:>10}"
        )
    print("write units: standard 1/KB, transactional 2/KB, one standard write per index holding the item")


def cold_start(runs: int = 15) -> None:
    print(f"\n## Authorizer cold start: import + init in a fresh process, median of {runs} interleaved runs")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "JWKS_JSON": json.dumps(dev_jwks()),
        "JWT_ISSUER": "i",
        "JWT_AUDIENCE": "a",
    }
    authorizer = (
        "import time; t = time.perf_counter(); import importlib.util;"
        f"s = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions/authorizer/app.py')!r});"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m);"
        "m.signing_keys(m.AuthorizerSettings.from_environ()); print(time.perf_counter() - t)"
    )
    boto_client = (
        "import time; t = time.perf_counter(); import boto3; boto3.client('dynamodb');print(time.perf_counter() - t)"
    )
    timings: dict[str, list[float]] = {"authorizer": [], "boto3 DynamoDB client": []}
    for _ in range(runs):
        for label, code in (("authorizer", authorizer), ("boto3 DynamoDB client", boto_client)):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            timings[label].append(float(out.stdout.strip().splitlines()[-1]))
    medians = {label: statistics.median(values) for label, values in timings.items()}
    for label, median in medians.items():
        print(f"{label:<24}{median * 1000:>8.1f} ms")
    print(f"ratio authorizer / boto3 client: {medians['authorizer'] / medians['boto3 DynamoDB client']:.2f}")


if __name__ == "__main__":
    started = time.perf_counter()
    reads()
    writes()
    cold_start()
    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")
