"""stream_dispatch: follows the sealed ledger (the ledger table's stream) and wakes the
log streams that new leaves leave behind (see audit_log.streams.dispatch). An
organisation whose streams cannot be woken this time reports its first record, so
Lambda retries the batch from there; waking twice sends nothing twice."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log.observability import logger, metrics, tracer
from audit_log.settings import current
from audit_log.settings.streams import StreamDispatchSettings
from audit_log.streams.dispatch import dispatch


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    outcome = dispatch(DynamoDBStreamEvent(event).records, current(StreamDispatchSettings), int(time.time()))
    metrics.add_metric(name="StreamsWoken", unit=MetricUnit.Count, value=outcome.woken)
    if outcome.failed_sequence_numbers:
        metrics.add_metric(
            name="StreamDispatchFailures", unit=MetricUnit.Count, value=len(outcome.failed_sequence_numbers)
        )
    logger.info(
        "Ledger batch dispatched",
        extra={"orgs": outcome.orgs, "woken": outcome.woken, "failed": len(outcome.failed_sequence_numbers)},
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in outcome.failed_sequence_numbers]}


loading.done()
