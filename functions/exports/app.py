"""exports: an ORG Admin exporting their organisation's log (`POST /exports`), following
an export and downloading it (`GET /exports/{export_id}`), and listing their exports
(`GET /exports`). Each request is recorded in the log as `audit_log.exported`."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from audit_log.exports.models import ExportIn, ExportOut, ExportsPage
from audit_log.exports.service import get_export, list_exports, start_export
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
from audit_log.settings.exports import ExportSettings

app = create_resolver(
    rejected_metric="ExportRequestsRejected", cors=SingleOriginCors(lambda: current(ExportSettings).ADMIN_ORIGIN)
)
_ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
_TAGS = ["export"]


@app.post(
    "/exports",
    summary="Export the caller's organisation's log (CSV or NDJSON) with the filters of GET /events",
    description="For ORG Admins (Bearer token). Any range, any size: the file is built in the background; follow "
    "`Location` (GET /exports/{export_id}) until `state` is `succeeded` (then `download_url`, and `proof_url` "
    "for NDJSON) or `failed` (`error`). Recorded in the log as `audit_log.exported`.",
    responses={
        202: success(ExportOut, "The export, queued"),
        **documented_errors(400, 401, 403, 422, 503),
    },
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def post_export(body: ExportIn) -> Response[ExportOut]:
    requester = requester_of(app)
    reject_unknown_parameters(app, frozenset())
    export = start_export(requester, body, current(ExportSettings))
    metrics.add_metric(name="ExportsRequested", unit=MetricUnit.Count, value=1)
    logger.info(
        "Export requested",
        extra={"org_id": requester.org_id, "export_id": export.export_id, "format": export.format},
    )
    response = json_response(HTTPStatus.ACCEPTED, export)
    response.headers["Location"] = f"/exports/{export.export_id}"
    return response


@app.get(
    "/exports/<export_id>",
    summary="One export of the caller's organisation, with fresh download links once it succeeded",
    description="For ORG Admins (Bearer token). `download_url` (and `proof_url` for NDJSON) are presigned anew on "
    "every call, valid for 10 minutes (`download_expires_at`).",
    responses={200: success(ExportOut, "The export"), **documented_errors(400, 401, 403, 404, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def show_export(export_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[ExportOut]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    export = get_export(org_id, export_id, current(ExportSettings))
    logger.info("Export shown", extra={"org_id": org_id, "export_id": export_id, "state": export.state})
    return json_response(HTTPStatus.OK, export)


@app.get(
    "/exports",
    summary="The caller's organisation's exports, newest first",
    description="For ORG Admins (Bearer token). Without links: GET /exports/{export_id} presigns them.",
    responses={200: success(ExportsPage, "One page of exports"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def list_all(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> Response[ExportsPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"limit", "cursor"}))
    page = list_exports(org_id, limit, cursor, current(ExportSettings))
    logger.info("Exports listed", extra={"org_id": org_id, "exports": len(page.exports)})
    return json_response(HTTPStatus.OK, page)


lambda_handler = lambda_handler_for(app)

loading.done()
