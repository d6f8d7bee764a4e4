"""index_events: keeps the investigation helpers up to date from the events table's
stream (its second reader; the sealer is the first): actors and event types for
`GET /actors` and `GET /event-types`, each event's copy under its targets for the
target filter, and login signals.

A batch that fails for an organisation reports that organisation's first record, so
Lambda retries from there; everything it does is idempotent, so the retry finds the rest
done. A record that is not an event is logged and left out: the sealer, which must seal
every event, reports it.
"""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log.investigation.indexing import index_records
from audit_log.observability import logger, metrics, tracer
from audit_log.settings import current
from audit_log.settings.index import IndexSettings


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    outcome = index_records(DynamoDBStreamEvent(event).records, current(IndexSettings).INVESTIGATION_TABLE_NAME)
    metrics.add_metric(name="EventsIndexed", unit=MetricUnit.Count, value=outcome.events)
    if outcome.malformed:
        metrics.add_metric(name="UnindexableRecords", unit=MetricUnit.Count, value=outcome.malformed)
    if outcome.failed_sequence_numbers:
        metrics.add_metric(name="IndexBatchFailures", unit=MetricUnit.Count, value=1)
    logger.info(
        "Stream batch indexed",
        extra={
            "orgs": outcome.orgs,
            "events": outcome.events,
            "skipped": outcome.skipped,
            "malformed": outcome.malformed,
            "failed": len(outcome.failed_sequence_numbers),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in outcome.failed_sequence_numbers]}


loading.done()
