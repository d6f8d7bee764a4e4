"""The investigation helpers, derived from the events stream after recording: actors
(`GET /actors`), event types (`GET /event-types`), the history of one resource
(`target_type` + `target_id`) and login signals on every served event."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from audit_log.event_rules import EventIn
from audit_log.investigation import lookups
from audit_log.recording import record_events
from audit_log.timestamps import format_utc_ms
from devtools.functions import LambdaContext, load_function
from devtools.stream_poller import stream_source
from tests.conftest import TEST_ENV, HttpAnswer, Indexer, admin_context, all_items, api_event

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
INVESTIGATION = TEST_ENV["INVESTIGATION_TABLE_NAME"]
KATHERINE = {"id": "usr_katherine", "name": "Katherine Johnson", "email": "katherine@acme.example"}
ADA = {"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@acme.example"}
BILLING_KEY = {"type": "api_key", "id": "key_billing", "name": "Billing API key"}


def at(minutes: float) -> str:
    return format_utc_ms(T0 + timedelta(minutes=minutes))


def seed(*events: dict[str, Any]) -> list[dict[str, Any]]:
    """Record through the write path; the events with their answers merged in."""
    models = [EventIn.model_validate(event) for event in events]
    recorded = []
    for start in range(0, len(models), 25):
        chunk = models[start : start + 25]
        outcomes = record_events([(m, None) for m in chunk], table_name=TEST_ENV["TABLE_NAME"], retention_days=0)
        recorded += [{**m.model_dump(), **o.recorded.model_dump()} for m, o in zip(chunk, outcomes, strict=True)]
    return recorded


def event(
    minutes: float, actor: dict[str, Any] = KATHERINE, type_: str = "user.login", **fields: Any
) -> dict[str, Any]:
    return {"org_id": "org_a", "event_type": type_, "actor": actor, "occurred_at": at(minutes), **fields}


def login(minutes: float, ip: str, agent: str = "Firefox", actor: dict[str, Any] = KATHERINE) -> dict[str, Any]:
    return event(minutes, actor, context={"ip_address": ip, "user_agent": agent})


@pytest.fixture
def read(ddb: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """GET one of query_log's routes as an ORG Admin of `org`."""
    query_log = load_function("query_log")

    def call(path: str, query: dict[str, str] | None = None, org: str = "org_a") -> HttpAnswer:
        answer = query_log.lambda_handler(
            api_event("GET", path, query=query, authorizer=admin_context(org)), lambda_context
        )
        return HttpAnswer(int(answer["statusCode"]), json.loads(answer["body"]))

    return call


