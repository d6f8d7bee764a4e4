"""The export worker: builds an export's file in steps, each one work message.

A step claims the export (a conditional update on its step number, with a lease), does
its share and records where it got to in the same conditional way, then queues the next
step. So a redelivered or duplicated message finds the step taken or done and does
nothing, and a worker that dies mid-step leaves the export where its last finished step
left it: the next attempt reads on from there and rewrites the same part numbers.

Phases, in order:
- `write`: read the log as `GET /events` does (newest first, one Query per read on the
  filter's key), append CSV rows or NDJSON lines to a buffer and upload it as one part
  of a multipart upload whenever it reaches EXPORT_PART_BYTES. The export's position is
  saved only at a part boundary, so memory holds one part, whatever the export's size.
  A step stops after the part that leaves less than STOP_MARGIN of its time. For NDJSON,
  each event's leaf index is read from the ledger with it (and kept per part, 8 bytes an
  event); an event the sealer has not reached yet makes the step wait and try again.
- `prove` (NDJSON): the smallest checkpoint covering every exported leaf, the subtree
  hashes for the leaves not exported, the proof file.
- `complete`: the multipart upload joined into the one file; only then is the export
  `succeeded`. A failure instead aborts the upload: no half file is ever presented.
"""

import io
import json
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit_log import aws_clients
from audit_log.errors import StoreUnavailable
from audit_log.exports import files, objects, proofs, storage
from audit_log.ledger import publishing, tiles
from audit_log.ledger import storage as ledger_storage
from audit_log.observability import logger
from audit_log.querying import Filters, read_events
from audit_log.settings.exports import ExportWorkerSettings
from audit_log.timestamps import format_utc_ms, utc_now

STOP_MARGIN_MS = 120_000
READ_EVENTS = 1_000  # events asked for per read (DynamoDB pages at 1 MB inside it)
MAX_ATTEMPTS = 5  # failed tries of one step before the export fails
MAX_RECEIVES = 5  # deliveries of one message (the queue's maxReceiveCount)
LEDGER_WAIT_SECONDS = 5
MAX_LEDGER_WAITS = 120  # 10 minutes for the sealer to reach an exported event
_RETRYABLE = (StoreUnavailable, ClientError, BotoCoreError)


@dataclass(frozen=True)
class WorkMessage:
    org_id: str
    export_id: str
    step: int

    @classmethod
    def parse(cls, body: str) -> "WorkMessage":
        fields = json.loads(body)
        if not isinstance(fields, dict):
            raise ValueError("a work message is a JSON object")
        org_id, export_id, step = fields.get("org_id"), fields.get("export_id"), fields.get("step")
        if not isinstance(org_id, str) or not isinstance(export_id, str) or type(step) is not int or step < 0:
            raise ValueError("a work message names org_id, export_id and step")
        return cls(org_id, export_id, step)

    def body(self) -> str:
        return json.dumps({"org_id": self.org_id, "export_id": self.export_id, "step": self.step})


def queue_step(queue_url: str, message: WorkMessage, delay_seconds: int = 0) -> None:
    aws_clients.sqs().send_message(QueueUrl=queue_url, MessageBody=message.body(), DelaySeconds=delay_seconds)


@dataclass
class _Step:
    """One claimed step: the export as stored, and how to record what it did."""

    message: WorkMessage
    item: dict[str, Any]
    settings: ExportWorkerSettings
    lease_id: str
    remaining_ms: Callable[[], int]

    @property
    def org_id(self) -> str:
        return self.message.org_id

    @property
    def export_id(self) -> str:
        return self.message.export_id

    @property
    def key(self) -> str:
        return objects.file_key(self.org_id, self.export_id, self.item["format"])

    def advance(self, changes: dict[str, Any], delay_seconds: int = 0) -> str:
        """Record this step done (the export moves to step + 1) and queue the next one."""
        if not storage.advance(
            self.settings.EXPORTS_TABLE_NAME, self.org_id, self.export_id, self.message.step, self.lease_id, changes
        ):
            logger.warning("Export step lost its lease; another attempt goes on", extra=self._ids())
            return "lease lost"
        if changes.get("state") != "succeeded":
            next_step = WorkMessage(self.org_id, self.export_id, self.message.step + 1)
            queue_step(self.settings.EXPORT_QUEUE_URL, next_step, delay_seconds)
        return "advanced"

    def save(self, changes: dict[str, Any]) -> bool:
        """Record progress within this step, while it still holds its lease."""
        return storage.update(
            self.settings.EXPORTS_TABLE_NAME,
            self.org_id,
            self.export_id,
            set_=changes,
            condition="#step = :step AND #lease_id = :lease",
            values={":step": self.message.step, ":lease": self.lease_id},
        )

    def _ids(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "export_id": self.export_id, "step": self.message.step}


