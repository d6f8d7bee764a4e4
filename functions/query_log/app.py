"""query_log: an ORG Admin reading their own organisation's log (`GET /events`) and
finding who and what to look for in it (`GET /actors`, `GET /event-types`)."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from audit_log.event_rules import EventType, Identifier, Rfc3339, TargetType
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
from audit_log.investigation.lookups import ActorQuery, list_event_types, search_actors
from audit_log.investigation.terms import MAX_QUERY_CHARS
from audit_log.models.events import LogPage
from audit_log.models.investigation import ActorsPage, EventTypesPage
from audit_log.observability import logger, metrics, traced
from audit_log.querying import Filters, read_page
from audit_log.settings import current
from audit_log.settings.query import QuerySettings

# The admin UI reads the log from its own origin (ADMIN_ORIGIN, set per stage).
app = create_resolver(
    rejected_metric="QueriesRejected", cors=SingleOriginCors(lambda: current(QuerySettings).ADMIN_ORIGIN)
)


QUERY_PARAMETERS = frozenset(
    {"event_type", "actor_id", "since", "until", "limit", "cursor", "target_type", "target_id"}
)


@app.get(
    "/events",
    summary="Read the caller's organisation's log, newest first",
    description="For ORG Admins (Bearer token). Filters combine; `cursor` is the previous page's `next_cursor`, "
    "valid only with the same filters. `target_type` and `target_id` (together) give the history of one "
    "resource, e.g. one API key. Follow `next_cursor` until it is null: a page filtered by `event_type` and "
    "`actor_id`, or by a target and either, that read its limit of events without filling up is short (even "
    "empty).",
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
    target_type: Annotated[TargetType | None, Query()] = None,
    target_id: Annotated[Identifier | None, Query()] = None,
) -> Response[LogPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, QUERY_PARAMETERS)
    filters = Filters.from_query(event_type, actor_id, since, until, target_type, target_id)
    settings = current(QuerySettings)
    page = read_page(
        org_id,
        filters,
        limit,
        cursor,
        table_name=settings.TABLE_NAME,
        investigation_table=settings.INVESTIGATION_TABLE_NAME,
        cursor_secret=settings.CURSOR_SECRET,
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


@app.get(
    "/actors",
    summary="Find actors of the caller's organisation by name, email or id, most recently seen first",
    description="For ORG Admins (Bearer token). `q` matches, case-insensitively, the start of any word of the "
    "name (or of several words: `katherine jo`), the start of the email, or the start of the id; without `q`, "
    "every actor. Name and email are those of the actor's most recent event. Derived from what is recorded "
    "within seconds. Follow `next_cursor` (valid with the same `q`) until it is null: a page that looked "
    "through its share of actors without filling up is short.",
    responses={200: success(ActorsPage, "One page of actors"), **documented_errors(400, 401, 403, 503)},
    security=[{"adminToken": []}],
    tags=["investigate"],
)
@traced
def list_actors(
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> Response[ActorsPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"q", "limit", "cursor"}))
    settings = current(QuerySettings)
    query = ActorQuery(settings.INVESTIGATION_TABLE_NAME, settings.CURSOR_SECRET, org_id, q, limit)
    page = search_actors(query, cursor)
    logger.info("Actors served", extra={"org_id": org_id, "actors": len(page.actors), "query": bool(q)})
    return json_response(HTTPStatus.OK, page)


@app.get(
    "/event-types",
    summary="Every event type recorded in the caller's organisation",
    description="For ORG Admins (Bearer token). In name order, each with when it was last seen (the latest "
    "occurred_at of its events). Derived from what is recorded within seconds.",
    responses={200: success(EventTypesPage, "The event types"), **documented_errors(400, 401, 403, 503)},
    security=[{"adminToken": []}],
    tags=["investigate"],
)
@traced
def list_types() -> Response[EventTypesPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    page = list_event_types(current(QuerySettings).INVESTIGATION_TABLE_NAME, org_id)
    logger.info("Event types served", extra={"org_id": org_id, "event_types": len(page.event_types)})
    return json_response(HTTPStatus.OK, page)


lambda_handler = lambda_handler_for(app)

loading.done()
