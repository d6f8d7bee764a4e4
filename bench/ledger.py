"""The ledger's costs: write units per event the ledger adds, DynamoDB reads and bytes per
proof, sealing throughput against the bare hashing, and the auditor's recomputation rate.

- Write units: one organisation's events sealed through audit_log.ledger.sealing and
  published (interval 0: a checkpoint after every batch, the most it can cost), at
  stream batches of 1, 10 and 100; every request to the ledger table is captured and
  costed by DynamoDB's rules (bench/writes.py), a transaction at 2 units per KB.
- Reads per proof: trees of 10^3, 10^5 and 10^6 leaves built directly in moto (random
  leaf hashes: a proof's cost depends on the tree's shape, not on the events), a
  checkpoint with its compact range at the full size, then an inclusion proof of a leaf
  in the tree's first half and a consistency proof from a size that shares no tile
  boundary with it, each counting the DynamoDB calls made.
- Throughput: events/s sealed in-process (moto) beside events/s of only computing their
  leaf hashes (canonical JSON + SHA-256), the same events, one after the other.
- Recomputation: the client's `audit` arithmetic on entries already fetched (leaf hash
  per event, root over all), events/s.
"""

import hashlib
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from audit_log import events_table
from audit_log.ledger import hashing, publishing, reading, sealing, storage, tiles
from audit_log.ledger.entries import event_leaf_hash
from audit_log.ledger.sealing import Sealable
from audit_log.querying import event_out
from audit_log.recording import event_item
from bench import dataset
from bench.progress import progress
from bench.tables import in_process_tables
from bench.writes import item_size
from devtools.template import create_checkpoint_bucket, create_signing_key

LEDGER = os.environ["LEDGER_TABLE_NAME"]
BATCHES = (1, 10, 100)
WRITE_GOAL = 1.25  # units per event at batches of 100
READ_GOAL = 4  # DynamoDB reads per proof at 10^6 leaves
RATE_GOAL = 50_000  # events/s recomputed by `audit-log audit`
PROOF_SIZES = (1_000, 100_000, 1_000_000)


@dataclass
class WriteCost:
    batch: int
    events: int
    units: dict[str, float] = field(default_factory=dict)  # by item kind
    calls: int = 0

    @property
    def per_event(self) -> float:
        return sum(self.units.values()) / self.events

    @property
    def met(self) -> bool | None:
        return self.per_event <= WRITE_GOAL if self.batch == 100 else None


@dataclass(frozen=True)
class ProofCost:
    leaves: int
    inclusion_reads: int
    inclusion_bytes: int
    consistency_reads: int
    consistency_bytes: int

    @property
    def met(self) -> bool | None:
        if self.leaves != 1_000_000:
            return None
        return max(self.inclusion_reads, self.consistency_reads) <= READ_GOAL


@dataclass(frozen=True)
class SealLag:
    interval: int
    events: int
    p50: float
    p99: float
    worst: float


@dataclass(frozen=True)
class LedgerResult:
    writes: list[WriteCost]
    proofs: list[ProofCost]
    sealed_per_second: float
    hashed_per_second: float
    recomputed_per_second: float
    lags: list[SealLag]

    @property
    def rate_met(self) -> bool:
        return self.recomputed_per_second >= RATE_GOAL


def _kind(item: dict[str, Any]) -> str:
    """Which of the ledger's items `item` is: `org#<org>#<kind>[#…]`."""
    return str(item["pk"]["S"]).split("#")[2]


def _sealables(count: int, seed: int) -> list[Sealable]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    found = []
    for number, event in enumerate(dataset.events(count, seed=seed)):
        item = event_item(event, f"01BENCH{seed:04d}{number:015d}", now, now, 0)
        found.append(sealing.sealable(item, event_out(item).model_dump(mode="json")))
    return found


