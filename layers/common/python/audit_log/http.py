"""What every HTTP function shares: the resolver, the error body, and the mapping from
validation failures and domain exceptions to status codes, kept in this one place.

Errors are `{"message": str, "errors": [{"field": str, "message": str}]}`. A body that is
not a JSON object, or a bad header, is 400; a well-formed body that breaks a field rule
is 422. Field paths read like the JSON they point into: `events[3].actor.id`.
"""

import json
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import partial
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from audit_log.errors import (
    EventNotFound,
    ExportNotFound,
    InvalidParameter,
    NotAnAdmin,
    NotYetInCheckpoint,
    StoreUnavailable,
    StreamNotFound,
    StreamNotPaused,
    StreamRefused,
    TooManyStreams,
    WriteContention,
)
from audit_log.event_rules import InexactNumber, body_field_path, error_message, shortened
from audit_log.models import ErrorBody
from audit_log.observability import logger, metrics, tracer
from audit_log.org_ids import is_org_id
from audit_log.own_use import Requester
from audit_log.response_size import body_json

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

_LOCATIONS = {"body", "query", "header", "path"}
_HEADER_NAMES = {"idempotency-key": "Idempotency-Key"}
_NOT_AN_OBJECT = "must be a JSON object"
_TOO_DEEP = "is nested too deeply"
_BAD_NUMBER = "contains a number that cannot be parsed"
_DUPLICATE_NAME = "has an object with a name given twice"
_OWN_PROBLEMS = (_NOT_AN_OBJECT, _TOO_DEEP, _BAD_NUMBER, _DUPLICATE_NAME)
# An error answer must stay small whatever the request: a body of 150,000 unknown fields
# would otherwise list each one, past what Lambda can return (6 MB).
MAX_LISTED_ERRORS = 50


# What each error status means, for the OpenAPI document (`responses=` of each route).
_ERROR_MEANINGS = {
    400: "The body is not a JSON object, or a header or query parameter is invalid",
    404: "Not found in the caller's organisation",
    409: "Not yet in a published checkpoint: retry after the seconds Retry-After gives",
    422: "A well-formed body broke a field rule; nothing was written",
    503: "DynamoDB stayed unavailable or contended through every retry: retry (a write landed whole or not at all)",
}
# API Gateway answers these itself, before any function runs: its own body, not ErrorBody.
_GATEWAY_MEANINGS = {
    401: "No token, or a token that is invalid or expired (answered by API Gateway)",
    403: "The caller may not use this route (answered by API Gateway)",
}
_GATEWAY_BODY = {"type": "object", "properties": {"message": {"type": "string"}, "Message": {"type": "string"}}}


def success(model: type[BaseModel], description: str) -> OpenAPIResponse:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


