"""The record endpoints' request bodies, with every field rule of DESIGN.md: the one
definition of a valid event. The client package checks events with this very file
(`clients/python/src/audit_log_client/event_rules.py` is a link to it), so a backend
hears of a bad event before sending it, in the service's words and field paths; hence
nothing here imports from outside this file but its two neighbours, relatively.

Unknown fields are errors (typos must not silently drop data), and strings are never
coerced from numbers or booleans. Lengths DESIGN.md leaves open are capped so that one
event always fits in a DynamoDB item with room to spare; docs/api.md lists them.
"""

import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from .org_ids import ORG_ID_PATTERN
from .timestamps import parse_rfc3339, utc_now

MAX_DETAILS_BYTES = 16 * 1024
# DynamoDB's own limit for nested attributes; also keeps every stored event renderable.
MAX_DETAILS_DEPTH = 32
MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_BATCH_EVENTS = 25


@dataclass(frozen=True)
class _Matching:
    """A pattern rule whose error says what is expected, not the regular expression; the
    pattern still appears in the JSON schema, so the OpenAPI document states it."""

    pattern: str
    description: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        compiled = re.compile(self.pattern)

        def check(value: str) -> str:
            if not compiled.fullmatch(value):
                raise ValueError(f"must be {self.description}")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = f"^{self.pattern}$"
        return json_schema


OrgId = Annotated[str, _Matching(ORG_ID_PATTERN, "1-128 characters of A-Z a-z 0-9 _ - . :")]


EventType = Annotated[
    str,
    StringConstraints(max_length=64),
    _Matching(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", "resource.action in lower case, e.g. user.login"),
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
DisplayName = Annotated[str, StringConstraints(max_length=256)]
# Printable ASCII, as an HTTP header value can carry it.
IdempotencyKey = Annotated[str, _Matching(r"[\x20-\x7e]{1,128}", "1-128 printable ASCII characters")]


def _check_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in value):
        raise ValueError("must be an email address such as ada@example.com")
    return value


MAX_IP_ADDRESS_LENGTH = 45  # the longest text form: an IPv4-mapped IPv6 address
_NOT_AN_ADDRESS = "must be an IPv4 or IPv6 address (at most 45 characters, no zone id)"


def _check_ip(value: str) -> str:
    """An address only: Python also accepts an IPv6 zone id (`fe80::1%eth0`), free text of
    any length that names an interface on the sender's host, not part of the address."""
    if len(value) > MAX_IP_ADDRESS_LENGTH or "%" in value:
        raise ValueError(_NOT_AN_ADDRESS)
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise ValueError(_NOT_AN_ADDRESS) from exc
    return value


def _check_rfc3339(value: str) -> str:
    parse_rfc3339(value)
    return value


def _check_occurred_at(value: str) -> str:
    if parse_rfc3339(value) > utc_now() + MAX_FUTURE_SKEW:
        raise ValueError("must not be more than 5 minutes in the future")
    return value


# The integers an IEEE 754 double holds exactly, each with one neighbour on either side:
# what RFC 8785 (and every JavaScript reader) can carry without changing the value.
MAX_EXACT_INTEGER = 2**53 - 1


class InexactNumber(float):
    """A JSON number that parsing would silently change: one whose double is another
    number (`9007199254740993.0`, `1.0000000000000001`, `1e-400`) or none (`1e400`). It
    parses, so the body is well-formed; `details` refuses it (422) rather than store a
    number other than the one sent."""


def _depth_and_exact_numbers(value: Any) -> tuple[int, bool]:
    """Nesting depth of a JSON value, and whether every number in it is an exact double;
    iteratively (recursion is what deep input attacks)."""
    deepest, exact, stack = 0, True, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int):
            exact = exact and -MAX_EXACT_INTEGER <= node <= MAX_EXACT_INTEGER
        elif isinstance(node, float):
            exact = exact and not isinstance(node, InexactNumber) and math.isfinite(node)
    return deepest, exact