def write_cost(batch: int, events: int) -> WriteCost:
    cost = WriteCost(batch=batch, events=events)
    lock = threading.Lock()  # lookups are written from a thread pool

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        with lock:
            _add(params, model.name)

    def _add(params: dict[str, Any], operation: str) -> None:
        if params.get("TableName") == LEDGER or operation == "TransactWriteItems":
            if operation == "PutItem":
                puts, rate = [params["Item"]], 1
            elif operation == "TransactWriteItems":
                puts, rate = [entry["Put"]["Item"] for entry in params["TransactItems"]], 2
            else:
                return
            cost.calls += 1
            for item in puts:
                kind = _kind(item)
                cost.units[kind] = cost.units.get(kind, 0) + rate * math.ceil(item_size(item) / 1024)

    with in_process_tables():
        create_checkpoint_bucket(boto3.client("s3"), "bench-checkpoints")
        key = publishing.signer(create_signing_key(boto3.client("kms")))
        sealables = _sealables(events, seed=batch)
        client = events_table.dynamodb_client()
        client.meta.events.register("provide-client-params.dynamodb", capture)
        try:
            for start in range(0, events, batch):
                sealing.seal(LEDGER, "org_bench", sealables[start : start + batch], lambda: datetime.now(UTC))
                publishing.publish_if_due(
                    ledger_table=LEDGER,
                    bucket="bench-checkpoints",
                    ledger_origin="bench",
                    key=key,
                    org_id="org_bench",
                    interval=timedelta(0),
                    now=lambda: datetime.now(UTC),
                )
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb", capture)
    return cost


def _build_tree(size: int) -> storage.StoredCheckpoint:
    """A tree of `size` random leaves written as sealing lays it out (segments of a
    tile's width, the nodes above), and its checkpoint (unsigned: reads do not check)."""
    client = events_table.dynamodb_client()
    level = [hashlib.sha256(n.to_bytes(8, "big")).digest() for n in range(size)]
    items: list[dict[str, Any]] = []
    for start in range(0, size, tiles.TILE_WIDTH):
        chunk = level[start : start + tiles.TILE_WIDTH]
        items.append(
            {
                "pk": storage.leaves_pk("org_big"),
                "sk": f"{start:020d}",
                "hashes": b"".join(chunk),
                "events": [f"k{start + n}" for n in range(len(chunk))],
                "sealed_at": "2026-01-01T00:00:00.000Z",
            }
        )
    tile_level = 0
    row = level
    while len(row) >= tiles.TILE_WIDTH:
        tile_level += 1
        full = len(row) // tiles.TILE_WIDTH
        row = [tiles.full_run_root(row[i * tiles.TILE_WIDTH : (i + 1) * tiles.TILE_WIDTH]) for i in range(full)]
        items += [
            {"pk": storage.nodes_pk("org_big", tile_level), "sk": f"{i:020d}", "hash": value}
            for i, value in enumerate(row)
        ]
    for start in range(0, len(items), 25):
        batch = items[start : start + 25]
        client.batch_write_item(
            RequestItems={LEDGER: [{"PutRequest": {"Item": events_table.to_dynamodb(item)}} for item in batch]}
        )
    read = tiles.TileHashes(size, storage.tile_reader(LEDGER, "org_big"))
    compact = [read(lvl, idx) for lvl, idx in tiles.compact_range_nodes(size)]
    checkpoint = storage.StoredCheckpoint(
        origin="bench/org_big",
        tree_size=size,
        root_hash=tiles.root_of_compact_range(compact),
        timestamp="2026-01-01T00:00:00.000Z",
        key_id="0" * 64,
        body="",
        signature=b"",
        compact_range=b"".join(compact),
    )
    assert checkpoint.root_hash == hashing.root(size, hashing.LeafList(level))
    storage.put_checkpoint(LEDGER, "org_big", checkpoint)
    return checkpoint


class _Calls:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: Any) -> None:
        self.count += 1