def documented_errors(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for a route's error statuses, from the one place that makes them."""
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        if status in _GATEWAY_MEANINGS:
            content = {content_types.APPLICATION_JSON: {"schema": _GATEWAY_BODY}}
            responses[status] = {"description": _GATEWAY_MEANINGS[status], "content": content}  # type: ignore[typeddict-item]
        else:
            responses[status] = success(ErrorBody, _ERROR_MEANINGS[status])
    return responses


def _reject_constant(name: str) -> float:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _parse_float(text: str) -> float:
    """A number with a fraction or exponent, as a double. One the double does not hold
    as sent (`1.0000000000000001`, `9007199254740993.0`, `1e-400`, `1e400`) is marked, so
    `details` can refuse it rather than store another number."""
    value = float(text)
    if not math.isfinite(value) or Decimal(text) != Decimal(repr(value)):
        return InexactNumber(value)
    return value


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, refusing a name given twice: parsers disagree on which one counts (I-JSON,
    which RFC 8785 builds on, forbids it), so a second `org_id` must not quietly win."""
    value = dict(pairs)
    if len(value) != len(pairs):
        raise json.JSONDecodeError(_DUPLICATE_NAME, "", 0)
    return value


def json_object_loads(text: str | bytes | bytearray) -> dict[str, Any]:
    """Parse a request body that must be a JSON object.

    Python's NaN/Infinity extensions are refused (they are not JSON), and so is any other
    top-level value: Powertools would otherwise validate a list's first element as if it
    were the body. An integer longer than Python converts (4,300 digits) makes the body
    unparsable: JSONDecodeError like any other malformed body, so a 400.
    """
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_parse_float, object_pairs_hook=_unique_names
        )
    except RecursionError as exc:  # nesting deep enough to exhaust the parser's stack
        raise json.JSONDecodeError(_TOO_DEEP, str(text), 0) from exc
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # int() past sys.get_int_max_str_digits()
        raise json.JSONDecodeError(_BAD_NUMBER, str(text), 0) from exc
    if not isinstance(value, dict):
        raise json.JSONDecodeError(_NOT_AN_OBJECT, str(text), 0)
    return value


def json_response(status: HTTPStatus, body: BaseModel | dict[str, Any]) -> Response[Any]:
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=payload)


def error_response(status: HTTPStatus, message: str, errors: Iterable[tuple[str, str]] = ()) -> Response[Any]:
    body = {"message": message, "errors": [{"field": field, "message": text} for field, text in errors]}
    return json_response(status, body)


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "events", 3, "actor", "id")` → `events[3].actor.id`; a header by its name."""
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    if loc and loc[0] == "header" and parts:
        return _HEADER_NAMES.get(str(parts[0]).lower(), shortened(str(parts[0])))
    return body_field_path(parts)


def _counted(message: str, errors: Sequence[Any]) -> str:
    """The summary, saying how many errors there were when not all are listed."""
    if len(errors) <= MAX_LISTED_ERRORS:
        return message
    return f"{message}: {len(errors)} errors, the first {MAX_LISTED_ERRORS} listed"


class SingleOriginCors(CORSConfig):
    """CORS headers for one browser origin, named by `origin()` when an answer is shaped.

    Powertools takes its CORSConfig when the resolver is built, at import, while the
    settings are read on first use (audit_log.settings); this asks for the origin per answer
    instead (a cached settings lookup). An empty origin, or a request from any other
    origin, gets no CORS headers, so other sites' pages cannot read the answers.
    """

    def __init__(self, origin: Callable[[], str], max_age: int = 600) -> None:
        super().__init__(allow_origin="", max_age=max_age)
        self._origin = origin

    def to_dict(self, origin: str | None) -> dict[str, str]:
        allowed = self._origin()
        if not allowed or origin != allowed:
            return {}
        return {
            "Access-Control-Allow-Origin": allowed,
            "Access-Control-Allow-Headers": CORSConfig.build_allow_methods(self.allow_headers),
            "Access-Control-Max-Age": str(self.max_age),
            "Vary": "Origin",
        }

    def allowed_origin(self, extracted_origin: str) -> str | None:
        allowed = self._origin()
        return extracted_origin if allowed and extracted_origin == allowed else None


def create_resolver(rejected_metric: str, cors: CORSConfig | None = None) -> APIGatewayRestResolver:
    """An APIGatewayRestResolver with validation and the project's error answers;
    `rejected_metric` counts the events (or requests) refused as invalid; `cors` for
    routes a browser calls."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        json_body_deserializer=json_object_loads,
        serializer=partial(body_json, encoder=Encoder),
        cors=cors,
    )

    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        metrics.add_metric(name=rejected_metric, unit=MetricUnit.Count, value=_events_in(app))
        content_type = app.current_event.headers.get("content-type")  # case-insensitive lookup
        if content_type and not _is_json(content_type):
            return _not_json()
        details = error.errors()
        malformed = any(
            item["type"] == "json_invalid"
            or item["loc"][0] in ("header", "query", "path")
            or tuple(item["loc"]) == ("body",)
            for item in details
        )
        for item in details:
            if item["type"] == "json_invalid":
                reason = item.get("ctx", {}).get("error")
                problem = reason if reason in _OWN_PROBLEMS else "is not valid JSON"
                return error_response(HTTPStatus.BAD_REQUEST, f"Request body {problem}", [("body", problem)])
        errors = [(field_path(item["loc"]), _message(item)) for item in details[:MAX_LISTED_ERRORS]]
        if malformed:
            where = {"query": "Invalid query parameters", "header": "Invalid header", "path": "Invalid path"}.get(
                details[0]["loc"][0]
            )
            return error_response(HTTPStatus.BAD_REQUEST, _counted(where or "Malformed request", details), errors)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, _counted("Validation failed", details), errors)

    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
        metrics.add_metric(name=rejected_metric, unit=MetricUnit.Count, value=1)
        return _not_json()

    def _unparseable_form(error: ValueError) -> Response[Any]:
        """Powertools parses form bodies itself and raises ValueError on a broken one (a
        multipart Content-Type without its boundary): not JSON, so a 400. A ValueError
        from a JSON request is a bug and stays one."""
        if _is_json(app.current_event.headers.get("content-type")):
            raise error
        metrics.add_metric(name=rejected_metric, unit=MetricUnit.Count, value=1)
        return _not_json()

    def _invalid_parameter(error: InvalidParameter) -> Response[Any]:
        metrics.add_metric(name=rejected_metric, unit=MetricUnit.Count, value=1)
        return error_response(HTTPStatus.BAD_REQUEST, error.title, [(shortened(error.field), str(error))])

    def _not_an_admin(error: NotAnAdmin) -> Response[Any]:
        logger.warning("Request without an ORG Admin's authorizer context: refused", extra={"reason": str(error)})
        return error_response(HTTPStatus.FORBIDDEN, "Forbidden: this route is for ORG Admins")

    def _contention(error: WriteContention) -> Response[Any]:
        logger.warning("Write cancelled by concurrent writes", extra={"reason": str(error)})
        return _unavailable("Concurrent writes to the same keys; nothing was written, retry")

    def _store_unavailable(error: StoreUnavailable) -> Response[Any]:
        logger.error("DynamoDB unavailable after every retry", extra={"reason": str(error)})
        metrics.add_metric(name="StoreUnavailable", unit=MetricUnit.Count, value=1)
        return _unavailable(
            "The event store is unavailable; retry (with the same Idempotency-Key, a write is recorded exactly once)"
        )

    def _not_found(_: EventNotFound) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "No such event in your organisation's log")

    def _no_export(_: ExportNotFound) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "No such export in your organisation")

    def _no_stream(_: StreamNotFound) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "No such stream in your organisation")

    def _too_many_streams(error: TooManyStreams) -> Response[Any]:
        return error_response(HTTPStatus.CONFLICT, str(error))

    def _not_paused(_: StreamNotPaused) -> Response[Any]:
        return error_response(HTTPStatus.CONFLICT, "The stream is active: there is nothing to resume")

    def _stream_refused(error: StreamRefused) -> Response[Any]:
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "Stream refused", [(error.field, error.message)])

    def _not_yet(error: NotYetInCheckpoint) -> Response[Any]:
        response = error_response(
            HTTPStatus.CONFLICT, "The event is recorded but not yet in a published checkpoint; retry shortly"
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    def _no_route(_: Exception) -> Response[Any]:
        """A path no route matches (a path parameter Powertools' router refuses, such as a
        control character): the project's error body, not the router's own."""
        return error_response(HTTPStatus.NOT_FOUND, "No such resource")

    app.not_found(_no_route)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(EventNotFound)(_not_found)
    app.exception_handler(ExportNotFound)(_no_export)
    app.exception_handler(StreamNotFound)(_no_stream)
    app.exception_handler(TooManyStreams)(_too_many_streams)
    app.exception_handler(StreamNotPaused)(_not_paused)
    app.exception_handler(StreamRefused)(_stream_refused)
    app.exception_handler(NotYetInCheckpoint)(_not_yet)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(ValueError)(_unparseable_form)
    app.exception_handler(InvalidParameter)(_invalid_parameter)  # InvalidCursor included
    app.exception_handler(NotAnAdmin)(_not_an_admin)
    app.exception_handler(WriteContention)(_contention)
    app.exception_handler(StoreUnavailable)(_store_unavailable)
    return app


def caller_org(app: APIGatewayRestResolver) -> str:
    """The organisation of the ORG Admin the authorizer vouched for; the request itself
    never names it. Anyone else is refused here too, not only by the authorizer."""
    vouched = app.current_event.request_context.authorizer
    org_id = vouched.get("orgId")
    if not is_org_id(org_id):
        raise NotAnAdmin("no organisation in the authorizer context")
    if vouched.get("role") != "admin":
        raise NotAnAdmin("the authorizer context is not an ORG Admin's")
    return str(org_id)


def requester_of(app: APIGatewayRestResolver) -> Requester:
    """The ORG Admin asking (as the authorizer vouched for them) and where from, for the
    events that record the request in the log."""
    org_id = caller_org(app)
    vouched = app.current_event.request_context.authorizer
    identity = app.current_event.request_context.identity
    return Requester(
        org_id=org_id,
        user_id=str(vouched.get("userId") or ""),
        email=vouched.get("email") or None,
        name=vouched.get("name") or None,
        ip_address=identity.source_ip or None,
        user_agent=identity.user_agent or app.current_event.headers.get("user-agent") or None,
    )


def reject_unknown_parameters(app: APIGatewayRestResolver, known: frozenset[str]) -> None:
    """A misspelt filter (`?event-type=`) must not quietly serve the unfiltered answer, and
    no parameter may pretend to choose the organisation (`?org_id=`): both are a 400."""
    for name in sorted(set(app.current_event.query_string_parameters or {}) - known):
        raise InvalidParameter(name, "is not a known parameter")


def lambda_handler_for(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda entry point of an HTTP function: structured logs correlated by the API
    Gateway request id (the event itself is never logged), tracing, and metrics flushed
    once per invocation."""

    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    # Neither the answer (a page of the log) nor an exception goes into the trace.
    traced: LambdaHandler = tracer.capture_lambda_handler(lambda_handler, capture_response=False, capture_error=False)
    entry: LambdaHandler = logger.inject_lambda_context(traced, correlation_id_path=correlation_paths.API_GATEWAY_REST)
    return entry


def _unavailable(message: str) -> Response[Any]:
    response = error_response(HTTPStatus.SERVICE_UNAVAILABLE, message)
    response.headers["Retry-After"] = "1"
    return response


def _is_json(content_type: str | None) -> bool:
    return content_type is None or content_type.lower().startswith("application/json")


def _not_json() -> Response[Any]:
    return error_response(
        HTTPStatus.BAD_REQUEST, "Request body must be JSON", [("Content-Type", "must be application/json")]
    )


def _events_in(app: APIGatewayRestResolver) -> int:
    """How many events a rejected request carried: a batch's length, else one."""
    try:
        body = app.current_event.json_body
    except ValueError:
        return 1
    events = body.get("events") if isinstance(body, dict) else None
    return len(events) if isinstance(events, list) and events else 1


def _message(item: dict[str, Any]) -> str:
    if tuple(item["loc"]) == ("body",):
        return "must be a JSON object"
    return error_message(item)
