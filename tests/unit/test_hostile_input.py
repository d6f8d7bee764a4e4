"""Crafted values the field rules must refuse cleanly (a 4xx naming the field, the rule
and never the value; nothing written): addresses with zone ids, numbers JSON allows but
a double cannot hold, numbers Python cannot parse, impossible dates."""

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import stored_events
from tests.unit.test_record_validation import valid_event

MAX_EXACT = 2**53 - 1


@pytest.mark.parametrize(
    "address",
    [
        "fe80::1%eth0",
        "fe80::1%" + "x" * 500_000,  # once reached DynamoDB's item limit: a 502
        "fe80::1%" + "\n<script>alert(1)</script>" * 12_000,  # once stored and served back
        "fe80::1%25",
        "::ffff:203.0.113.7" + " " * 40,
        "0" * 46,
    ],
)
def test_an_ip_address_with_a_zone_id_or_over_45_characters_is_refused(post: Any, ddb: Any, address: str) -> None:
    answer = post("/events", valid_event(context={"ip_address": address}))

    assert answer.status == 422, answer.body
    assert answer.body["errors"] == [
        {
            "field": "context.ip_address",
            "message": "must be an IPv4 or IPv6 address (at most 45 characters, no zone id)",
        }
    ]
    assert stored_events(ddb) == []


@pytest.mark.parametrize("address", ["ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "203.0.113.7", "2001:db8::7"])
def test_addresses_up_to_the_longest_text_form_are_accepted(post: Any, address: str) -> None:
    assert post("/events", valid_event(context={"ip_address": address})).status == 201


@pytest.mark.parametrize(
    "number",
    [
        str(MAX_EXACT + 1),
        str(-MAX_EXACT - 1),
        "1" + "0" * 4000,
        "1e400",
        "-1e400",
        "1e-400",
        "0.5e-330",
        # Each parses to a double that is another number: storing it would change it.
        "1.0000000000000001",
        "9007199254740993.0",
        "9007199254740993e0",
        "3e-324",
        "1.7976931348623158e308",
        "0.1000000000000000055511151231257827",
    ],
)
def test_details_numbers_a_double_cannot_hold_exactly_are_422(post: Any, ddb: Any, number: str) -> None:
    body = json.dumps(valid_event()).replace('"role": "member"', f'"role": "member", "n": [{number}]')

    answer = post("/events", raw_body=body)

    assert answer.status == 422, answer.body
    assert [error["field"] for error in answer.body["errors"]] == ["details"]
    assert "IEEE 754" in answer.body["errors"][0]["message"]
    assert stored_events(ddb) == []


@pytest.mark.parametrize(
    "number",
    [str(MAX_EXACT), str(-MAX_EXACT), "0", "-0.0", "0e10", "1.5", "1.50", "0.1", "1e2", "1e308", "5e-324", "1E-7"],
)
def test_details_numbers_that_are_exact_doubles_are_kept(post: Any, get: Any, number: str) -> None:
    body = json.dumps(valid_event(org_id="org_a")).replace('"role": "member"', f'"role": "member", "n": {number}')

    assert post("/events", raw_body=body).status == 201

    (event,) = get().body["events"]
    assert Decimal(str(event["details"]["n"])) == Decimal(number)  # the same number, whatever its spelling


@pytest.mark.parametrize("path", ["/events", "/events/batch"])
@pytest.mark.parametrize("where", ["details", "actor", "top"])
def test_an_integer_too_long_to_parse_anywhere_in_a_body_is_400(post: Any, ddb: Any, path: str, where: str) -> None:
    huge = "9" * 4301  # past Python's int conversion limit: once a 502
    event = json.dumps(valid_event())
    event = {
        "details": event.replace('"role": "member"', f'"role": {huge}'),
        "actor": event.replace('"id": "usr_1"', f'"id": {huge}'),
        "top": event.replace('"org_id": "org_7f3a"', f'"org_id": {huge}'),
    }[where]
    body = event if path == "/events" else f'{{"events": [{event}]}}'

    answer = post(path, raw_body=body)

    assert answer.status == 400, answer.body
    assert answer.body["errors"] == [{"field": "body", "message": "contains a number that cannot be parsed"}]
    assert stored_events(ddb) == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_literal_is_400(post: Any, ddb: Any, literal: str) -> None:
    body = json.dumps(valid_event()).replace('"role": "member"', f'"role": {literal}')

    assert post("/events", raw_body=body).status == 400
    assert stored_events(ddb) == []


IMPOSSIBLE_TIMES = [
    "2026-13-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T25:00:00Z",
    "2026-01-01T00:00:00+25:00",
    "2026-01-01T00:61:00Z",
]


@pytest.mark.parametrize("value", IMPOSSIBLE_TIMES)
def test_an_impossible_time_is_refused_without_echoing_it(post: Any, get: Any, ddb: Any, value: str) -> None:
    recorded = post("/events", valid_event(occurred_at=value))
    queried = get({"since": value})

    assert recorded.status == 422
    assert queried.status == 400
    for answer, field in ((recorded, "occurred_at"), (queried, "since")):
        assert answer.body["errors"] == [
            {"field": field, "message": "must be a real date and time, e.g. 2026-11-26T09:15:02.120Z"}
        ]
        assert value not in json.dumps(answer.body)
        assert value.split("T")[1] not in json.dumps(answer.body)
    assert stored_events(ddb) == []


LONE_SURROGATE = "\\ud800"  # as JSON text: valid JSON, but no UTF-8 can carry it


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ('"id": "usr_1"', "actor.id"),
        ('"name": "Ada Lovelace"', "actor.name"),
        ('"email": "ada@example.com"', "actor.email"),
        ('"type": "user", "id": "usr_2"', "targets[0].type"),
        ('"name": "Grace Hopper"', "targets[0].name"),
        ('"user_agent": "Mozilla/5.0"', "context.user_agent"),
        ('"role": "member"', "details"),
    ],
)
def test_a_lone_surrogate_in_any_text_field_is_422(post: Any, ddb: Any, path: str, field: str) -> None:
    key, _, value = path.partition(": ")
    broken = value[:-1] + LONE_SURROGATE + '"' if field != "targets[0].type" else f'"{LONE_SURROGATE}", "id": "usr_2"'
    body = json.dumps(valid_event()).replace(path, f"{key}: {broken}", 1)
    assert body != json.dumps(valid_event())

    answer = post("/events", raw_body=body)

    assert answer.status == 422, answer.body
    assert [error["field"] for error in answer.body["errors"]] == [field]
    assert "Unicode" in answer.body["errors"][0]["message"] or "unicode" in answer.body["errors"][0]["message"]
    assert stored_events(ddb) == []


