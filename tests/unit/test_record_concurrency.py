"""Many platform backends recording into one organisation at once: every event is stored
exactly once and reads back in the log's order.

Each backend is served by its own Lambda container, here its own process running the
real handler, all writing to one DynamoDB (a moto server). Processes, not threads: Lambda
runs one invocation per container at a time, and Powertools keeps the current request in
class attributes that threads in one process would share.
"""

import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer

from audit_log import events_table
from devtools.functions import LambdaContext, load_function
from devtools.template import create_tables
from tests.conftest import TEST_ENV, HttpAnswer, all_items, api_event, one_call_at_a_time
from tests.unit.test_record_validation import valid_event

CONTAINERS = 8
REQUESTS_PER_CONTAINER = 15
ORG = "org_busy"


@pytest.fixture
def shared_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server holding the template's tables; its URL. It handles one request at a
    time (moto's transactions are not thread-safe; DynamoDB isolates requests itself)."""
    one_call_at_a_time(monkeypatch, DomainDispatcherApplication)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("dynamodb", endpoint_url=url)
    create_tables(client, {"EventsTable": TEST_ENV["TABLE_NAME"]})
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
    events_table.dynamodb_client.cache_clear()  # the next client is made for this endpoint
    yield url
    events_table.dynamodb_client.cache_clear()
    server.stop()


def backend(number: int, endpoint: str, moments: list[str | None]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One platform backend's requests, each through its container's record handler; the
    (event sent, answer) pairs. Runs in a process of its own."""
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    record_event = load_function("record_event")
    pairs = []
    for request, moment in enumerate(moments):
        event = valid_event(org_id=ORG, actor={"id": f"usr_{number}"}, details={"n": f"{number}-{request}"})
        event.pop("occurred_at")
        if moment is not None:
            event["occurred_at"] = moment
        if request % 4 == 3:  # every fourth request is a batch of two
            events = [event, {**event, "details": {"n": f"{number}-{request}b"}}]
            response = record_event.lambda_handler(
                api_event("POST", "/events/batch", {"events": events}), LambdaContext()
            )
            answers = json.loads(response["body"])["events"]
        else:
            events = [event]
            response = record_event.lambda_handler(api_event("POST", "/events", event), LambdaContext())
            answers = [json.loads(response["body"])]
        assert response["statusCode"] == 201, response["body"]
        pairs += list(zip(events, answers, strict=True))
    return pairs


def _read_whole_log(get: Callable[[dict[str, str]], HttpAnswer]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    query: dict[str, str] = {"limit": "37"}
    while True:
        page = get(query)
        assert page.status == 200, page.body
        events += page.body["events"]
        if page.body["next_cursor"] is None:
            return events
        query = {"limit": "37", "cursor": page.body["next_cursor"]}


@pytest.mark.long
def test_concurrent_recording_stores_every_event_once_in_log_order(shared_dynamodb: str) -> None:
    base = datetime.now(UTC) - timedelta(hours=1)
    rng = random.Random(7)

    def moment() -> str | None:
        """A third take the server's time; the rest shuffled past times, some equal (so ties
        are broken by event id)."""
        if rng.random() < 1 / 3:
            return None
        return (base + timedelta(milliseconds=rng.randrange(0, 3000))).isoformat(timespec="milliseconds")

    plans = [
        (number, shared_dynamodb, [moment() for _ in range(REQUESTS_PER_CONTAINER)]) for number in range(CONTAINERS)
    ]
    with multiprocessing.get_context("spawn").Pool(CONTAINERS) as pool:
        answered = [pair for pairs in pool.starmap(backend, plans) for pair in pairs]

    stored = all_items(boto3.client("dynamodb", endpoint_url=shared_dynamodb), TEST_ENV["TABLE_NAME"])
    assert len(answered) > CONTAINERS * REQUESTS_PER_CONTAINER
    assert len(stored) == len(answered)

    query_log = load_function("query_log")

    def get(query: dict[str, str]) -> HttpAnswer:
        event = api_event("GET", "/events", query=query, authorizer={"orgId": ORG, "role": "admin", "userId": "usr_a"})
        response = query_log.lambda_handler(event, LambdaContext())
        return HttpAnswer(int(response["statusCode"]), json.loads(response["body"]))

    log = _read_whole_log(get)
    expected = sorted(answered, key=lambda pair: (pair[1]["occurred_at"], pair[1]["event_id"]), reverse=True)
    assert [event["event_id"] for event in log] == [answer["event_id"] for _, answer in expected]
    assert [event["details"] for event in log] == [sent["details"] for sent, _ in expected]
    assert len({event["event_id"] for event in log}) == len(log)