def proof_cost(size: int) -> ProofCost:
    with in_process_tables():
        progress(f"ledger: building a tree of {size:,} leaves")
        checkpoint = _build_tree(size)
        client = events_table.dynamodb_client()
        calls = _Calls()
        client.meta.events.register("before-call.dynamodb", calls)
        try:
            latest = storage.latest_checkpoint(LEDGER, "org_big")
            assert latest is not None
            hashes = tiles.TileHashes(size, storage.tile_reader(LEDGER, "org_big"), publishing.known_hashes(latest))
            index = size // 3
            path = hashing.inclusion_path(index, size, hashes)
            leaf = hashes(0, index)
            inclusion_reads = calls.count
            hashing.verify_inclusion(index, size, leaf, path, checkpoint.root_hash)
            calls.count = 0
            old = size // 2 + 37
            proof = reading.consistency(LEDGER, "org_big", old, size).proof
            consistency_reads = calls.count
        finally:
            client.meta.events.unregister("before-call.dynamodb", calls)
    return ProofCost(
        leaves=size,
        inclusion_reads=inclusion_reads,
        inclusion_bytes=32 * len(path),
        consistency_reads=consistency_reads,
        consistency_bytes=32 * len(proof),
    )


def throughput(events: int = 5_000) -> tuple[float, float]:
    """(events/s sealed in batches of 100, events/s of only hashing them)."""
    with in_process_tables():
        sealables = _sealables(events, seed=99)
        items = [
            event_item(e, f"01HASH{n:020d}", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", 0)
            for n, e in enumerate(dataset.events(events, seed=99))
        ]
        started = time.perf_counter()
        for item in items:
            event_leaf_hash(event_out(item).model_dump(mode="json"))
        hashed = events / (time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, events, 100):
            sealing.seal(LEDGER, "org_rate", sealables[start : start + 100], lambda: datetime.now(UTC))
        sealed = events / (time.perf_counter() - started)
    return sealed, hashed


def recomputation_rate(events: int = 50_000) -> float:
    """`audit-log audit`'s own check (audit_log_client.audit.recompute: each entry's order,
    leaf hash and event, then the root) on entries already fetched: events/s."""
    import base64

    from audit_log_client.audit import recompute

    moment = "2026-01-01T00:00:00.000Z"
    served = [
        event_out(event_item(event, f"01AUD{n:021d}", moment, moment, 0)).model_dump(mode="json")
        for n, event in enumerate(dataset.events(events, seed=5))
    ]
    leaves = [event_leaf_hash(event) for event in served]
    entries = [
        {"leaf_index": n, "leaf_hash": base64.b64encode(leaf).decode(), "event": event}
        for n, (leaf, event) in enumerate(zip(leaves, served, strict=True))
    ]
    expected = hashing.root(events, hashing.LeafList(leaves))
    started = time.perf_counter()
    recompute(entries, events, expected)
    return events / (time.perf_counter() - started)


def seal_lag(interval: int, seconds: float = 20, rate: float = 10) -> SealLag:
    """Recorded → in a published checkpoint, for events recorded one by one at `rate` a
    second for `seconds`, through the local pipeline: record_event's handler, the events
    stream as `make local`'s poller reads it, seal_log's handler, in one process on moto
    (one moto request at a time, as tests/conftest.py explains). Each event's lag is
    the first covering checkpoint's timestamp less the event's recorded_at."""
    from moto.core.botocore_stubber import BotocoreStubber

    from bench.latency import sample_event, stdout_discarded
    from devtools.functions import LambdaContext, load_function
    from devtools.stream_poller import event_sources
    from devtools.template import create_queue

    os.environ["CHECKPOINT_INTERVAL_SECONDS"] = str(interval)
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def one_at_a_time(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = one_at_a_time  # type: ignore[method-assign]
    try:
        with in_process_tables(), stdout_discarded():
            create_checkpoint_bucket(boto3.client("s3"), "bench-checkpoints")
            os.environ.update(
                SIGNING_KEY_ID=create_signing_key(boto3.client("kms")),
                CHECKPOINT_BUCKET="bench-checkpoints",
                CHECKPOINT_QUEUE_URL=create_queue(boto3.client("sqs"), "CheckpointQueue", "bench-calls"),
                LEDGER_ORIGIN="bench",
            )
            record = load_function("record_event", "lag")
            seal_log = load_function("seal_log", "lag")
            stream, queue = event_sources(
                dynamodb_endpoint=None,
                table_name=os.environ["TABLE_NAME"],
                queue_url=os.environ["CHECKPOINT_QUEUE_URL"],
            )
            context = LambdaContext()

            def invoke(event: dict[str, Any]) -> Any:
                return seal_log.lambda_handler(event, context)

            done = threading.Event()

            def pipeline() -> None:
                while not done.is_set():
                    if not stream.deliver(invoke) + queue.deliver(invoke):
                        time.sleep(0.2)

            sealer = threading.Thread(target=pipeline, daemon=True)
            sealer.start()
            recorded: list[tuple[str, str]] = []
            template = sample_event("record_event")  # events/record_event.json, as sam local invoke sends it
            for _ in range(int(seconds * rate)):
                body = {"org_id": "org_lag", "event_type": "user.login", "actor": {"id": "usr_1"}}
                request = {**template, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
                request["multiValueHeaders"] = {"Content-Type": ["application/json"]}
                answer = record.lambda_handler(request, context)
                out = json.loads(answer["body"])
                recorded.append((out["event_id"], out["recorded_at"]))
                time.sleep(1 / rate)
            deadline = time.monotonic() + interval + 60
            while time.monotonic() < deadline:
                latest = storage.latest_checkpoint(LEDGER, "org_lag")
                if latest is not None and latest.tree_size >= len(recorded):
                    break
                time.sleep(0.5)
            done.set()
            sealer.join(timeout=60)
            published = sorted((c.tree_size, c.timestamp) for c in storage.checkpoints_newest_first(LEDGER, "org_lag"))
            lags = []
            for event_id, recorded_at in recorded:
                index = storage.leaf_index_of(LEDGER, "org_lag", event_id)
                assert index is not None, "every recorded event was sealed"
                covering = next(stamp for size, stamp in published if size > index)
                lags.append((datetime.fromisoformat(covering) - datetime.fromisoformat(recorded_at)).total_seconds())
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        os.environ["CHECKPOINT_INTERVAL_SECONDS"] = "0"
    lags.sort()
    return SealLag(
        interval=interval,
        events=len(lags),
        p50=lags[len(lags) // 2],
        p99=lags[min(len(lags) - 1, math.ceil(len(lags) * 0.99) - 1)],
        worst=lags[-1],
    )


def measure(quick: bool = False) -> LedgerResult:
    writes = []
    for batch in BATCHES:
        progress(f"ledger: write units at stream batches of {batch}")
        writes.append(write_cost(batch, 200 if batch == 1 else 2_000 if not quick else 200))
    proofs = [proof_cost(size) for size in (PROOF_SIZES[:2] if quick else PROOF_SIZES)]
    progress("ledger: sealing throughput vs bare hashing")
    sealed, hashed = throughput(1_000 if quick else 5_000)
    progress("ledger: audit recomputation rate")
    rate = recomputation_rate(10_000 if quick else 50_000)
    lags = []
    for interval in (0, 10):
        progress(f"ledger: seal lag through the local pipeline, CHECKPOINT_INTERVAL_SECONDS={interval}")
        lags.append(seal_lag(interval, seconds=5 if quick else 20))
        lag = lags[-1]
        progress(f"ledger: seal lag p50 {lag.p50:.2f} s, p99 {lag.p99:.2f} s over {lag.events} events")
    return LedgerResult(writes, proofs, sealed, hashed, rate, lags)
