"""What record_event stores: the item layout the query path relies on, timestamps,
retention, and that nothing is ever overwritten."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from audit_log import events_table, recording
from audit_log.errors import EventAlreadyExists
from audit_log.event_rules import EventIn
from tests.conftest import TEST_ENV, stored_events
from tests.unit.test_record_validation import valid_event

_deserialize = TypeDeserializer().deserialize


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserialize(value) for name, value in item.items()}


def test_item_has_the_keys_of_the_table_and_every_index(post: Any, ddb: Any) -> None:
    answer = post("/events", valid_event(occurred_at="2026-11-25T10:15:02.120+01:00"))

    (item,) = map(plain, stored_events(ddb))
    event_id = answer.body["event_id"]
    assert item["pk"] == "org#org_7f3a"
    assert item["sk"] == f"2026-11-25T09:15:02.120Z#{event_id}"
    assert item["type_pk"] == "org#org_7f3a#type#member.invited"
    assert item["actor_pk"] == "org#org_7f3a#actor#usr_1"


def test_item_keeps_everything_the_client_sent(post: Any, ddb: Any) -> None:
    sent = valid_event(details={"price": 12.5, "flags": [True, None], "nested": {"k": "v"}})
    post("/events", sent)

    (item,) = map(plain, stored_events(ddb))
    assert item["org_id"] == sent["org_id"]
    assert item["event_type"] == sent["event_type"]
    assert item["actor"] == sent["actor"]
    assert item["targets"] == sent["targets"]
    assert item["context"] == sent["context"]
    assert json.loads(item["details"]) == sent["details"]


def test_answer_timestamps_are_utc_milliseconds_with_z(post: Any) -> None:
    answer = post("/events", valid_event(occurred_at="2026-11-25T04:15:02.123456-05:00"))

    assert answer.body["occurred_at"] == "2026-11-25T09:15:02.123Z"
    recorded = answer.body["recorded_at"]
    assert recorded.endswith("Z") and len(recorded) == len("2026-11-26T09:15:02.120Z")
    assert abs(datetime.fromisoformat(recorded) - datetime.now(UTC)) < timedelta(seconds=30)


def test_occurred_at_defaults_to_time_of_receipt(post: Any) -> None:
    answer = post("/events", valid_event(occurred_at=None))

    assert answer.body["occurred_at"] == answer.body["recorded_at"]


def test_event_ids_sort_in_recording_order(post: Any) -> None:
    ids = [post("/events", valid_event()).body["event_id"] for _ in range(5)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 5


def test_existing_item_is_never_overwritten(ddb: Any) -> None:
    item = {"pk": "org#org_1", "sk": "2026-11-25T09:15:02.120Z#01ABC", "event_id": "01ABC", "event_type": "user.login"}
    events_table.put_event(TEST_ENV["TABLE_NAME"], item)

    with pytest.raises(EventAlreadyExists):
        events_table.put_event(TEST_ENV["TABLE_NAME"], {**item, "event_type": "member.removed"})
    with pytest.raises(EventAlreadyExists):
        events_table.put_events_with_markers(
            TEST_ENV["TABLE_NAME"],
            [{**item, "event_type": "member.removed"}],
            [{**events_table.marker_key("org_1", "k"), "expires_at": 2**40}],
            now_epoch=0,
        )

    assert [plain(stored) for stored in stored_events(ddb)] == [item]


def test_a_colliding_event_id_fails_the_request_instead_of_overwriting(
    post: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "ULID", lambda: "01SAMEIDSAMEIDSAMEIDSAMEID")
    first = post("/events", valid_event(actor={"id": "first"}))

    with pytest.raises(EventAlreadyExists):
        post("/events", valid_event(actor={"id": "second"}))

    assert first.status == 201
    assert [plain(item)["actor"]["id"] for item in stored_events(ddb)] == ["first"]


def test_no_ttl_attribute_when_retention_is_not_configured(post: Any, ddb: Any) -> None:
    post("/events", valid_event())

    (item,) = map(plain, stored_events(ddb))
    assert "expires_at" not in item


def test_ttl_is_set_from_recording_time_when_retention_is_configured(
    post: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "90")

    answer = post("/events", valid_event(occurred_at="2020-01-01T00:00:00Z"))

    (item,) = map(plain, stored_events(ddb))
    recorded = datetime.fromisoformat(answer.body["recorded_at"])
    assert item["expires_at"] == int((recorded + timedelta(days=90)).timestamp())


@pytest.mark.parametrize("field", ["expires_at", "ttl", "retention_days"])
def test_clients_cannot_supply_a_ttl(post: Any, ddb: Any, field: str) -> None:
    answer = post("/events", valid_event(**{field: 1}))

    assert answer.status == 422
    assert stored_events(ddb) == []


def test_details_cannot_smuggle_a_ttl_into_the_item(post: Any, ddb: Any) -> None:
    post("/events", valid_event(details={"expires_at": 1}))

    (item,) = map(plain, stored_events(ddb))
    assert "expires_at" not in item
    assert json.loads(item["details"]) == {"expires_at": 1}


def test_event_item_builder_sets_ttl_only_with_retention() -> None:
    event = EventIn.model_validate(valid_event())
    args = ("01ABC", "2026-11-25T09:15:02.120Z", "2026-11-26T00:00:00.000Z")

    assert "expires_at" not in recording.event_item(event, *args, retention_days=0)
    ttl = recording.event_item(event, *args, retention_days=1)["expires_at"]
    assert ttl == int(datetime(2026, 11, 27, tzinfo=UTC).timestamp())
