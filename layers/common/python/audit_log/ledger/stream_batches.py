"""One stream batch of the events table, sealed organisation by organisation.

A batch is sealed per organisation, not per record: one claim holds up to a tile's worth
of one organisation's events, which is what keeps the ledger's write cost near one unit
per event. Records that are not new events (idempotency markers, TTL removals) are not
ledger entries. When an organisation's sealing fails, its first record is reported
(ReportBatchItemFailures): Lambda retries the batch from the lowest such record, and
whatever was sealed before is found again rather than appended twice.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from audit_log.errors import StoreUnavailable, WriteContention
from audit_log.ledger.sealing import Sealable, Sealed, seal, sealable
from audit_log.ledger.storage import LedgerCorrupted
from audit_log.observability import logger
from audit_log.querying import event_out
from audit_log.stream_records import is_new_event
from audit_log.timestamps import parse_rfc3339

# What makes one organisation's sealing fail this time; the record is retried.
SEALING_FAILURES = (StoreUnavailable, WriteContention, LedgerCorrupted, ClientError, BotoCoreError)


class NotAnEvent(ValueError):
    """A stream record that claims to be an event but cannot be one."""


@dataclass
class BatchOutcome:
    sealed: list[Sealed] = field(default_factory=list)
    failed_sequence_numbers: list[str] = field(default_factory=list)
    first_sequence: dict[str, str] = field(default_factory=dict)  # org id → its first record
    skipped: int = 0  # markers and removals: not events
    malformed: int = 0
    max_lag_seconds: float = 0.0


def to_sealable(record: DynamoDBRecord) -> tuple[str, Sealable]:
    """(org id, the event) from a new event's record; NotAnEvent if the image is not one."""
    image = record.dynamodb.new_image if record.dynamodb else {}
    try:
        org_id = str(image["pk"]).removeprefix("org#")
        served = event_out(image).model_dump(mode="json")
        return org_id, sealable(image, served)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise NotAnEvent(type(exc).__name__) from exc


def seal_records(records: Iterable[DynamoDBRecord], table_name: str, now: Callable[[], datetime]) -> BatchOutcome:
    outcome = BatchOutcome()
    by_org: dict[str, list[tuple[str, Sealable]]] = {}
    for record in records:
        sequence = (record.dynamodb.sequence_number if record.dynamodb else None) or ""
        if not is_new_event(record):
            outcome.skipped += 1
            continue
        try:
            org_id, event = to_sealable(record)
        except NotAnEvent as exc:
            # Never skipped: reported, so the batch retries and at last goes to the DLQ.
            logger.error("Stream record is not a sealable event", extra={"reason": str(exc), "sequence": sequence})
            outcome.malformed += 1
            outcome.failed_sequence_numbers.append(sequence)
            continue
        by_org.setdefault(org_id, []).append((sequence, event))
    for org_id, events in by_org.items():
        outcome.first_sequence[org_id] = events[0][0]
        try:
            sealed = seal(table_name, org_id, [event for _, event in events], now)
        except SEALING_FAILURES as exc:
            logger.error("Sealing failed; the batch will be retried", extra={"org_id": org_id, "reason": repr(exc)})
            outcome.failed_sequence_numbers.append(events[0][0])
            continue
        outcome.sealed.append(sealed)
        recorded = min(parse_rfc3339(event.recorded_at) for _, event in events)
        outcome.max_lag_seconds = max(outcome.max_lag_seconds, (now() - recorded).total_seconds())
    return outcome