@pytest.mark.parametrize("parameter", ["actor_id", "event_type"])
def test_a_lone_surrogate_in_a_filter_is_400(get: Any, parameter: str) -> None:
    answer = get({parameter: "usr\ud800"})

    assert answer.status == 400, answer.body
    assert answer.body["errors"][0]["field"] == parameter


@pytest.mark.parametrize(
    "body",
    [
        '{"org_id": "org_b", "event_type": "user.login", "actor": {"id": "u"}, "org_id": "org_a"}',
        '{"org_id": "org_a", "event_type": "user.login", "actor": {"id": "u", "id": "v"}}',
        '{"org_id": "org_a", "event_type": "user.login", "actor": {"id": "u"}, "details": {"a": 1, "a": 2}}',
    ],
)
def test_a_name_given_twice_in_an_object_is_400(post: Any, ddb: Any, body: str) -> None:
    answer = post("/events", raw_body=body)

    assert answer.status == 400, answer.body  # parsers disagree on which one counts: none does
    assert answer.body["errors"] == [{"field": "body", "message": "has an object with a name given twice"}]
    assert stored_events(ddb) == []


def test_an_unknown_query_parameter_is_named_but_not_repeated_at_length(get: Any) -> None:
    answer = get({"x" * 100_000: "1"})

    assert answer.status == 400
    assert answer.body["errors"] == [{"field": "x" * 63 + "…", "message": "is not a known parameter"}]
