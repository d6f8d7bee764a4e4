"""DynamoDB faults on the record path: throttling, 5xx, lost answers and dropped
connections, injected below botocore's retry loop so the real retry policy runs.

Whatever happens, an event is stored once or not at all: never twice, never half a batch.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from audit_log import events_table
from tests.conftest import stored_events, stored_markers
from tests.unit.test_record_validation import valid_event

THROTTLED = (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
SERVER_ERROR = (500, "com.amazon.coral.service#InternalFailure")
UNAVAILABLE = (503, "com.amazon.coral.availability#ServiceUnavailableException")
KEY = {"Idempotency-Key": "invite-usr_2-7d1c"}
WRITES = {"PutItem", "TransactWriteItems"}


@dataclass
class Faults:
    """What DynamoDB does with each write attempt, in order; later attempts succeed.

    `("lost", status)` applies the write, then answers with an error instead; `"ok"`
    lets one write through.
    """

    plan: list[Any] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def fail_next(self, *outcomes: Any) -> None:
        self.plan = list(outcomes)

    def fail_always(self, outcome: Any) -> None:
        self.plan = [outcome] * 1000


def _error(status_and_type: tuple[int, str]) -> AWSResponse:
    status, error_type = status_and_type
    body = json.dumps({"__type": error_type, "message": "injected by the test"}).encode()
    headers: Any = {}
    return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, headers, MockRawResponse(body))


@pytest.fixture
def faults(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    """A fresh service client (its own retry quota) whose writes go through `Faults`;
    moto answers whatever the plan lets through. Backoff sleeps are recorded, not slept."""
    state = Faults()
    events_table.dynamodb_client.cache_clear()
    client = events_table.dynamodb_client()
    events: Any = client.meta.events  # botocore's stubs type handlers as returning None
    events.unregister("before-send", botocore_stubber)

    def send(request: AWSPreparedRequest, event_name: str, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in WRITES:
            state.attempts.append(operation)
        if operation not in WRITES or not state.plan:
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        outcome = state.plan.pop(0)
        if outcome == "ok":
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        if outcome == "connection":
            raise EndpointConnectionError(endpoint_url=request.url)
        if outcome[0] == "lost":
            botocore_stubber(event_name=event_name, request=request, **kwargs)
            return _error(outcome[1])
        return _error(outcome)

    events.register("before-send.dynamodb", send)
    monkeypatch.setattr("botocore.endpoint.time.sleep", state.sleeps.append)
    yield state
    events_table.dynamodb_client.cache_clear()


SHAPES: dict[str, tuple[str, Callable[[], dict[str, Any]], dict[str, str]]] = {
    "single": ("/events", valid_event, {}),
    "single with key": ("/events", valid_event, KEY),
    "batch": ("/events/batch", lambda: {"events": [valid_event(), valid_event(actor={"id": "usr_9"})]}, {}),
    "batch with keys": (
        "/events/batch",
        lambda: {"events": [valid_event(idempotency_key="k1"), valid_event(idempotency_key="k2")]},
        {},
    ),
}


def _events_sent(body: dict[str, Any]) -> int:
    return len(body["events"]) if "events" in body else 1


def _writes(shape: str) -> int:
    """DynamoDB writes per request: a keyed single event is its marker, then the event;
    everything else is one PutItem or one transaction."""
    return 2 if shape == "single with key" else 1


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fault", [THROTTLED, SERVER_ERROR, UNAVAILABLE, "connection"], ids=str)
def test_a_fault_that_clears_within_the_retries_records_once(
    post: Any, ddb: Any, faults: Faults, shape: str, fault: Any
) -> None:
    path, body, headers = SHAPES[shape]
    faults.fail_next(fault, fault)

    answer = post(path, body(), headers=headers)

    assert answer.status == 201
    assert len(faults.attempts) == 2 + _writes(shape)  # two refused, then each write went through
    assert len(faults.sleeps) == 2
    assert len(stored_events(ddb)) == _events_sent(body())


@pytest.mark.parametrize("shape", SHAPES)
def test_a_write_whose_answer_was_lost_is_not_stored_twice_by_the_retry(
    post: Any, ddb: Any, faults: Faults, shape: str
) -> None:
    path, body, headers = SHAPES[shape]
    faults.fail_next(("lost", SERVER_ERROR))  # applied, then DynamoDB's answer never arrived

    answer = post(path, body(), headers=headers)

    assert answer.status == 201, answer.body
    assert len(faults.attempts) == 1 + _writes(shape)  # botocore retried, and the retry found our own write
    stored = stored_events(ddb)
    assert len(stored) == _events_sent(body())
    ids = [answer.body["event_id"]] if "event_id" in answer.body else [e["event_id"] for e in answer.body["events"]]
    assert sorted(ids) == sorted(item["event_id"]["S"] for item in stored)
    assert not any(event.get("duplicate") for event in answer.body.get("events", []))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fault", [THROTTLED, SERVER_ERROR, "connection"], ids=str)
def test_when_retries_run_out_the_answer_is_503_and_nothing_is_written(
    post: Any, ddb: Any, faults: Faults, shape: str, fault: Any
) -> None:
    path, body, headers = SHAPES[shape]
    faults.fail_always(fault)

    answer = post(path, body(), headers=headers)

    assert answer.status == 503
    assert answer.body["message"].startswith("The event store is unavailable")
    assert len(faults.attempts) == events_table.MAX_ATTEMPTS
    assert stored_events(ddb) == []
    assert stored_markers(ddb) == []


@pytest.mark.parametrize(
    "first_attempt",
    [
        [("lost", UNAVAILABLE)] * events_table.MAX_ATTEMPTS,  # the marker landed, every answer lost
        ["ok", *[THROTTLED] * events_table.MAX_ATTEMPTS],  # the marker landed, the event's write never
    ],
    ids=["marker answer lost", "event write throttled"],
)
def test_a_keyed_event_whose_write_stopped_after_its_marker_is_finished_by_the_retry(
    post: Any, ddb: Any, faults: Faults, first_attempt: list[Any]
) -> None:
    faults.fail_next(*first_attempt)
    first = post("/events", valid_event(), headers=KEY)
    assert first.status == 503
    assert stored_events(ddb) == [], "no event is visible yet"
    (marker,) = stored_markers(ddb)

    faults.fail_next()  # DynamoDB is back; the platform backend retries the same request
    retry = post("/events", valid_event(), headers=KEY)
    again = post("/events", valid_event(), headers=KEY)

    assert (retry.status, again.status) == (200, 200)
    (stored,) = stored_events(ddb)
    assert retry.body["event_id"] == again.body["event_id"] == stored["event_id"]["S"] == marker["event_id"]["S"]
    assert retry.body["recorded_at"] == stored["recorded_at"]["S"]


@pytest.mark.parametrize("shape", ["single with key", "batch with keys"])
def test_a_client_retry_with_the_same_key_after_a_503_stores_the_event_exactly_once(
    post: Any, ddb: Any, faults: Faults, shape: str
) -> None:
    path, body, headers = SHAPES[shape]
    # Every write lands, but every answer is lost: the caller sees a 503.
    faults.fail_always(("lost", UNAVAILABLE))
    first = post(path, body(), headers=headers)
    assert first.status == 503
    if shape == "single with key":  # the marker's write used every attempt; finish the event
        faults.fail_next()
        assert post(path, body(), headers=headers).status == 200
    stored = stored_events(ddb)
    assert len(stored) == _events_sent(body())

    faults.fail_next()  # DynamoDB is back; the platform backend retries the same request
    retry = post(path, body(), headers=headers)

    assert stored_events(ddb) == stored
    if "events" in retry.body:
        assert retry.status == 201
        assert all(event["duplicate"] for event in retry.body["events"])
        assert sorted(event["event_id"] for event in retry.body["events"]) == sorted(
            item["event_id"]["S"] for item in stored
        )
    else:
        assert retry.status == 200
        assert retry.body["event_id"] == stored[0]["event_id"]["S"]


def test_retries_back_off_exponentially_with_jitter(post: Any, ddb: Any, faults: Faults) -> None:
    delays: list[list[float]] = []
    for _ in range(20):
        faults.sleeps.clear()
        faults.fail_next(THROTTLED, THROTTLED, THROTTLED)
        assert post("/events", valid_event()).status == 201
        delays.append(list(faults.sleeps))

    by_retry = list(zip(*delays, strict=True))
    assert len(by_retry) == events_table.MAX_ATTEMPTS - 1
    for retry, observed in enumerate(by_retry):
        assert all(0 <= delay <= 2**retry for delay in observed)  # full jitter up to 1, 2, 4 s
        assert len(set(observed)) > 15  # random, not a fixed schedule
    assert max(by_retry[-1]) > 1  # the bound grows: the third wait goes past the first's limit


def test_a_throttled_query_answers_503_after_the_retries(get: Any, ddb: Any, faults: Faults) -> None:
    events: Any = events_table.dynamodb_client().meta.events
    events.register_first("before-send.dynamodb.Query", lambda **_: _error(THROTTLED))
    answer = get()
    assert answer.status == 503
    assert len(faults.sleeps) == events_table.MAX_ATTEMPTS - 1