def walk(read: Any, path: str, query: dict[str, str], key: str, org: str = "org_a") -> list[dict[str, Any]]:
    """Every item of every page, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        answer = read(path, {**query, **({"cursor": cursor} if cursor else {})}, org)
        assert answer.status == 200, answer.body
        items += answer.body[key]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursors never ended")


def actor_ids(read: Any, q: str | None = None, org: str = "org_a", limit: str = "100") -> list[str]:
    query = {"limit": limit, **({"q": q} if q is not None else {})}
    return [actor["id"] for actor in walk(read, "/actors", query, "actors", org)]


# --- actors ----------------------------------------------------------------------------


def test_nothing_is_derived_on_the_record_path(ddb: DynamoDBClient, indexer: Indexer) -> None:
    seed(event(0), event(1, ADA, "member.invited", targets=[BILLING_KEY]))

    assert all_items(ddb, INVESTIGATION) == []  # recording alone wrote none of it
    indexer.run()
    assert all_items(ddb, INVESTIGATION) != []


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("kath", ["usr_katherine"]),
        ("KATHERINE", ["usr_katherine"]),
        ("johnson", ["usr_katherine"]),
        ("katherine jo", ["usr_katherine"]),
        ("Katherine   JOHN", ["usr_katherine"]),
        ("katherine@acme", ["usr_katherine"]),
        ("usr_k", ["usr_katherine"]),
        ("USR_", ["usr_katherine", "usr_grace", "usr_ada"]),
        ("lovelace", ["usr_ada"]),
        ("a", ["usr_ada"]),  # Ada's first name and email; Katherine's words start with k and j
        ("ohnson", []),  # inside a word, not at its start
        ("acme", []),  # inside the email
        ("johnson katherine", []),  # words out of order
        ("katherine@acme.example.org", []),
    ],
)
def test_q_matches_the_start_of_a_word_of_the_name_the_email_or_the_id(
    read: Any, indexer: Indexer, q: str, found: list[str]
) -> None:
    seed(
        event(0, ADA),
        event(5, {"id": "usr_grace", "name": "Grace Hopper"}),
        event(10, KATHERINE),
    )
    indexer.run()

    assert actor_ids(read, q) == found


def test_actors_are_most_recently_seen_first_with_their_newest_name(read: Any, indexer: Indexer) -> None:
    seed(event(0, ADA), event(10, {**KATHERINE, "name": "Katherine Coleman"}), event(20, ADA, "member.invited"))
    indexer.run()
    seed(
        event(30, KATHERINE, "organisation.settings_updated"),  # her newest: the new name
        event(5, {**KATHERINE, "name": "K. Goble"}),  # recorded last, occurred before: not her name
    )
    indexer.run()

    actors = read("/actors").body["actors"]

    assert actors == [
        {"id": "usr_katherine", "type": "user", "name": "Katherine Johnson", "email": KATHERINE["email"],
         "last_seen_at": at(30)},
        {"id": "usr_ada", "type": "user", "name": "Ada Lovelace", "email": ADA["email"], "last_seen_at": at(20)},
    ]  # fmt: skip
    assert actor_ids(read, "coleman") == []  # her old name no longer finds her
    assert actor_ids(read, "goble") == []
    assert actor_ids(read, "katherine jo") == ["usr_katherine"]


def test_actors_of_one_organisation_are_not_anothers(read: Any, indexer: Indexer) -> None:
    seed(event(0), {**event(1, {"id": "usr_katherine", "name": "Kit Other"}), "org_id": "org_b"})
    indexer.run()

    assert read("/actors", org="org_a").body["actors"][0]["name"] == "Katherine Johnson"
    assert read("/actors", org="org_b").body["actors"][0]["name"] == "Kit Other"
    assert actor_ids(read, "katherine", org="org_b") == []
    assert actor_ids(read, "kit", org="org_a") == []
    assert actor_ids(read, org="org_c") == []


@pytest.mark.parametrize("broad", [False, True], ids=["narrow query", "broad query"])
def test_pages_of_actors_walk_every_match_once_in_order(
    read: Any, indexer: Indexer, monkeypatch: pytest.MonkeyPatch, broad: bool
) -> None:
    """A narrow query is answered from the term index, a broad one by reading actors in
    recency order; the answer is the same."""
    people = [{"id": f"usr_{n:02d}", "name": f"Tester Number{n:02d}"} for n in range(30)]
    others = [{"id": f"svc_{n:02d}", "type": "system", "name": f"Robot {n}"} for n in range(10)]
    seed(*(event(n, actor) for n, actor in enumerate(people + others)))
    indexer.run()
    if broad:
        monkeypatch.setattr(lookups, "CANDIDATE_CAP", 5)
        monkeypatch.setattr(lookups, "RECENCY_READ_BUDGET", 7)  # pages come back short
    expected = [actor["id"] for actor in reversed(people)]

    assert actor_ids(read, "tester", limit="4") == expected
    assert actor_ids(read, "number1", limit="3") == [f"usr_{n}" for n in range(19, 9, -1)]
    assert actor_ids(read, limit="7") == [actor["id"] for actor in reversed(people + others)]


def test_an_actors_cursor_holds_only_for_its_own_query(read: Any, indexer: Indexer) -> None:
    seed(event(0, ADA), event(1, KATHERINE), event(2, {"id": "usr_anna", "name": "Anna K"}))
    indexer.run()
    cursor = read("/actors", {"q": "a", "limit": "1"}).body["next_cursor"]

    assert read("/actors", {"q": "a", "limit": "1", "cursor": cursor}).status == 200
    refused = read("/actors", {"q": "k", "limit": "1", "cursor": cursor})
    assert refused.status == 400
    assert refused.body["errors"][0]["field"] == "cursor"
    assert read("/actors", {"q": "a", "cursor": cursor}, org="org_b").status == 400


@pytest.mark.parametrize(
    ("query", "field"),
    [({"q": "x" * 257}, "q"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"name": "ada"}, "name")],
)
def test_bad_actor_queries_are_400_naming_the_parameter(read: Any, query: dict[str, str], field: str) -> None:
    answer = read("/actors", query)

    assert answer.status == 400
    assert [error["field"] for error in answer.body["errors"]] == [field]


# --- event types -----------------------------------------------------------------------


def test_event_types_are_every_type_recorded_with_when_last_seen(read: Any, indexer: Indexer) -> None:
    seed(event(0), event(9), event(3, ADA, "member.invited"), {**event(50, ADA, "api_key.rotated"), "org_id": "org_b"})
    indexer.run()
    seed(event(1, ADA, "member.invited"))  # recorded later, occurred earlier: last seen stays
    indexer.run()

    assert read("/event-types").body == {
        "event_types": [
            {"event_type": "member.invited", "last_seen_at": at(3)},
            {"event_type": "user.login", "last_seen_at": at(9)},
        ]
    }
    assert read("/event-types", org="org_b").body["event_types"] == [
        {"event_type": "api_key.rotated", "last_seen_at": at(50)}
    ]
    assert read("/event-types", {"q": "user"}).status == 400


# --- the history of one resource ---------------------------------------------------------


def billing_history() -> list[dict[str, Any]]:
    """Events naming the billing key among others, of two admins, over an hour."""
    other_key = {"type": "api_key", "id": "key_reporting"}
    same_id_other_type = {"type": "webhook", "id": "key_billing"}
    events = []
    for n in range(60):
        targets = [[BILLING_KEY], [other_key], [other_key, BILLING_KEY], [same_id_other_type], []][n % 5]
        actor = ADA if n % 3 else KATHERINE
        events.append(event(n, actor, ["api_key.rotated", "organisation.settings_updated"][n % 2], targets=targets))
    return seed(*events, event(61), {**event(62, ADA, "api_key.rotated", targets=[BILLING_KEY]), "org_id": "org_b"})


def naming(recorded: list[dict[str, Any]], target: dict[str, Any], org: str = "org_a") -> list[dict[str, Any]]:
    return [
        e
        for e in recorded
        if e["org_id"] == org and any((t["type"], t["id"]) == (target["type"], target["id"]) for t in e["targets"])
    ]


def newest_first(recorded: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in sorted(recorded, key=lambda e: (e["occurred_at"], e["event_id"]), reverse=True)]


TARGET = {"target_type": "api_key", "target_id": "key_billing"}


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({}, lambda e: True),
        ({"since": at(10), "until": at(40)}, lambda e: at(10) <= e["occurred_at"] < at(40)),
        ({"event_type": "api_key.rotated"}, lambda e: e["event_type"] == "api_key.rotated"),
        ({"actor_id": "usr_katherine"}, lambda e: e["actor"]["id"] == "usr_katherine"),
        (
            {"event_type": "organisation.settings_updated", "actor_id": "usr_ada", "until": at(50)},
            lambda e: (
                e["event_type"] == "organisation.settings_updated"
                and e["actor"]["id"] == "usr_ada"
                and e["occurred_at"] < at(50)
            ),
        ),
    ],
)
def test_a_targets_history_is_every_event_naming_it_newest_first(
    read: Any, indexer: Indexer, query: dict[str, str], keep: Any
) -> None:
    recorded = billing_history()
    indexer.run()

    served = walk(read, "/events", {**TARGET, **query, "limit": "4"}, "events")

    expected = newest_first([e for e in naming(recorded, BILLING_KEY) if keep(e)])
    assert expected
    assert [e["event_id"] for e in served] == expected
    assert all(BILLING_KEY in e["targets"] for e in served)


@pytest.mark.parametrize("query", [{}, {"since": at(10), "until": at(40)}, {"until": at(30)}])
def test_a_target_page_is_one_query_reading_only_what_it_serves(
    read: Any, indexer: Indexer, dynamodb_calls: list[dict[str, Any]], query: dict[str, str]
) -> None:
    billing_history()
    indexer.run()
    dynamodb_calls.clear()
    pages = 0
    cursor = None
    while pages == 0 or cursor is not None:
        answer = read("/events", {**TARGET, **query, "limit": "5", **({"cursor": cursor} if cursor else {})})
        cursor, pages = answer.body["next_cursor"], pages + 1

    queries = [call for call in dynamodb_calls if call["operation"] == "Query"]
    assert {call["operation"] for call in dynamodb_calls} <= {"Query", "BatchGetItem"}  # never a Scan
    assert len(queries) == pages
    assert all(call["ScannedCount"] == call["Count"] for call in queries)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"target_type": "api_key"}, "target_id"),
        ({"target_id": "key_billing"}, "target_type"),
        ({"target_type": "", "target_id": "key_billing"}, "target_type"),
        ({"target_type": "api_key", "target_id": "k" * 129}, "target_id"),
    ],
)
def test_a_target_needs_its_type_and_its_id(read: Any, query: dict[str, str], field: str) -> None:
    answer = read("/events", query)

    assert answer.status == 400
    assert [error["field"] for error in answer.body["errors"]] == [field]


def test_a_target_cursor_does_not_page_another_target(read: Any, indexer: Indexer) -> None:
    billing_history()
    indexer.run()
    cursor = read("/events", {**TARGET, "limit": "2"}).body["next_cursor"]

    answer = read("/events", {"target_type": "api_key", "target_id": "key_reporting", "cursor": cursor})
    assert answer.status == 400
    assert read("/events", {"cursor": cursor}).status == 400


# --- login signals -----------------------------------------------------------------------


def signals_by_time(read: Any, query: dict[str, str] | None = None) -> dict[str, list[str]]:
    return {e["occurred_at"]: e["signals"] for e in walk(read, "/events", query or {}, "events")}


def test_a_login_is_marked_the_first_time_its_actor_uses_an_ip_or_a_user_agent(read: Any, indexer: Indexer) -> None:
    seed(
        login(0, "203.0.113.7"),
        login(10, "203.0.113.7"),
        login(20, "198.51.100.23"),
        login(30, "203.0.113.7", agent="Safari on iPhone"),
        login(40, "203.0.113.7", actor=ADA),  # another actor's first time from Katherine's IP
        event(50, KATHERINE, "member.invited", context={"ip_address": "192.0.2.1", "user_agent": "Edge"}),
        login(60, "192.0.2.1", agent="Edge"),  # the invite does not count as a login
        event(70, KATHERINE),  # a login with no IP or user agent: nothing to compare
        login(80, "2001:db8::7"),
        login(90, "2001:0db8:0::7"),  # the same address spelt another way
    )
    indexer.run()

    assert signals_by_time(read) == {
        at(0): ["new_ip", "new_user_agent"],
        at(10): [],
        at(20): ["new_ip"],
        at(30): ["new_user_agent"],
        at(40): ["new_ip", "new_user_agent"],
        at(50): [],
        at(60): ["new_ip", "new_user_agent"],
        at(70): [],
        at(80): ["new_ip"],
        at(90): [],
    }


def test_a_login_recorded_late_but_occurring_first_takes_the_signal(read: Any, indexer: Indexer) -> None:
    seed(login(10, "203.0.113.7"), login(20, "203.0.113.7"))
    indexer.run()
    seed(login(5, "203.0.113.7", agent="Chrome"))  # backfilled: the real first login from that IP
    indexer.run()

    assert signals_by_time(read) == {at(20): [], at(10): ["new_user_agent"], at(5): ["new_ip", "new_user_agent"]}


def test_signals_are_served_on_every_kind_of_page(read: Any, indexer: Indexer) -> None:
    seed(login(0, "203.0.113.7", actor=ADA), login(1, "203.0.113.7", actor=ADA))
    indexer.run()

    for query in [{}, {"event_type": "user.login"}, {"actor_id": "usr_ada"}, {"since": at(0), "until": at(1)}]:
        assert list(signals_by_time(read, query).values())[-1] == ["new_ip", "new_user_agent"], query


def test_redelivered_records_change_nothing(
    ddb: DynamoDBClient, read: Any, indexer: Indexer, lambda_context: LambdaContext
) -> None:
    billing_history()
    seed(login(0, "203.0.113.7"), login(5, "198.51.100.23"), event(9, {**KATHERINE, "name": "Kate Johnson"}))
    indexer.run()
    before = sorted(json.dumps(item, sort_keys=True) for item in all_items(ddb, INVESTIGATION))
    answers = [read("/events", {"limit": "100"}).body, read("/actors").body, read("/event-types").body]

    index_events = load_function("index_events")
    again = Indexer(
        stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"]),
        lambda batch: index_events.lambda_handler(batch, lambda_context),
    )
    assert again.run() > 0  # the whole stream, from its start, a second time

    assert sorted(json.dumps(item, sort_keys=True) for item in all_items(ddb, INVESTIGATION)) == before
    assert [read("/events", {"limit": "100"}).body, read("/actors").body, read("/event-types").body] == answers


def test_a_record_that_is_not_an_event_is_left_out_and_the_rest_indexed(
    read: Any, lambda_context: LambdaContext, ddb: DynamoDBClient
) -> None:
    index_events = load_function("index_events")
    good: dict[str, Any] = {
        "pk": {"S": "org#org_a"},
        "sk": {"S": f"{at(0)}#evt_1"},
        "event_id": {"S": "evt_1"},
        "event_type": {"S": "user.login"},
        "occurred_at": {"S": at(0)},
        "recorded_at": {"S": at(0)},
        "actor": {"M": {"id": {"S": "usr_ada"}, "name": {"S": "Ada Lovelace"}}},
    }
    bad: dict[str, Any] = {"pk": {"S": "org#org_a"}, "sk": {"S": "x"}, "actor": {"S": "not a map"}}
    records = [
        {"eventName": "INSERT", "eventSource": "aws:dynamodb",
         "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": item, "SequenceNumber": str(n)}}
        for n, item in enumerate([bad, good])
    ]  # fmt: skip

    answer = index_events.lambda_handler({"Records": records}, lambda_context)

    assert answer == {"batchItemFailures": []}
    assert [actor["id"] for actor in read("/actors").body["actors"]] == ["usr_ada"]
