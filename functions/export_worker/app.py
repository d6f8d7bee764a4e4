"""export_worker: builds export files, one step per work message (see
audit_log.exports.worker). A message that is not a work message is logged and dropped
(retrying it could never help); a step that hits an unexpected error is reported failed,
so the queue delivers it again and, after its last delivery, the export is marked failed."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log.exports.worker import WorkMessage, run_step
from audit_log.observability import logger, metrics, tracer
from audit_log.settings import current
from audit_log.settings.exports import ExportWorkerSettings

processor = BatchProcessor(event_type=EventType.SQS)


def _step(record: SQSRecord, lambda_context: LambdaContext) -> None:
    try:
        message = WorkMessage.parse(record.body)
    except ValueError as malformed:
        logger.error(
            "Not an export work message; dropped", extra={"message_id": record.message_id, "reason": str(malformed)}
        )
        return
    outcome = run_step(
        message,
        current(ExportWorkerSettings),
        lease_id=f"{lambda_context.aws_request_id}:{record.message_id}",
        remaining_ms=lambda_context.get_remaining_time_in_millis,
        receive_count=int(record.attributes.approximate_receive_count or 1),
    )
    metrics.add_metric(name="ExportSteps", unit=MetricUnit.Count, value=1)
    logger.info(
        "Export step",
        extra={"org_id": message.org_id, "export_id": message.export_id, "step": message.step, "outcome": outcome},
    )


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_step, processor=processor, context=context)


loading.done()