def run_step(
    message: WorkMessage,
    settings: ExportWorkerSettings,
    *,
    lease_id: str,
    remaining_ms: Callable[[], int],
    receive_count: int = 1,
) -> str:
    """Do step `message.step` of its export if it is due and nobody else holds it; what
    happened, for the log. Raises only for what a later delivery should retry."""
    table = settings.EXPORTS_TABLE_NAME
    item = storage.get(table, message.org_id, message.export_id)
    if item is None:
        return "no such export"
    now = int(time.time())
    if int(item["step"]) != message.step or item["state"] not in storage.ACTIVE_STATES:
        if item["state"] == "running" and int(item["step"]) == message.step + 1 and not _leased(item, now):
            # This step finished but its successor may never have been queued: queue it
            # again (a duplicate successor finds its step taken and does nothing).
            queue_step(settings.EXPORT_QUEUE_URL, WorkMessage(message.org_id, message.export_id, message.step + 1))
            return "successor queued again"
        return "already done"
    if receive_count >= MAX_RECEIVES:
        _fail(settings, item, "the export worker stopped unexpectedly on this export several times")
        return "failed"
    until = now + remaining_ms() // 1000 + 30
    if not storage.claim(table, message.org_id, message.export_id, message.step, lease_id, now, until):
        return "held by another attempt"
    step = _Step(message, item, settings, lease_id, remaining_ms)
    try:
        phase = item.get("phase", "write")
        if phase == "write":
            return _write(step)
        if phase == "prove":
            return _prove(step)
        return _complete(step)
    except _RETRYABLE as error:
        return _retry_later(step, error)


def _leased(item: dict[str, Any], now: int) -> bool:
    return "lease_until" in item and int(item["lease_until"]) >= now


def _retry_later(step: _Step, error: Exception) -> str:
    attempts = int(step.item.get("attempts", 0)) + 1
    reason = f"{type(error).__name__}: {str(error)[:300]}"
    if attempts >= MAX_ATTEMPTS:
        _fail(step.settings, step.item, f"gave up after {attempts} attempts; the last: {reason}")
        return "failed"
    logger.warning("Export step failed; trying again", extra={**step._ids(), "reason": reason, "attempt": attempts})
    _put_back(step, {"attempts": attempts}, min(900, LEDGER_WAIT_SECONDS * 4**attempts))
    return "retrying"


def _wait_for_ledger(step: _Step, what: str) -> str:
    waits = int(step.item.get("waits", 0)) + 1
    if waits > MAX_LEDGER_WAITS:
        _fail(step.settings, step.item, f"the ledger did not reach {what} within 10 minutes")
        return "failed"
    _put_back(step, {"waits": waits}, LEDGER_WAIT_SECONDS)
    return "waiting for the ledger"


def _put_back(step: _Step, counts: dict[str, int], delay_seconds: int) -> None:
    """Release the step (same number) with `counts` recorded, and queue it to run again
    after `delay_seconds`; nothing if the lease was lost meanwhile."""
    released = storage.update(
        step.settings.EXPORTS_TABLE_NAME,
        step.org_id,
        step.export_id,
        set_=counts,
        remove=("lease_id", "lease_until"),
        condition="#step = :step AND #lease_id = :lease",
        values={":step": step.message.step, ":lease": step.lease_id},
    )
    if released:
        queue_step(step.settings.EXPORT_QUEUE_URL, step.message, delay_seconds)


def _fail(settings: ExportWorkerSettings, item: dict[str, Any], reason: str) -> None:
    org_id, export_id = item["org_id"], item["export_id"]
    if storage.fail(settings.EXPORTS_TABLE_NAME, org_id, export_id, reason, format_utc_ms(utc_now())):
        logger.error("Export failed", extra={"org_id": org_id, "export_id": export_id, "reason": reason})
    upload_id = item.get("upload_id")
    if upload_id:
        objects.abort_upload(settings.EXPORT_BUCKET, objects.file_key(org_id, export_id, item["format"]), upload_id)


def filters_of(item: dict[str, Any]) -> Filters:
    given = item["filters"]
    return Filters.from_query(
        given.get("event_type"),
        given.get("actor_id"),
        given.get("since"),
        given.get("until"),
        given.get("target_type"),
        given.get("target_id"),
    )


