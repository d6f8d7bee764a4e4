"""Exports: throughput beside the bare paged read they are built on, DynamoDB reads per
exported event, the worker's peak memory at 10^4, 10^5 and 10^6 events, and the proof
file's size per event.

- Throughput and reads: one organisation's 10,000 events of the shared dataset and a
  ledger over them (leaf lookups, tiles, a checkpoint), moto in-process. An export is
  driven step by step through `worker.run_step` (as the queue would) and timed against
  walking `GET /events`'s read path (`read_page`, limit 100) over the same events, one
  after the other. Every Query's ScannedCount and every BatchGetItem's items are counted.
- Memory: the worker in a process of its own (`python -m bench.exports N FORMAT`), its
  S3, SQS and exports table on a moto server (another process, so moto's own storage is
  not counted), its peak RSS from the kernel. At 10^6 events moto cannot serve the reads
  (each Query lists the whole partition), so in that process the events come from a
  generator in place of the DynamoDB read (real events of the dataset, cycled, each with
  an id of its own) and the ledger answers leaf indexes in order; everything from the
  read on (the served model, formatting, the buffer, the parts, the index objects, the
  proof) is the worker's own code. The same for every size, so the figures compare.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import ROOT
from bench.export_process import ORG, run_export
from bench.progress import progress

EVENTS = 5_000
MEMORY_SIZES = (10_000, 100_000, 1_000_000)
MEMORY_GOAL_MB = 256
PROOF_GOAL_BYTES = 64  # per event, whole-log export of 10^6


@dataclass(frozen=True)
class ReadCost:
    shape: str
    events: int
    queried: int  # items DynamoDB read for Queries (ScannedCount)
    queries: int
    looked_up: int  # items read by BatchGetItem: signals, and leaf indexes for NDJSON

    @property
    def per_event(self) -> float:
        return self.queried / max(self.events, 1)


@dataclass(frozen=True)
class Throughput:
    events: int
    csv_rate: float
    ndjson_rate: float
    bare_rate: float


@dataclass(frozen=True)
class Memory:
    events: int
    file_format: str
    peak_mb: float
    baseline_mb: float  # the same process after its imports, before exporting
    seconds: float
    file_bytes: int
    proof_bytes: int
    parts: int

    @property
    def met(self) -> bool:
        return self.peak_mb < MEMORY_GOAL_MB


@dataclass(frozen=True)
class ExportResult:
    throughput: Throughput
    reads: list[ReadCost]
    memory: list[Memory]

    def proof_per_event(self) -> float | None:
        whole = [m for m in self.memory if m.file_format == "ndjson" and m.events == max(MEMORY_SIZES)]
        return whole[0].proof_bytes / whole[0].events if whole else None


# --- throughput and reads, in-process --------------------------------------------


def _seed_ledger(count: int) -> list[dict[str, Any]]:
    """The dataset's events for ORG, a tree over them and each event's leaf lookup."""
    from audit_log import events_table
    from audit_log.ledger import storage
    from bench import dataset
    from bench.ledger import _build_tree
    from bench.tables import put_items

    items = dataset.stored_items(count, org_id=ORG)
    client = events_table.dynamodb_client()
    put_items(client, items)
    _build_tree(count)
    lookups = [{**storage.lookup_key(ORG, item["event_id"]), "leaf_index": n} for n, item in enumerate(items)]
    put_items(client, lookups, os.environ["LEDGER_TABLE_NAME"])
    return items


def _export_resources(*, table: bool) -> None:
    """The exports bucket and queue (and, with `table`, the exports table) as the template
    declares them."""
    import boto3

    from devtools.template import create_exports_bucket, create_queue, create_tables

    if table:
        create_tables(boto3.client("dynamodb"), {"ExportsTable": os.environ["EXPORTS_TABLE_NAME"]})
    create_exports_bucket(boto3.client("s3"), boto3.client("kms"), os.environ["EXPORT_BUCKET"])
    os.environ["EXPORT_QUEUE_URL"] = create_queue(boto3.client("sqs"), "ExportQueue", "bench-export-steps")


def _shapes(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    busiest_actor = max({i["actor"]["id"] for i in items}, key=lambda a: sum(i["actor"]["id"] == a for i in items))
    return {
        "whole log": {},
        "type": {"event_type": "user.login"},
        "actor": {"actor_id": busiest_actor},
        "type + actor": {"event_type": "organisation.settings_updated", "actor_id": busiest_actor},
    }


def throughput_and_reads(count: int = EVENTS) -> tuple[Throughput, list[ReadCost]]:
    from audit_log import events_table
    from audit_log.querying import Filters, read_page
    from bench.tables import in_process_tables, listing_reused

    def full_time() -> int:
        return 900_000

    with in_process_tables():  # the template's tables, the exports table among them
        _export_resources(table=False)
        progress(f"exports: seeding {count:,} events and their ledger")
        items = _seed_ledger(count)
        client = events_table.dynamodb_client()
        with listing_reused():
            progress("exports: throughput beside the bare paged read")
            started = time.perf_counter()
            served, cursor = 0, None
            while True:
                page = read_page(
                    ORG,
                    Filters(),
                    100,
                    cursor,
                    table_name=os.environ["TABLE_NAME"],
                    investigation_table=os.environ["INVESTIGATION_TABLE_NAME"],
                    cursor_secret=os.environ["CURSOR_SECRET"],
                )
                served += len(page.events)
                cursor = page.next_cursor
                if cursor is None:
                    break
            bare = served / (time.perf_counter() - started)
            rates = {}
            for file_format in ("csv", "ndjson"):
                started = time.perf_counter()
                item = run_export(file_format, {}, full_time)
                rates[file_format] = int(item["events"]) / (time.perf_counter() - started)
            costs = []
            events_table_name = os.environ["TABLE_NAME"]
            for shape, filters in _shapes(items).items():
                progress(f"exports: reads per exported event, {shape}")
                reads = _TableReads()
                reads.register(client)
                try:
                    item = run_export("ndjson", filters, full_time)
                finally:
                    reads.unregister(client)
                costs.append(
                    ReadCost(
                        shape,
                        int(item["events"]),
                        reads.scanned.get(events_table_name, 0),
                        reads.queries.get(events_table_name, 0),
                        sum(reads.batch_items.values()),
                    )
                )
    return Throughput(count, rates["csv"], rates["ndjson"], bare), costs


class _TableReads:
    """Per table: Query calls and their ScannedCount, and items BatchGetItem returned."""

    def __init__(self) -> None:
        self.queries: dict[str, int] = {}
        self.scanned: dict[str, int] = {}
        self.batch_items: dict[str, int] = {}
        self._table = ""

    def _params(self, params: dict[str, Any], **_: Any) -> None:
        self._table = str(params.get("TableName", ""))

    def _queried(self, parsed: dict[str, Any], **_: Any) -> None:
        self.queries[self._table] = self.queries.get(self._table, 0) + 1
        self.scanned[self._table] = self.scanned.get(self._table, 0) + int(parsed.get("ScannedCount", 0))

    def _batch(self, parsed: dict[str, Any], **_: Any) -> None:
        for table, found in parsed.get("Responses", {}).items():
            self.batch_items[table] = self.batch_items.get(table, 0) + len(found)

    def register(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb.Query", self._params)
        client.meta.events.register("after-call.dynamodb.Query", self._queried)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", self._batch)

    def unregister(self, client: Any) -> None:
        client.meta.events.unregister("provide-client-params.dynamodb.Query", self._params)
        client.meta.events.unregister("after-call.dynamodb.Query", self._queried)
        client.meta.events.unregister("after-call.dynamodb.BatchGetItem", self._batch)


# --- memory, in a process of its own ------------------------------------------------


def memory(sizes: tuple[int, ...] = MEMORY_SIZES) -> list[Memory]:
    """Each size and format exported by bench/export_process.py in a process of its own."""
    import logging
    import tempfile

    import boto3
    from moto.server import ThreadedMotoServer

    from bench import dataset
    from devtools.template import create_exports_bucket, create_queue, create_tables

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    results = []
    with tempfile.NamedTemporaryFile("w", suffix=".json") as samples:
        json.dump(dataset.stored_items(1_000, org_id=ORG), samples)
        samples.flush()
        try:
            for size in sizes:
                for file_format in ("csv", "ndjson"):
                    progress(f"exports: worker memory at {size:,} events, {file_format}")
                    name = f"bench-exports-{size}-{file_format}"  # the one server holds every run's
                    create_tables(boto3.client("dynamodb", endpoint_url=endpoint), {"ExportsTable": name})
                    create_exports_bucket(
                        boto3.client("s3", endpoint_url=endpoint), boto3.client("kms", endpoint_url=endpoint), name
                    )
                    queue = create_queue(boto3.client("sqs", endpoint_url=endpoint), "ExportQueue", name)
                    env = {
                        **os.environ,
                        "AWS_ENDPOINT_URL": endpoint,
                        "EXPORTS_TABLE_NAME": name,
                        "EXPORT_BUCKET": name,
                        "EXPORT_QUEUE_URL": queue,
                    }
                    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
                    done = subprocess.run(
                        [
                            sys.executable,
                            str(ROOT / "bench" / "export_process.py"),
                            str(size),
                            file_format,
                            samples.name,
                        ],
                        env=env,
                        cwd=ROOT,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if done.returncode != 0:
                        raise RuntimeError(f"the export process failed:\n{done.stderr[-3000:]}")
                    results.append(Memory(**json.loads(done.stdout.strip().splitlines()[-1])))
        finally:
            server.stop()
    return results


def measure(quick: bool = False) -> ExportResult:
    rate, reads = throughput_and_reads(1_000 if quick else EVENTS)
    used = memory((1_000, 10_000) if quick else MEMORY_SIZES)
    return ExportResult(rate, reads, used)
