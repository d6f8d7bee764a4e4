"""streams: an ORG Admin's log streams — create one (`POST /streams`), list them and
see their health (`GET /streams`, `GET /streams/{stream_id}`), delete one, send a test
message, resume a paused one. Creating, deleting and resuming are recorded in the log."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from audit_log.http import (
    SingleOriginCors,
    caller_org,
    create_resolver,
    documented_errors,
    json_response,
    lambda_handler_for,
    reject_unknown_parameters,
    requester_of,
    success,
)
from audit_log.observability import logger, metrics, traced
from audit_log.settings import current
from audit_log.settings.streams import StreamSettings
from audit_log.streams.models import DestinationAnswer, StreamCreated, StreamIn, StreamOut, StreamsList
from audit_log.streams.service import (
    create_stream,
    delete_stream,
    get_stream,
    list_streams,
    resume_stream,
    send_test_message,
)

app = create_resolver(
    rejected_metric="StreamRequestsRejected", cors=SingleOriginCors(lambda: current(StreamSettings).ADMIN_ORIGIN)
)
_ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
_TAGS = ["stream"]
StreamId = Annotated[str, Path(min_length=1, max_length=64)]


@app.post(
    "/streams",
    summary="Stream the caller's organisation's log to a webhook, Splunk HEC, Datadog or an S3 bucket",
    description="For ORG Admins (Bearer token). At most 5 per organisation. Delivery follows the ledger from "
    "`start_leaf` (default: the ledger's size now). A webhook's signing secret is in this answer only. "
    "Recorded in the log as `log_stream.created`.",
    responses={
        201: success(StreamCreated, "The stream"),
        **documented_errors(400, 401, 403, 409, 422, 503),
    },
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def post_stream(body: StreamIn) -> Response[StreamCreated]:
    requester = requester_of(app)
    reject_unknown_parameters(app, frozenset())
    stream = create_stream(requester, body, current(StreamSettings))
    metrics.add_metric(name="StreamsCreated", unit=MetricUnit.Count, value=1)
    logger.info(
        "Stream created", extra={"org_id": requester.org_id, "stream_id": stream.stream_id, "type": stream.type}
    )
    response = json_response(HTTPStatus.CREATED, stream)
    response.headers["Location"] = f"/streams/{stream.stream_id}"
    return response


@app.get(
    "/streams",
    summary="The caller's organisation's log streams, with their health",
    description="For ORG Admins (Bearer token). Newest first; never a secret.",
    responses={200: success(StreamsList, "The streams"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def list_all() -> Response[StreamsList]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    streams = list_streams(org_id, current(StreamSettings))
    logger.info("Streams listed", extra={"org_id": org_id, "streams": len(streams.streams)})
    return json_response(HTTPStatus.OK, streams)


@app.get(
    "/streams/<stream_id>",
    summary="One log stream of the caller's organisation, with its health",
    description="For ORG Admins (Bearer token). `delivered_up_to` is the leaf index of the first event not yet "
    "delivered; `lag_events` how many the ledger holds beyond it.",
    responses={200: success(StreamOut, "The stream"), **documented_errors(400, 401, 403, 404, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def show_stream(stream_id: StreamId) -> Response[StreamOut]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    return json_response(HTTPStatus.OK, get_stream(org_id, stream_id, current(StreamSettings)))


@app.delete(
    "/streams/<stream_id>",
    summary="Delete a log stream (never any event)",
    description="For ORG Admins (Bearer token). Recorded in the log as `log_stream.deleted`.",
    responses={204: {"description": "Deleted"}, **documented_errors(400, 401, 403, 404, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def remove_stream(stream_id: StreamId) -> Response[None]:
    requester = requester_of(app)
    reject_unknown_parameters(app, frozenset())
    delete_stream(requester, stream_id, current(StreamSettings))
    logger.info("Stream deleted", extra={"org_id": requester.org_id, "stream_id": stream_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.post(
    "/streams/<stream_id>/test",
    summary="Send one test message to the stream's destination, and say what it answered",
    description="For ORG Admins (Bearer token). A test message is not an event: delivery does not move.",
    responses={
        200: success(DestinationAnswer, "What the destination said"),
        **documented_errors(400, 401, 403, 404, 503),
    },
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def test_send(stream_id: StreamId) -> Response[DestinationAnswer]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    answer = send_test_message(org_id, stream_id, current(StreamSettings))
    logger.info(
        "Stream test sent",
        extra={"org_id": org_id, "stream_id": stream_id, "delivered": answer.delivered, "status": answer.status_code},
    )
    return json_response(HTTPStatus.OK, answer)


@app.post(
    "/streams/<stream_id>/resume",
    summary="Restart a paused (or failing) stream from its first undelivered event",
    description="For ORG Admins (Bearer token). Recorded in the log as `log_stream.resumed`; 409 if the stream is "
    "active.",
    responses={200: success(StreamOut, "The stream, active again"), **documented_errors(400, 401, 403, 404, 409, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def resume(stream_id: StreamId) -> Response[StreamOut]:
    requester = requester_of(app)
    reject_unknown_parameters(app, frozenset())
    stream = resume_stream(requester, stream_id, current(StreamSettings))
    logger.info("Stream resumed", extra={"org_id": requester.org_id, "stream_id": stream_id})
    return json_response(HTTPStatus.OK, stream)


lambda_handler = lambda_handler_for(app)

loading.done()
