"""Every call's decisions, once, for the blocking and the asyncio client alike.

A call is a generator (a *flow*): it yields a `Request` to be sent or a `Pause` to be
waited out, and is sent back each request's `Answer` (or has a `NetworkFailure` thrown
into it). It decides retries, backoff and what an answer means; it does no I/O. The two
drivers at the bottom, `run` (httpx.Client, time.sleep) and `arun` (httpx.AsyncClient,
asyncio.sleep), are the only code that differs between the two clients, so the
asyncio client cannot drift from the blocking one.
"""

import asyncio
import json
import random
import time
import urllib.parse
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from audit_log_client import __version__
from audit_log_client.errors import AccessDenied, ApiError, FieldError, InvalidEvent, Unavailable
from audit_log_client.signing import Signer

T = TypeVar("T")
RETRYABLE = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"audit-log-client/{__version__}"
MAX_ERROR_BODY = 64 * 1024  # an error body past this is not the service's: not parsed
SHOWN_MESSAGE = 500


@dataclass(frozen=True)
class Request:
    """One HTTP request, before signing. `signed` asks the driver for SigV4 (the record
    routes); a read carries its bearer token in `headers` instead."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    signed: bool = False

    @property
    def route(self) -> str:
        """`POST /events`: what messages name (never the host's query or a token)."""
        return f"{self.method} {urllib.parse.urlsplit(self.url).path}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self, route: str) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(f"{route} answered {self.status} without a JSON body", status=self.status) from exc


@dataclass(frozen=True)
class Pause:
    seconds: float


class NetworkFailure(Exception):
    """The request got no answer: the connection failed or timed out."""


Flow = Generator[Request | Pause, Answer | None, T]


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries of one request; before try n+1 a pause drawn uniformly
    from [0, min(max_delay, base_delay * 2**n)] ("full jitter", so that many clients
    throttled at once do not come back at once), or the answer's `Retry-After` when that
    is longer (up to `max_delay`). With the defaults a call gives up within about 3 s of
    pauses plus its attempts' timeouts."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 2.0
    random: Callable[[float, float], float] = field(default=random.uniform, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        pause = self.random(0.0, min(self.max_delay, self.base_delay * 2**attempt))
        if retry_after is not None and retry_after.strip().isdigit():
            pause = max(pause, min(float(retry_after), self.max_delay))
        return pause


def exchange(request: Request, policy: RetryPolicy) -> Flow[Answer]:
    """Send `request` until it gets an answer that is not worth retrying, or attempts
    run out (Unavailable). Only requests safe to repeat come here: reads, and records,
    which carry their idempotency keys, so a retry after a lost answer cannot record an
    event twice."""
    attempt = 0
    while True:
        try:
            answer = yield request
        except NetworkFailure as failure:
            if attempt + 1 >= policy.attempts:
                raise Unavailable(
                    f"{request.route} got no answer after {policy.attempts} attempts: {failure}"
                ) from failure
            yield Pause(policy.delay(attempt))
        else:
            assert answer is not None  # the drivers send an Answer back for every Request
            if answer.status not in RETRYABLE:
                return answer
            if attempt + 1 >= policy.attempts:
                raise Unavailable(
                    f"{request.route} answered {answer.status} on all {policy.attempts} attempts: "
                    f"{service_message(answer)}",
                    status=answer.status,
                )
            yield Pause(policy.delay(attempt, answer.headers.get("retry-after")))
        attempt += 1


def refusal(answer: Answer, route: str, *, of_events: bool = True) -> ApiError:
    """The error a non-2xx answer (that is not retried) stands for; a read's 400 (a bad
    filter or cursor) is an ApiError, not an InvalidEvent."""
    message = f"{route} answered {answer.status}: {service_message(answer)}"
    if answer.status in (400, 422) and of_events:
        return InvalidEvent(message, field_errors(answer), status=answer.status)
    if answer.status in (401, 403):
        return AccessDenied(message, status=answer.status)
    return ApiError(message, status=answer.status)


def _error_body(answer: Answer) -> Mapping[str, Any]:
    if len(answer.body) > MAX_ERROR_BODY:
        return {}
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def service_message(answer: Answer) -> str:
    message = _error_body(answer).get("message")
    return message[:SHOWN_MESSAGE] if isinstance(message, str) else f"HTTP {answer.status}"


def field_errors(answer: Answer) -> tuple[FieldError, ...]:
    errors = _error_body(answer).get("errors")
    if not isinstance(errors, list):
        return ()
    return tuple(
        FieldError(str(item.get("field", ""))[:SHOWN_MESSAGE], str(item.get("message", ""))[:SHOWN_MESSAGE])
        for item in errors
        if isinstance(item, dict)
    )


def _headers_for(request: Request, signer: Signer | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **request.headers}
    if request.signed:
        if signer is None:
            raise ApiError(f"{request.route} needs SigV4 signing, and this client was made without a signer")
        return signer.headers(request.method, request.url, headers, request.body)
    return headers


def _answer(response: httpx.Response) -> Answer:
    return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


def run(flow: Flow[T], http: httpx.Client, signer: Signer | None) -> T:
    """Drive `flow` with blocking I/O; its result."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                response = http.request(step.method, step.url, headers=_headers_for(step, signer), content=step.body)
            except httpx.TransportError as exc:
                step = flow.throw(NetworkFailure(f"{type(exc).__name__}: {exc}"))
            else:
                step = flow.send(_answer(response))
    except StopIteration as stop:
        result: T = stop.value
        return result


async def arun(flow: Flow[T], http: httpx.AsyncClient, signer: Signer | None) -> T:
    """Drive `flow` with asyncio; its result. Same flow, same decisions as `run`."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                response = await http.request(
                    step.method, step.url, headers=_headers_for(step, signer), content=step.body
                )
            except httpx.TransportError as exc:
                step = flow.throw(NetworkFailure(f"{type(exc).__name__}: {exc}"))
            else:
                step = flow.send(_answer(response))
    except StopIteration as stop:
        result: T = stop.value
        return result
