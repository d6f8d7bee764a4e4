"""Bad input at scale: hypothesis-generated bodies, headers and query strings for every
route. Whatever arrives, the answer is a 2xx or a 4xx with the error body, a 4xx writes
nothing, and a 2xx writes exactly the events it answers for.

Each test runs its generated cases inside one test (so the moto table is made once) and
asserts how many it ran: the README quotes these counts.
"""

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_ENV, stored_events, stored_markers
from tests.unit.test_record_validation import valid_event

RECORD_CASES = 1000
QUERY_CASES = 1000


def cases(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELD_PATHS = [
    "org_id",
    "event_type",
    "actor",
    "actor.id",
    "actor.type",
    "actor.name",
    "actor.email",
    "occurred_at",
    "targets",
    "context",
    "context.ip_address",
    "context.user_agent",
    "details",
    "unknown_field",
]
# Strings that have broken parsers, loggers and key encodings elsewhere.
nasty_text = st.sampled_from(
    [
        "",
        " ",
        "#",
        "org#x",
        "\x00",
        "\r\n",
        "\x1b[31m",
        "\u2028",
        "\ud800",
        "💥",
        "a" * 129,
        "9999-12-31T23:59:59Z",
        "1e309",
    ]
) | st.text(max_size=300)


def _mutated_event(path: str, value: Any) -> dict[str, Any]:
    event = valid_event()
    node = event
    *parents, leaf = path.split(".")
    for name in parents:
        node[name] = dict(node[name]) if isinstance(node.get(name), dict) else {}
        node = node[name]
    node[leaf] = value
    return event


ROUTES = st.sampled_from(["/events", "/events/batch"])
events = st.builds(_mutated_event, st.sampled_from(FIELD_PATHS), json_values | nasty_text) | json_values
bodies = st.one_of(
    st.builds(lambda event: ("/events", json.dumps(event)), events),
    st.builds(lambda batch: ("/events/batch", json.dumps({"events": batch})), st.lists(events, max_size=27)),
    st.builds(lambda path, value: (path, json.dumps(value)), ROUTES, json_values),
    st.tuples(ROUTES, st.text(max_size=200)),  # not JSON at all
)
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
]
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(CONTENT_TYPES),
        "Idempotency-Key": st.text(alphabet=string.printable + "é\x00", max_size=140),
    },
)


def _answered_events(status: int, body: dict[str, Any]) -> int:
    if status == 201 and "events" in body:
        return sum(not event["duplicate"] for event in body["events"])
    return 1 if status == 201 else 0


def _empty_the_table(ddb: Any, items: list[dict[str, Any]]) -> None:
    """Test cleanup only: the service itself can never delete (the table's policy denies it)."""
    for item in items:
        ddb.delete_item(TableName=TEST_ENV["TABLE_NAME"], Key={"pk": item["pk"], "sk": item["sk"]})


@pytest.mark.long
def test_generated_record_requests_get_2xx_or_4xx_and_a_4xx_writes_nothing(post: Any, ddb: Any) -> None:
    tried: list[int] = []

    @cases(RECORD_CASES)
    @given(request=bodies, extra_headers=headers)
    def check(request: tuple[str, str], extra_headers: dict[str, str]) -> None:
        path, raw_body = request
        answer = post(path, raw_body=raw_body, headers=extra_headers)
        events, markers = stored_events(ddb), stored_markers(ddb)
        _empty_the_table(ddb, events + markers)  # each case starts from an empty table
        tried.append(answer.status)

        assert answer.status in (200, 201, 400, 422), answer.body
        if answer.status >= 400:
            assert events == markers == [], "a refused request wrote something"
            assert set(answer.body) == {"message", "errors"} and isinstance(answer.body["errors"], list)
        else:
            assert len(events) == _answered_events(answer.status, answer.body)

    check()
    assert len(tried) == RECORD_CASES
    assert {201, 400, 422} <= set(tried), "the generator must reach acceptance and both kinds of refusal"


query_values = nasty_text | st.integers().map(str) | st.sampled_from(["2026-11-01T00:00:00Z", "user.login", "50"])
queries = st.dictionaries(
    st.sampled_from(["event_type", "actor_id", "since", "until", "limit", "cursor", "org_id"]) | st.text(max_size=10),
    query_values,
    max_size=6,
)


def test_generated_query_strings_get_200_or_400_and_write_nothing(post: Any, get: Any, ddb: Any) -> None:
    for number in range(5):
        assert post("/events", valid_event(org_id="org_a", details={"n": number})).status == 201
    before = ddb.scan(TableName=TEST_ENV["TABLE_NAME"])["Items"]
    tried: list[int] = []

    @cases(QUERY_CASES)
    @given(query=queries)
    def check(query: dict[str, str]) -> None:
        answer = get(query)
        tried.append(answer.status)
        assert answer.status in (200, 400), answer.body
        if answer.status == 400:
            assert set(answer.body) == {"message", "errors"}
        else:
            assert all(event["event_id"] for event in answer.body["events"])

    check()
    assert ddb.scan(TableName=TEST_ENV["TABLE_NAME"])["Items"] == before
    assert len(tried) == QUERY_CASES
    assert {200, 400} <= set(tried)
