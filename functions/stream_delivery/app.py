"""stream_delivery: delivers one log stream per message (see audit_log.streams.delivery),
batch size 1 so that a slow destination holds up nothing but itself. A message that is
not a delivery message is logged and dropped; an unexpected error reports the message
failed, so the queue delivers it again (the stream's wake and position are unchanged)."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log.observability import logger, metrics, tracer
from audit_log.settings import current
from audit_log.settings.streams import StreamDeliverySettings
from audit_log.streams.delivery import DeliveryMessage, run

processor = BatchProcessor(event_type=EventType.SQS)


def _deliver(record: SQSRecord, lambda_context: LambdaContext) -> None:
    try:
        message = DeliveryMessage.parse(record.body)
    except ValueError as malformed:
        logger.error(
            "Not a delivery message; dropped", extra={"message_id": record.message_id, "reason": str(malformed)}
        )
        return
    outcome = run(
        message,
        current(StreamDeliverySettings),
        lease_id=f"{lambda_context.aws_request_id}:{record.message_id}",
        remaining_ms=lambda_context.get_remaining_time_in_millis,
        clock=time.time,
    )
    metrics.add_metric(name="StreamDeliveries", unit=MetricUnit.Count, value=1)
    logger.info("Stream delivery", extra={"org_id": message.org_id, "stream_id": message.stream_id, "outcome": outcome})


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=_deliver, processor=processor, context=context)


loading.done()