def _write(step: _Step) -> str:
    settings, item = step.settings, step.item
    ndjson = item["format"] == "ndjson"
    filters = filters_of(item)
    after: str | None = item.get("after")
    part = int(item.get("part", 1))
    upload_id: str | None = item.get("upload_id")
    events = int(item.get("events", 0))
    leaf_max = int(item.get("leaf_max", -1))
    buffer = bytearray(files.csv_header() if not ndjson and part == 1 and after is None else b"")
    buffered, indexes = 0, array("Q")
    while True:
        read = read_events(
            step.org_id,
            filters,
            after,
            READ_EVENTS,
            table_name=settings.TABLE_NAME,
            investigation_table=settings.INVESTIGATION_TABLE_NAME,
        )
        served = [event.model_dump(mode="json") for event in read.events]
        if ndjson and served:
            ids = [event["event_id"] for event in served]
            leaves = ledger_storage.leaf_indexes(settings.LEDGER_TABLE_NAME, step.org_id, ids)
            unsealed = [event_id for event_id in ids if event_id not in leaves]
            if unsealed:
                return _wait_for_ledger(step, f"event {unsealed[0]}")
            indexes.extend(leaves[event_id] for event_id in ids)
            leaf_max = max(leaf_max, *(leaves[event_id] for event_id in ids))
        buffer += files.ndjson_lines(served) if ndjson else files.csv_rows(served)
        buffered += len(served)
        done = read.resume_after is None
        after = read.resume_after or after
        if not done and len(buffer) < settings.EXPORT_PART_BYTES:
            continue
        content_type = objects.CONTENT_TYPES[item["format"]]
        if done and upload_id is None:  # all of it fits in one part: one plain put
            objects.put(settings.EXPORT_BUCKET, step.key, bytes(buffer), content_type)
        else:
            if upload_id is None:
                upload_id = objects.start_upload(settings.EXPORT_BUCKET, step.key, content_type)
            objects.upload_part(settings.EXPORT_BUCKET, step.key, upload_id, part, bytes(buffer))
        if ndjson:
            objects.put_indexes(settings.EXPORT_BUCKET, objects.indexes_key(step.org_id, step.export_id, part), indexes)
        part, events = part + 1, events + buffered
        position: dict[str, Any] = {"part": part, "events": events, "leaf_max": leaf_max, "attempts": 0}
        if upload_id is not None:
            position["upload_id"] = upload_id
        if after is not None:
            position["after"] = after
        if done:
            return step.advance({**position, "phase": "prove" if ndjson else "complete"})
        if step.remaining_ms() < STOP_MARGIN_MS:
            return step.advance(position)
        if not step.save(position):  # a rerun of this step now goes on from this part
            return "lease lost"
        buffer, buffered, indexes = bytearray(), 0, array("Q")


def _prove(step: _Step) -> str:
    settings, item = step.settings, step.item
    leaf_max = int(item.get("leaf_max", -1))
    checkpoint = ledger_storage.first_checkpoint_from(settings.LEDGER_TABLE_NAME, step.org_id, leaf_max + 1)
    if checkpoint is None:
        return _wait_for_ledger(step, f"a checkpoint of {leaf_max + 1} leaves")
    indexes = array("Q")
    for part in range(1, int(item["part"])):
        indexes += objects.get_indexes(settings.EXPORT_BUCKET, objects.indexes_key(step.org_id, step.export_id, part))
    if len(indexes) != int(item["events"]):
        raise ledger_storage.LedgerCorrupted(f"{len(indexes)} leaf indexes kept for {item['events']} exported events")
    hashes = tiles.TileHashes(
        checkpoint.tree_size,
        ledger_storage.tile_reader(settings.LEDGER_TABLE_NAME, step.org_id),
        publishing.known_hashes(checkpoint),
    )
    out = io.BytesIO()
    proofs.write_proof(out, export_id=step.export_id, checkpoint=checkpoint, leaf_indices=indexes, subtree_hash=hashes)
    objects.put(
        settings.EXPORT_BUCKET, objects.proof_key(step.org_id, step.export_id), out.getvalue(), "application/json"
    )
    return step.advance({"phase": "complete", "tree_size": checkpoint.tree_size, "attempts": 0})


def _complete(step: _Step) -> str:
    settings, item = step.settings, step.item
    upload_id = item.get("upload_id")
    if upload_id:
        objects.complete_upload(settings.EXPORT_BUCKET, step.key, upload_id, int(item["part"]) - 1)
    return step.advance({"phase": "done", "state": "succeeded", "completed_at": format_utc_ms(utc_now())})
