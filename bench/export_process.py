"""An export driven step by step as its queue would drive it, and, run as a script, the
export worker's memory measured in a process that holds what a Lambda container holds:

    python bench/export_process.py EVENTS FORMAT SAMPLES.json   # bench/exports.py runs it

As a script it imports the export_worker function as Lambda would and nothing of the
bench (no moto, no dataset code): its peak RSS is the worker's. Its S3, SQS and exports
table are the moto server AWS_ENDPOINT_URL names (made there by the parent). Events come
from a generator in place of the DynamoDB read: the parent's sample events (stored form)
cycled, each with an id of its own; the ledger answers leaf indexes newest first and a
checkpoint of the whole tree. Everything from the read on is the worker's own code.
"""

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORG = "org_big"
_NAMES = ("event_type", "actor_id", "since", "until", "target_type", "target_id")


def run_export(file_format: str, filters: dict[str, Any], remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """An export of ORG, from its first step to its last; the stored item at the end."""
    from audit_log.exports import storage, worker
    from audit_log.settings import current
    from audit_log.settings.exports import ExportWorkerSettings

    settings = current(ExportWorkerSettings)
    export_id = storage.new_export_id()
    storage.put_new(
        settings.EXPORTS_TABLE_NAME,
        {
            "pk": storage.exports_pk(ORG),
            "sk": export_id,
            "export_id": export_id,
            "org_id": ORG,
            "format": file_format,
            "filters": {name: filters.get(name) for name in _NAMES},
            "state": "queued",
            "events": 0,
            "created_at": "2026-11-01T00:00:00.000Z",
            "requested_by": {"id": "usr_bench", "email": None, "name": None},
            "step": 0,
            "phase": "write",
        },
    )
    step = 0
    while True:
        outcome = worker.run_step(
            worker.WorkMessage(ORG, export_id, step), settings, lease_id=f"bench-{step}", remaining_ms=remaining_ms
        )
        item = storage.get(settings.EXPORTS_TABLE_NAME, ORG, export_id)
        assert item is not None
        if item["state"] not in ("queued", "running"):
            assert item["state"] == "succeeded", item.get("error")
            return item
        if outcome != "advanced":
            raise RuntimeError(f"export step {step}: {outcome}")
        step += 1


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: of this program alone; getrusage's
    ru_maxrss would carry over the parent's from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(size: int, file_format: str, samples_path: str) -> None:
    for path in (str(ROOT), str(ROOT / "layers" / "common" / "python")):
        sys.path.insert(0, path)
    from devtools.functions import load_function

    load_function("export_worker")  # what a Lambda container imports
    import boto3

    from audit_log.exports import objects, worker
    from audit_log.ledger import storage as ledger_storage
    from audit_log.querying import EventsRead, event_out

    samples: list[dict[str, Any]] = json.loads(Path(samples_path).read_text())
    served = {"count": 0}

    def generated(*args: Any, **_: Any) -> EventsRead:
        """The next `count` events (the worker reads on from where its last read ended)."""
        count = int(args[3])
        start = served["count"]
        events = []
        for n in range(start, min(size, start + count)):
            sample = samples[n % len(samples)]
            event_id = f"{n:026d}"
            events.append(event_out({**sample, "event_id": event_id, "sk": f"{sample['occurred_at']}#{event_id}"}))
        served["count"] = start + len(events)
        return EventsRead(events, f"at#{served['count']:026d}" if served["count"] < size else None)

    def leaf_indexes(table_name: str, org_id: str, event_ids: Sequence[str]) -> dict[str, int]:
        del table_name, org_id
        return {event_id: size - 1 - int(event_id) for event_id in event_ids}  # newest first: the last leaf first

    checkpoint = ledger_storage.StoredCheckpoint(
        origin=f"bench/{ORG}",
        tree_size=size,
        root_hash=b"\0" * 32,
        timestamp="2026-11-01T00:00:00.000Z",
        key_id="0" * 64,
        body="",
        signature=b"",
        compact_range=b"",
    )
    setattr(worker, "read_events", generated)  # noqa: B010  (in place of the DynamoDB read: see the module)
    ledger_storage.leaf_indexes = leaf_indexes
    ledger_storage.first_checkpoint_from = lambda *_: checkpoint
    del samples_path
    baseline = _peak_mb()
    started = time.perf_counter()
    item = run_export(file_format, {}, lambda: 900_000)
    seconds = time.perf_counter() - started
    s3, bucket, export_id = boto3.client("s3"), os.environ["EXPORT_BUCKET"], item["export_id"]
    file_bytes = s3.head_object(Bucket=bucket, Key=objects.file_key(ORG, export_id, file_format))["ContentLength"]
    proof_bytes = 0
    if file_format == "ndjson":
        proof_bytes = s3.head_object(Bucket=bucket, Key=objects.proof_key(ORG, export_id))["ContentLength"]
    figures = {
        "events": int(item["events"]),
        "file_format": file_format,
        "peak_mb": round(_peak_mb(), 1),
        "baseline_mb": round(baseline, 1),
        "seconds": round(seconds, 2),
        "file_bytes": file_bytes,
        "proof_bytes": proof_bytes,
        "parts": int(item["part"]) - 1,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
