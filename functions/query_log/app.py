"""query_log: `GET /events`, an ORG Admin reading their own organisation's log."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from audit_log.http import (
    SingleOriginCors,
    caller_org,
    create_resolver,
    documented_errors,
    json_response,
    lambda_handler_for,
    reject_unknown_parameters,
    success,
)
from audit_log.models import EventType, Identifier, LogPage, Rfc3339
from audit_log.observability import logger, metrics, traced
from audit_log.querying import Filters, read_page
from audit_log.settings import QuerySettings, current

# The admin UI reads the log from its own origin (ADMIN_ORIGIN, set per stage).
app = create_resolver(
    rejected_metric="QueriesRejected", cors=SingleOriginCors(lambda: current(QuerySettings).ADMIN_ORIGIN)
)


QUERY_PARAMETERS = frozenset({"event_type", "actor_id", "since", "until", "limit", "cursor"})


@app.get(
    "/events",
    summary="Read the caller's organisation's log, newest first",
    description="For ORG Admins (Bearer token). Filters combine; `cursor` is the previous page's `next_cursor`, "
    "valid only with the same filters. Follow `next_cursor` until it is null: with both `event_type` and "
    "`actor_id`, a page that read its limit of the actor's events without filling up is short (even empty).",
    responses={200: success(LogPage, "One page of events"), **documented_errors(400, 401, 403, 503)},
    security=[{"adminToken": []}],
    tags=["query"],
)
@traced
def list_events(
    event_type: Annotated[EventType | None, Query()] = None,
    actor_id: Annotated[Identifier | None, Query()] = None,
    since: Annotated[Rfc3339 | None, Query()] = None,
    until: Annotated[Rfc3339 | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> Response[LogPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, QUERY_PARAMETERS)
    filters = Filters.from_query(event_type, actor_id, since, until)
    settings = current(QuerySettings)
    page = read_page(
        org_id, filters, limit, cursor, table_name=settings.TABLE_NAME, cursor_secret=settings.CURSOR_SECRET
    )
    metrics.add_metric(name="EventsServed", unit=MetricUnit.Count, value=len(page.events))
    logger.info(
        "Log page served",
        extra={
            "org_id": org_id,
            "filters": sorted(name for name, value in vars(filters).items() if value is not None),
            "events": len(page.events),
            "more": page.next_cursor is not None,
        },
    )
    return json_response(HTTPStatus.OK, page)


lambda_handler = lambda_handler_for(app)
