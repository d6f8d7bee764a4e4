"""seal_log: appends every recorded event to its organisation's ledger and publishes
signed checkpoints.

Three kinds of invocation:
- the events table's DynamoDB stream: seal the batch, then publish each grown tree's
  checkpoint if one is due, else queue a call for when it is (failures reported per
  record, so Lambda retries from the first unsealed one; a batch that keeps failing
  goes to the dead-letter queue);
- that queue (SQS): publish a checkpoint that fell due, or go on with a reconciliation;
- the schedule: reconcile, sealing any event the stream never delivered.
"""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

import json
import math
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log import aws_clients
from audit_log.ledger import publishing, reconciliation
from audit_log.ledger.stream_batches import SEALING_FAILURES, seal_records
from audit_log.observability import logger, metrics, tracer
from audit_log.settings import current
from audit_log.settings.seal import SealSettings
from audit_log.timestamps import utc_now

# A reconciliation stops this long before the function's timeout and queues the rest.
_RECONCILE_RESERVE_MS = 60_000

queue_processor = BatchProcessor(event_type=EventType.SQS)


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    source = records[0].get("eventSource") if records and isinstance(records[0], dict) else None
    if source == "aws:dynamodb":
        return seal_stream_batch(event)
    if source == "aws:sqs":
        answer = process_partial_response(event, lambda record: on_queued(record, context), queue_processor, context)
        return dict(answer)
    if event.get("source") == "aws.scheduler" or event.get("reconcile") is not None:
        return reconcile(context, start=None)
    logger.error("Unknown invocation; nothing done", extra={"keys": sorted(event)[:10]})
    raise ValueError("seal_log is invoked by the events stream, its queue or its schedule")


def seal_stream_batch(event: dict[str, Any]) -> dict[str, Any]:
    settings = current(SealSettings)
    outcome = seal_records(DynamoDBStreamEvent(event).records, settings.LEDGER_TABLE_NAME, utc_now)
    appended = sum(sealed.appended for sealed in outcome.sealed)
    metrics.add_metric(name="LeavesAppended", unit=MetricUnit.Count, value=appended)
    metrics.add_metric(name="SealLag", unit=MetricUnit.Seconds, value=outcome.max_lag_seconds)
    metrics.add_metric(name="SealClaimsLost", unit=MetricUnit.Count, value=sum(s.lost_claims for s in outcome.sealed))
    if outcome.malformed:
        metrics.add_metric(name="UnsealableRecords", unit=MetricUnit.Count, value=outcome.malformed)
    failed = list(outcome.failed_sequence_numbers)
    for sealed in outcome.sealed:
        # Also when nothing was appended: a retried batch finds its leaves sealed by the
        # attempt that failed before it could publish them.
        try:
            publish_or_defer(settings, sealed.org_id)
        except SEALING_FAILURES as exc:  # sealed, not yet published: the retry publishes
            logger.error(
                "Publishing failed; the batch will be retried", extra={"org_id": sealed.org_id, "reason": repr(exc)}
            )
            failed.append(outcome.first_sequence[sealed.org_id])
    if failed:
        metrics.add_metric(name="SealBatchFailures", unit=MetricUnit.Count, value=1)
    logger.info(
        "Stream batch sealed",
        extra={
            "orgs": len(outcome.sealed),
            "appended": appended,
            "skipped": outcome.skipped,
            "failed": len(failed),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


def publish_or_defer(settings: SealSettings, org_id: str) -> None:
    """Publish `org_id`'s checkpoint now if due, else queue a call for when it is due."""
    outcome = publishing.publish_if_due(
        ledger_table=settings.LEDGER_TABLE_NAME,
        bucket=settings.CHECKPOINT_BUCKET,
        ledger_origin=settings.LEDGER_ORIGIN,
        key=publishing.signer(settings.SIGNING_KEY_ID),
        org_id=org_id,
        interval=timedelta(seconds=settings.CHECKPOINT_INTERVAL_SECONDS),
        now=utc_now,
    )
    if isinstance(outcome, publishing.Deferred):
        aws_clients.sqs().send_message(
            QueueUrl=settings.CHECKPOINT_QUEUE_URL,
            MessageBody=json.dumps({"checkpoint": org_id}),
            DelaySeconds=min(900, max(1, math.ceil(outcome.seconds))),
        )
    elif outcome is not None:
        metrics.add_metric(name="CheckpointsPublished", unit=MetricUnit.Count, value=1)
        logger.info("Checkpoint published", extra={"org_id": org_id, "tree_size": outcome.tree_size})


def on_queued(record: SQSRecord, context: LambdaContext) -> None:
    """A queued call: {"checkpoint": org_id} or {"reconcile": where to go on}."""
    message = json.loads(record.body)
    if "checkpoint" in message:
        publish_or_defer(current(SealSettings), str(message["checkpoint"]))
    elif "reconcile" in message:
        reconcile(context, start=message["reconcile"])
    else:
        raise ValueError("a queued call names a checkpoint or a reconciliation")


def reconcile(context: LambdaContext, start: dict[str, Any] | None) -> dict[str, Any]:
    settings = current(SealSettings)
    interval = timedelta(seconds=settings.CHECKPOINT_INTERVAL_SECONDS)
    result = reconciliation.reconcile(
        events_table_name=settings.TABLE_NAME,
        ledger_table=settings.LEDGER_TABLE_NAME,
        interval=interval,
        now=utc_now,
        start=start,
        keep_going=lambda: context.get_remaining_time_in_millis() > _RECONCILE_RESERVE_MS,
    )
    metrics.add_metric(name="UnsealedEvents", unit=MetricUnit.Count, value=result.overdue)
    for org_id in sorted(result.sealed_orgs):
        publish_or_defer(settings, org_id)
    if result.resume_at is not None:
        aws_clients.sqs().send_message(
            QueueUrl=settings.CHECKPOINT_QUEUE_URL, MessageBody=json.dumps({"reconcile": result.resume_at})
        )
    (logger.warning if result.unsealed else logger.info)(
        "Reconciliation pass",
        extra={
            "checked": result.checked,
            "unsealed": result.unsealed,
            "overdue": result.overdue,
            "done": result.resume_at is None,
        },
    )
    return {"checked": result.checked, "unsealed": result.unsealed, "done": result.resume_at is None}


loading.done()
