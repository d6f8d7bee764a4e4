"""Idempotency-Key (and per-event idempotency_key in a batch): retries are safe for 24
hours, per organisation, also when they race."""

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit_log import recording
from tests.conftest import stored_events, stored_markers
from tests.unit.test_record_validation import valid_event

KEY = {"Idempotency-Key": "invite-usr_2-7d1c"}


def test_same_key_twice_stores_one_event_and_answers_201_then_200(post: Any, ddb: Any) -> None:
    first = post("/events", valid_event(occurred_at=None), headers=KEY)
    time.sleep(0.002)  # a retry a moment later must not get a new occurred_at either
    second = post("/events", valid_event(occurred_at=None), headers=KEY)

    assert (first.status, second.status) == (201, 200)
    assert second.body == first.body
    assert [item["event_id"]["S"] for item in stored_events(ddb)] == [first.body["event_id"]]


def test_same_key_in_two_organisations_records_two_events(post: Any, ddb: Any) -> None:
    a = post("/events", valid_event(org_id="org_a"), headers=KEY)
    b = post("/events", valid_event(org_id="org_b"), headers=KEY)

    assert (a.status, b.status) == (201, 201)
    assert a.body["event_id"] != b.body["event_id"]
    assert len(stored_events(ddb)) == 2


def test_different_keys_record_different_events(post: Any, ddb: Any) -> None:
    a = post("/events", valid_event(), headers={"Idempotency-Key": "a"})
    b = post("/events", valid_event(), headers={"Idempotency-Key": "b"})

    assert (a.status, b.status) == (201, 201)
    assert len(stored_events(ddb)) == 2


def test_without_a_key_every_post_is_a_new_event(post: Any, ddb: Any) -> None:
    answers = [post("/events", valid_event()) for _ in range(3)]

    assert [answer.status for answer in answers] == [201, 201, 201]
    assert len({answer.body["event_id"] for answer in answers}) == 3
    assert len(stored_events(ddb)) == 3


def test_reusing_a_key_for_a_different_event_returns_the_original_and_stores_nothing(post: Any, ddb: Any) -> None:
    first = post("/events", valid_event(event_type="user.login"), headers=KEY)
    second = post("/events", valid_event(event_type="member.removed"), headers=KEY)

    assert second.status == 200
    assert second.body == first.body
    assert [item["event_type"]["S"] for item in stored_events(ddb)] == ["user.login"]


def test_key_expires_after_24_hours(post: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = post("/events", valid_event(occurred_at=None), headers=KEY)
    later = datetime.now(UTC) + timedelta(hours=24, seconds=5)
    monkeypatch.setattr(recording, "utc_now", lambda: later.replace(microsecond=0))

    second = post("/events", valid_event(occurred_at=None), headers=KEY)

    assert second.status == 201
    assert second.body["event_id"] != first.body["event_id"]
    assert len(stored_events(ddb)) == 2


def test_key_still_holds_just_before_24_hours(post: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = post("/events", valid_event(), headers=KEY)
    later = datetime.now(UTC) + timedelta(hours=23, minutes=59)
    monkeypatch.setattr(recording, "utc_now", lambda: later.replace(microsecond=0))

    second = post("/events", valid_event(), headers=KEY)

    assert second.status == 200
    assert second.body == first.body
    assert len(stored_events(ddb)) == 1


def test_marker_is_scoped_to_the_organisation_and_invisible_to_the_log(post: Any, ddb: Any) -> None:
    post("/events", valid_event(org_id="org_a"), headers=KEY)

    (marker,) = stored_markers(ddb)
    assert marker["pk"]["S"] == f"idem#org_a#{KEY['Idempotency-Key']}"
    assert not {"type_pk", "actor_pk"} & set(marker), "no index may list a marker"


def test_marker_expires_with_ttl_24_hours_after_recording(post: Any, ddb: Any) -> None:
    answer = post("/events", valid_event(), headers=KEY)

    (marker,) = stored_markers(ddb)
    recorded = datetime.fromisoformat(answer.body["recorded_at"])
    assert int(marker["expires_at"]["N"]) == int((recorded + timedelta(hours=24)).timestamp())


@pytest.mark.usefixtures("one_request_at_a_time")
def test_concurrent_retries_of_one_key_store_one_event(post: Any, ddb: Any) -> None:
    answers: list[Any] = []
    start = threading.Barrier(8)

    def retry(container: int) -> None:
        start.wait()
        answers.append(post("/events", valid_event(), headers=KEY, container=str(container)))

    threads = [threading.Thread(target=retry, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stored_events(ddb)) == 1
    created = [answer for answer in answers if answer.status == 201]
    assert len(created) == 1
    assert all(answer.status in (200, 201, 503) for answer in answers)
    assert all(answer.body == created[0].body for answer in answers if answer.status == 200)


def test_batch_with_keys_answers_duplicates_in_request_order(post: Any, ddb: Any) -> None:
    first = post("/events/batch", {"events": [valid_event(idempotency_key="k1"), valid_event()]})
    second = post(
        "/events/batch",
        {"events": [valid_event(idempotency_key="k2"), valid_event(idempotency_key="k1"), valid_event()]},
    )

    assert (first.status, second.status) == (201, 201)
    assert [event["duplicate"] for event in first.body["events"]] == [False, False]
    assert [event["duplicate"] for event in second.body["events"]] == [False, True, False]
    original = {key: value for key, value in first.body["events"][0].items() if key != "duplicate"}
    assert {key: value for key, value in second.body["events"][1].items() if key != "duplicate"} == original
    assert len(stored_events(ddb)) == 4


def test_batch_key_shared_with_the_single_event_route(post: Any, ddb: Any) -> None:
    single = post("/events", valid_event(), headers={"Idempotency-Key": "shared"})
    batch = post("/events/batch", {"events": [valid_event(idempotency_key="shared")]})

    assert batch.body["events"][0]["duplicate"] is True
    assert batch.body["events"][0]["event_id"] == single.body["event_id"]
    assert len(stored_events(ddb)) == 1


def test_one_key_twice_in_one_batch_stores_it_once(post: Any, ddb: Any) -> None:
    answer = post("/events/batch", {"events": [valid_event(idempotency_key="k")] * 2})

    first, second = answer.body["events"]
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert first["event_id"] == second["event_id"]
    assert len(stored_events(ddb)) == 1


def test_whole_batch_retried_stores_nothing_new(post: Any, ddb: Any) -> None:
    body = {"events": [valid_event(idempotency_key=f"k{i}") for i in range(25)]}
    first = post("/events/batch", body)
    second = post("/events/batch", body)

    assert all(event["duplicate"] for event in second.body["events"])
    assert [event["event_id"] for event in second.body["events"]] == [
        event["event_id"] for event in first.body["events"]
    ]
    assert len(stored_events(ddb)) == 25


@pytest.mark.parametrize("spelling", ["idempotency-key", "IDEMPOTENCY-KEY", "Idempotency-key"])
def test_the_header_name_is_case_insensitive(post: Any, ddb: Any, spelling: str) -> None:
    first = post("/events", valid_event(), headers=KEY)
    second = post("/events", valid_event(), headers={spelling: KEY["Idempotency-Key"]})

    assert (first.status, second.status) == (201, 200)
    assert len(stored_events(ddb)) == 1
