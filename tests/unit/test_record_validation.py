"""Every field rule of `POST /events` and `POST /events/batch`, accepted and rejected,
and that a rejected request writes nothing."""

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import stored_events


def valid_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "org_id": "org_7f3a",
        "event_type": "member.invited",
        "actor": {"id": "usr_1", "type": "user", "name": "Ada Lovelace", "email": "ada@example.com"},
        "occurred_at": "2026-11-25T09:15:02.120Z",
        "targets": [{"type": "user", "id": "usr_2", "name": "Grace Hopper"}],
        "context": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"},
        "details": {"role": "member", "invitee_email": "grace@example.com"},
    }
    event.update(overrides)
    return event


def with_path(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with the dotted `path` set to `value` (or removed for DROP)."""
    result = copy.deepcopy(event)
    value = str(value) if isinstance(value, FromNow) else value
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DROP:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


DROP = object()


@dataclass(frozen=True)
class FromNow:
    """A timestamp relative to when the test runs (not when the module was collected)."""

    minutes: float

    def __str__(self) -> str:
        return (datetime.now(UTC) + timedelta(minutes=self.minutes)).isoformat()


SOON = FromNow(2)
LATER = FromNow(10)

ACCEPTED = [
    ("org_id", "A-z_0-9-.:x"),
    ("org_id", "o" * 128),
    ("event_type", "user.login"),
    ("event_type", "organisation.settings_updated"),
    ("event_type", "api_key.rotated"),
    ("event_type", "a.b.c"),
    ("event_type", "a." + "b" * 62),
    ("actor.id", "u" * 128),
    ("actor.type", "system"),
    ("actor.type", "api_key"),
    ("actor.type", DROP),
    ("actor.name", DROP),
    ("actor.name", None),
    ("actor.email", DROP),
    ("actor.email", "first.last+tag@sub.example.co.uk"),
    ("occurred_at", DROP),
    ("occurred_at", "2026-11-25T10:15:02+01:00"),
    ("occurred_at", "2020-01-01T00:00:00Z"),
    ("occurred_at", "2026-11-25T09:15:02.123456789Z"),
    ("occurred_at", SOON),
    ("targets", DROP),
    ("targets", []),
    ("targets", [{"type": "api_key", "id": f"key_{i}"} for i in range(10)]),
    ("context", DROP),
    ("context", {}),
    ("context.ip_address", "2001:db8::1"),
    ("context.ip_address", DROP),
    ("context.user_agent", ""),
    ("details", DROP),
    ("details", {}),
    ("details", {"nested": {"list": [1, 2.5, True, None, "x"]}}),
    ("details", {"blob": "x" * (16 * 1024 - 12)}),
]

REJECTED = [
    ("org_id", DROP, "org_id"),
    ("org_id", "", "org_id"),
    ("org_id", "o" * 129, "org_id"),
    ("org_id", "org#7", "org_id"),
    ("org_id", "org 7", "org_id"),
    ("org_id", 7, "org_id"),
    ("event_type", DROP, "event_type"),
    ("event_type", "login", "event_type"),
    ("event_type", "User.Login", "event_type"),
    ("event_type", "user.", "event_type"),
    ("event_type", "1user.login", "event_type"),
    ("event_type", "user-x.login", "event_type"),
    ("event_type", "a." + "b" * 63, "event_type"),
    ("actor", DROP, "actor"),
    ("actor", "usr_1", "actor"),
    ("actor.id", DROP, "actor.id"),
    ("actor.id", "", "actor.id"),
    ("actor.id", "u" * 129, "actor.id"),
    ("actor.id", 12, "actor.id"),
    ("actor.type", "robot", "actor.type"),
    ("actor.email", "not-an-email", "actor.email"),
    ("actor.email", "ada@localhost", "actor.email"),
    ("actor.email", "ada lovelace@example.com", "actor.email"),
    ("actor.role", "admin", "actor.role"),
    ("occurred_at", "2026-11-26T09:15:02", "occurred_at"),
    ("occurred_at", "2026-11-26", "occurred_at"),
    ("occurred_at", "yesterday", "occurred_at"),
    ("occurred_at", "2026-13-01T00:00:00Z", "occurred_at"),
    ("occurred_at", 1795600000, "occurred_at"),
    ("occurred_at", LATER, "occurred_at"),
    ("targets", [{"type": "user", "id": f"u{i}"} for i in range(11)], "targets"),
    ("targets", {"type": "user", "id": "u"}, "targets"),
    ("targets.0.id", DROP, "targets[0].id"),
    ("targets.0.type", DROP, "targets[0].type"),
    ("targets.0.extra", 1, "targets[0].extra"),
    ("context.ip_address", "203.0.113.999", "context.ip_address"),
    ("context.ip_address", "localhost", "context.ip_address"),
    ("context.session", "abc", "context.session"),
    ("details", ["not", "an", "object"], "details"),
    ("details", "text", "details"),
    ("details", {"blob": "x" * (17 * 1024)}, "details"),
    ("metadata", {}, "metadata"),
    ("orgId", "org_7f3a", "orgId"),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED)
def test_each_accepted_value_is_recorded(post: Any, ddb: Any, path: str, value: Any) -> None:
    answer = post("/events", with_path(valid_event(), path, value))

    assert answer.status == 201, answer.body
    assert set(answer.body) == {"event_id", "occurred_at", "recorded_at"}
    assert len(stored_events(ddb)) == 1


@pytest.mark.parametrize(("path", "value", "field"), REJECTED)
def test_each_rejected_value_is_422_naming_the_field_and_writes_nothing(
    post: Any, ddb: Any, path: str, value: Any, field: str
) -> None:
    answer = post("/events", with_path(valid_event(), path, value))

    assert answer.status == 422, answer.body
    assert answer.body["message"]
    assert field in [error["field"] for error in answer.body["errors"]], answer.body
    assert all(set(error) == {"field", "message"} for error in answer.body["errors"])
    assert stored_events(ddb) == []


@pytest.mark.parametrize(("path", "value", "field"), REJECTED)
def test_batch_names_the_failing_event_by_index_and_writes_nothing(
    post: Any, ddb: Any, path: str, value: Any, field: str
) -> None:
    events = [valid_event() for _ in range(5)]
    events[3] = with_path(events[3], path, value)

    answer = post("/events/batch", {"events": events})

    assert answer.status == 422, answer.body
    assert f"events[3].{field}" in [error["field"] for error in answer.body["errors"]], answer.body
    assert stored_events(ddb) == []


@pytest.mark.parametrize(
    ("raw_body", "content_type"),
    [
        ('{"org_id": "org_1",', "application/json"),
        ("", "application/json"),
        (None, "application/json"),
        ("[]", "application/json"),
        ('[{"org_id": "org_1"}]', "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ('{"org_id": NaN}', "application/json"),
        (json.dumps(valid_event()), "text/plain"),
        (json.dumps(valid_event()), "application/x-www-form-urlencoded"),
        (json.dumps(valid_event()), "multipart/form-data"),  # no boundary: unparseable as a form too
        (
            '--x\r\nContent-Disposition: form-data; name="org_id"\r\n\r\norg_1\r\n--x--',
            "multipart/form-data; boundary=x",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/events", "/events/batch"])
def test_a_body_that_is_not_a_json_object_is_400(
    post: Any, ddb: Any, path: str, raw_body: str | None, content_type: str
) -> None:
    answer = (
        post(path, raw_body=raw_body, headers={"Content-Type": content_type})
        if raw_body is not None
        else post(path, headers={"Content-Type": content_type})
    )

    assert answer.status == 400, answer.body
    assert answer.body["message"]
    assert answer.body["errors"] and all(set(e) == {"field", "message"} for e in answer.body["errors"])
    assert stored_events(ddb) == []


def test_details_over_16_kib_are_rejected_at_the_exact_limit(post: Any, ddb: Any) -> None:
    # {"k":"…"} serialises to 8 bytes plus the string: find the largest accepted.
    at_limit = {"k": "x" * (16 * 1024 - 8)}
    over_limit = {"k": "x" * (16 * 1024 - 7)}

    assert post("/events", valid_event(details=at_limit)).status == 201
    answer = post("/events", valid_event(details=over_limit))

    assert answer.status == 422
    assert [error["field"] for error in answer.body["errors"]] == ["details"]
    assert len(stored_events(ddb)) == 1


def test_details_size_counts_utf8_bytes_not_characters(post: Any) -> None:
    # 6,000 three-byte characters: 18,000 bytes, though only 6,000 characters.
    answer = post("/events", valid_event(details={"k": "€" * 6000}))

    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "details"


@pytest.mark.parametrize("count", [0, 26])
def test_batch_size_outside_1_to_25_is_rejected(post: Any, ddb: Any, count: int) -> None:
    answer = post("/events/batch", {"events": [valid_event() for _ in range(count)]})

    assert answer.status == 422
    assert [error["field"] for error in answer.body["errors"]] == ["events"]
    assert stored_events(ddb) == []


def test_batch_of_25_is_accepted(post: Any, ddb: Any) -> None:
    answer = post("/events/batch", {"events": [valid_event() for _ in range(25)]})

    assert answer.status == 201
    assert len(answer.body["events"]) == 25
    assert len(stored_events(ddb)) == 25


def test_batch_reports_every_invalid_event_and_writes_none(post: Any, ddb: Any) -> None:
    events = [valid_event() for _ in range(4)]
    events[0]["event_type"] = "bad"
    events[2]["actor"]["id"] = ""

    answer = post("/events/batch", {"events": events})

    fields = {error["field"] for error in answer.body["errors"]}
    assert answer.status == 422
    assert {"events[0].event_type", "events[2].actor.id"} <= fields
    assert stored_events(ddb) == []


@pytest.mark.parametrize("extra", [{"extra": 1}, {"org_id": "org_1"}])
def test_batch_body_rejects_unknown_top_level_fields(post: Any, extra: dict[str, Any]) -> None:
    answer = post("/events/batch", {"events": [valid_event()], **extra})

    assert answer.status == 422
    assert list(extra) == [error["field"] for error in answer.body["errors"]]


def test_batch_idempotency_key_is_validated_per_event(post: Any, ddb: Any) -> None:
    events = [valid_event(idempotency_key="ok-1"), valid_event(idempotency_key="x" * 129)]

    answer = post("/events/batch", {"events": events})

    assert answer.status == 422
    assert [error["field"] for error in answer.body["errors"]] == ["events[1].idempotency_key"]
    assert stored_events(ddb) == []


def test_single_event_route_does_not_take_idempotency_key_in_the_body(post: Any) -> None:
    answer = post("/events", valid_event(idempotency_key="k"))

    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "idempotency_key"


@pytest.mark.parametrize("key", ["", "x" * 129, "tab\there", "café"])
def test_invalid_idempotency_key_header_is_400(post: Any, ddb: Any, key: str) -> None:
    answer = post("/events", valid_event(), headers={"Idempotency-Key": key})

    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == "Idempotency-Key"
    assert stored_events(ddb) == []


def test_error_messages_never_echo_the_rejected_value(post: Any) -> None:
    secret = "sk_live_51HxSecretValue"
    answer = post("/events", valid_event(actor={"id": "usr_1", "email": secret}))

    assert answer.status == 422
    assert secret not in json.dumps(answer.body)


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_details_may_nest_32_levels_and_no_more(post: Any, ddb: Any) -> None:
    assert post("/events", valid_event(details=nested(32))).status == 201
    answer = post("/events", valid_event(details=nested(33)))

    assert answer.status == 422
    assert [error["field"] for error in answer.body["errors"]] == ["details"]
    assert len(stored_events(ddb)) == 1


def test_a_body_nested_deep_enough_to_exhaust_the_parser_is_400(post: Any, ddb: Any) -> None:
    depth = 100_000
    body = '{"org_id": "org_1", "details": ' + "[" * depth + "]" * depth + "}"

    answer = post("/events", raw_body=body)

    assert answer.status == 400
    assert answer.body["errors"] == [{"field": "body", "message": "is nested too deeply"}]
    assert stored_events(ddb) == []
