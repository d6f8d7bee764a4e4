"""Every answer fits what Lambda can return (6 MB), measured with the Python 3.11
runtime's own marshaller (awslambdaric), which is what Lambda counts: a page of events
at every field limit is cut short with a cursor, and an error answer about a body of
150,000 unknown fields stays small."""

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from audit_log.response_size import MAX_LAMBDA_RESPONSE_BYTES
from devtools.functions import LambdaContext, load_function
from tests.conftest import TEST_ENV, admin_context, api_event, stored_events

EMOJI = "\N{GRINNING FACE}"  # 4 bytes of UTF-8, 12 bytes as a JSON escape


@pytest.fixture(scope="module", autouse=True)
def python311_runtime() -> Iterator[None]:
    """awslambdaric escapes non-ASCII (ensure_ascii) for every runtime before Python 3.12."""
    previous = os.environ.get("AWS_EXECUTION_ENV")
    os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.11"
    yield
    if previous is None:
        del os.environ["AWS_EXECUTION_ENV"]
    else:
        os.environ["AWS_EXECUTION_ENV"] = previous


def as_lambda_sends_it(response: dict[str, Any]) -> int:
    """Bytes of the response document the runtime posts to Lambda's runtime API."""
    from awslambdaric.lambda_runtime_marshaller import to_json

    return len(to_json(response).encode())


def event_at_every_limit(n: int) -> dict[str, Any]:
    """A valid event whose every free-text field is at its cap, in 4-byte characters."""
    return {
        "org_id": "org_big",
        "event_type": "user.login",
        "occurred_at": f"2026-11-20T10:{n // 60:02d}:{n % 60:02d}.000Z",
        "actor": {
            "id": f"{n:03d}" + EMOJI * 125,
            "name": EMOJI * 256,
            "email": EMOJI * 300 + "@example.com",
        },
        "targets": [{"type": EMOJI * 64, "id": EMOJI * 128, "name": EMOJI * 256} for _ in range(10)],
        "context": {"ip_address": "2001:db8::1", "user_agent": EMOJI * 1024},
        "details": {"k": EMOJI * 4094},  # 16,384 bytes serialised: the cap
    }


def stored_ids_newest_first(ddb: Any) -> list[str]:
    """Every stored event id of org_big, newest first (a Scan of all its 1 MB pages)."""
    items = [
        item for page in ddb.get_paginator("scan").paginate(TableName=TEST_ENV["TABLE_NAME"]) for item in page["Items"]
    ]
    events = [item for item in items if item["pk"]["S"] == "org#org_big"]
    return [e["event_id"]["S"] for e in sorted(events, key=lambda e: e["sk"]["S"], reverse=True)]


def test_pages_of_events_at_every_field_limit_fit_lambda_and_lose_nothing(post: Any, ddb: Any) -> None:
    for start in range(0, 100, 25):
        answer = post("/events/batch", {"events": [event_at_every_limit(n) for n in range(start, start + 25)]})
        assert answer.status == 201, answer.body
    stored = stored_ids_newest_first(ddb)
    assert len(stored) == 100
    query_log = load_function("query_log")

    served: list[str] = []
    pages: list[tuple[int, int]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = query_log.lambda_handler(
            api_event("GET", "/events", query=query, authorizer=admin_context("org_big")), LambdaContext()
        )
        assert response["statusCode"] == 200, response["body"][:500]
        size = as_lambda_sends_it(response)
        assert size <= MAX_LAMBDA_RESPONSE_BYTES
        page = json.loads(response["body"])
        pages.append((len(page["events"]), size))
        served += [event["event_id"] for event in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages[0][0] < 100, pages  # cut short: 100 of these are about 12 MB as Lambda counts
    assert pages[0][1] > MAX_LAMBDA_RESPONSE_BYTES * 0.9, pages  # and not needlessly short
    assert len(served) == len(set(served)) == 100
    assert served == stored


def test_answers_carry_text_as_utf8_not_as_escapes(post: Any, get: Any) -> None:
    assert post("/events", event_at_every_limit(1) | {"org_id": "org_a"}).status == 201

    query_log = load_function("query_log")
    response = query_log.lambda_handler(api_event("GET", "/events", authorizer=admin_context("org_a")), LambdaContext())

    assert EMOJI in response["body"]
    assert "\\ud83d" not in response["body"]
    assert json.loads(response["body"])["events"][0]["actor"]["name"] == EMOJI * 256


@pytest.mark.parametrize("path", ["/events", "/events/batch"])
def test_an_error_answer_lists_at_most_50_errors_and_says_how_many(path: str, ddb: Any) -> None:
    unknown = {f"field_{n}": n for n in range(150_000)}
    body = {"org_id": "org_a", "event_type": "user.login", "actor": {"id": "usr_1"}, **unknown}
    if path == "/events/batch":
        body = {"events": [body]}
    record_event = load_function("record_event")

    response = record_event.lambda_handler(api_event("POST", path, body), LambdaContext())

    answer = json.loads(response["body"])
    assert response["statusCode"] == 422
    assert as_lambda_sends_it(response) < 16 * 1024
    assert len(answer["errors"]) == 50
    assert answer["message"] == "Validation failed: 150000 errors, the first 50 listed"
    assert stored_events(ddb) == []


def test_a_field_error_never_repeats_a_huge_field_name(post: Any, ddb: Any) -> None:
    name = "x" * 3_000_000  # an unknown field's name is as long as the body allows
    answer = post("/events", {"org_id": "org_a", "event_type": "user.login", "actor": {"id": "u"}, name: 1})

    assert answer.status == 422
    (error,) = answer.body["errors"]
    assert error == {"field": "x" * 63 + "…", "message": "is not a known field"}
    assert stored_events(ddb) == []
