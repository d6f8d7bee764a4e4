"""record_event: `POST /events` and `POST /events/batch`, called by platform backends."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.metrics import MetricUnit

from audit_log.event_rules import BatchIn, EventIn, IdempotencyKey
from audit_log.http import create_resolver, documented_errors, json_response, lambda_handler_for, success
from audit_log.models.events import BatchOut, BatchRecorded, Recorded
from audit_log.observability import logger, metrics, traced
from audit_log.recording import Outcome, record_events
from audit_log.settings import current
from audit_log.settings.record import RecordSettings

app = create_resolver(rejected_metric="EventsRejected")
# Every request validates one of these: built at init, not in the first request (the
# layer defers them for the functions that never validate an event).
EventIn.model_rebuild()
BatchIn.model_rebuild()


def _record(requests: list[tuple[EventIn, str | None]]) -> list[Outcome]:
    settings = current(RecordSettings)
    outcomes = record_events(
        requests,
        table_name=settings.TABLE_NAME,
        retention_days=settings.RETENTION_DAYS,
    )
    written = sum(not outcome.duplicate for outcome in outcomes)
    metrics.add_metric(name="EventsRecorded", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=len(outcomes) - written)
    for (event, _), outcome in zip(requests, outcomes, strict=True):
        logger.info(
            "Event recorded" if not outcome.duplicate else "Duplicate of a recorded event",
            extra={"org_id": event.org_id, "event_type": event.event_type, "event_id": outcome.recorded.event_id},
        )
    return outcomes


@app.post(
    "/events",
    summary="Record one event",
    description="Called by platform backends, signed with SigV4. With an `Idempotency-Key` this organisation "
    "already used in the last 24 hours, answers 200 with the original event and writes nothing.",
    responses={
        201: success(Recorded, "Recorded"),
        200: success(Recorded, "A duplicate: the event first recorded under this Idempotency-Key"),
        **documented_errors(400, 403, 422, 503),
    },
    security=[{"sigv4": []}],
    tags=["record"],
)
@traced
def record_one(
    event: EventIn,
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> Response[Recorded]:
    (outcome,) = _record([(event, idempotency_key)])
    return json_response(HTTPStatus.OK if outcome.duplicate else HTTPStatus.CREATED, outcome.recorded)


@app.post(
    "/events/batch",
    summary="Record 1-25 events, all or nothing",
    description="Each event may carry its own `idempotency_key`; answers in request order.",
    responses={201: success(BatchOut, "Recorded (duplicates marked)"), **documented_errors(400, 403, 422, 503)},
    security=[{"sigv4": []}],
    tags=["record"],
)
@traced
def record_batch(batch: BatchIn) -> Response[BatchOut]:
    outcomes = _record([(event, event.idempotency_key) for event in batch.events])
    body = BatchOut(
        events=[BatchRecorded(**outcome.recorded.model_dump(), duplicate=outcome.duplicate) for outcome in outcomes]
    )
    return json_response(HTTPStatus.CREATED, body)


lambda_handler = lambda_handler_for(app)

loading.done()