def _check_details(value: dict[str, Any]) -> dict[str, Any]:
    depth, exact = _depth_and_exact_numbers(value)
    if depth > MAX_DETAILS_DEPTH:
        raise ValueError(f"must not nest objects or lists more than {MAX_DETAILS_DEPTH} levels deep")
    if not exact:
        raise ValueError(
            "must hold only numbers an IEEE 754 double represents exactly as sent: integers within "
            "±(2^53-1), no digits beyond a double's precision, no overflow or underflow"
        )
    try:
        size = len(canonical_json(value).encode())
    except UnicodeEncodeError as exc:  # a lone surrogate (`"\ud800"`) is valid JSON but not text
        raise ValueError("must contain only valid Unicode text") from exc
    if size > MAX_DETAILS_BYTES:
        raise ValueError(f"must be at most {MAX_DETAILS_BYTES} bytes once serialised as JSON")
    return value


def canonical_json(value: Any) -> str:
    """Compact JSON, the form `details` is measured and stored in."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class _NullMeans:
    """An explicit `null` for an optional collection means the same as leaving it out;
    the JSON schema says `null` is accepted, so the OpenAPI document does too."""

    default: Callable[[], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(
            lambda value: self.default() if value is None else value, handler(source)
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [handler(schema), {"type": "null"}]}


Email = Annotated[
    str, StringConstraints(max_length=320), AfterValidator(_check_email), Field(json_schema_extra={"format": "email"})
]
IpAddress = Annotated[str, AfterValidator(_check_ip), Field(json_schema_extra={"maxLength": MAX_IP_ADDRESS_LENGTH})]
_DATE_TIME = Field(json_schema_extra={"format": "date-time"})
OccurredAt = Annotated[str, AfterValidator(_check_occurred_at), _DATE_TIME]
Rfc3339 = Annotated[str, AfterValidator(_check_rfc3339), _DATE_TIME]
Details = Annotated[dict[str, Any], AfterValidator(_check_details)]


class _Strict(BaseModel):
    # Built on first use: most functions import this module for its field types and error
    # wording only; record_event builds the request models at init (its every request
    # validates one).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Actor(_Strict):
    id: Identifier
    type: Literal["user", "system", "api_key"] = "user"
    name: DisplayName | None = None
    email: Email | None = None


TargetType = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Target(_Strict):
    type: TargetType
    id: Identifier
    name: DisplayName | None = None


class RequestContext(_Strict):
    ip_address: IpAddress | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None


class EventIn(_Strict):
    """One event as a platform backend records it (`POST /events`)."""

    org_id: OrgId
    event_type: EventType
    actor: Actor
    occurred_at: OccurredAt | None = None
    targets: Annotated[list[Target], Field(max_length=10), _NullMeans(list)] = []
    context: Annotated[RequestContext, _NullMeans(dict)] = RequestContext()
    details: Annotated[Details, _NullMeans(dict)] = {}


class BatchEventIn(EventIn):
    """An event inside `POST /events/batch`, which carries its own idempotency key."""

    idempotency_key: IdempotencyKey | None = None


class BatchIn(_Strict):
    events: Annotated[list[BatchEventIn], Field(min_length=1, max_length=MAX_BATCH_EVENTS)]


# --- errors, as the service words them -------------------------------------------------

MAX_FIELD_NAME = 64  # an unknown field can be called anything: a longer name is cut short


def shortened(name: str) -> str:
    return name if len(name) <= MAX_FIELD_NAME else f"{name[: MAX_FIELD_NAME - 1]}…"


def body_field_path(parts: Sequence[str | int]) -> str:
    """`("events", 3, "actor", "id")` → `events[3].actor.id`; `body` for the whole body."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{shortened(part)}" if path else shortened(part))
    return path or "body"


def error_message(item: Mapping[str, Any]) -> str:
    """One pydantic error as the service words it in `errors[].message`."""
    if item["type"] == "missing":
        return "is required"
    if item["type"] == "extra_forbidden":
        return "is not a known field"
    return str(item["msg"]).removeprefix("Value error, ")


def field_errors(error: ValidationError, within: Sequence[str | int] = ()) -> list[tuple[str, str]]:
    """(field path, message) for each problem of a body validated in place of `within`
    (the client checks one event of a batch at `("events", 3)`)."""
    return [(body_field_path([*within, *item["loc"]]), error_message(item)) for item in error.errors()]
