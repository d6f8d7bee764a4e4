"""Traces are as clean as the logs: what the HTTP functions hand to X-Ray (subsegment
metadata, annotations, exceptions) carries no event content and no tokens.

Tracing is off in the tests (POWERTOOLS_TRACE_DISABLED), but Tracer's decorators still
open a subsegment on the provider for every call and record into it; a recording
provider stands in for the X-Ray SDK's, so everything a trace would hold is seen here.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from audit_log.observability import tracer
from tests.unit.test_record_validation import valid_event

SECRETS = ["Ada Lovelace", "ada@example.com", "grace@example.com", "203.0.113.7", "Mozilla/5.0", "usr_2"]


class RecordingSubsegment:
    def __init__(self, name: str, record: list[Any]) -> None:
        self.record = record
        record.append(("subsegment", name))

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.record.append(("metadata", key, value, namespace))

    def put_annotation(self, key: str, value: Any) -> None:
        self.record.append(("annotation", key, value))

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.record.append(("exception", repr(exception)))


class RecordingProvider:
    def __init__(self) -> None:
        self.record: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str, **kwargs: Any) -> Iterator[RecordingSubsegment]:
        yield RecordingSubsegment(name, self.record)

    def text(self) -> str:
        return json.dumps(self.record, default=repr)


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    return provider


def test_record_and_read_traces_carry_no_event_content(traces: RecordingProvider, post: Any, get: Any) -> None:
    event = valid_event(org_id="org_a")
    assert post("/events", event, headers={"Idempotency-Key": "k-1"}).status == 201
    assert post("/events/batch", {"events": [event]}).status == 201
    page = get()
    assert page.status == 200 and page.body["events"][0]["actor"]["email"] == "ada@example.com"
    assert post("/events", {**event, "actor": {"id": "usr_1", "email": "not an email ada@example.com"}}).status == 422

    text = traces.text()
    assert ("subsegment", "## lambda_handler") in traces.record  # the handler was traced
    assert any(entry[0] == "subsegment" and entry[1].endswith("list_events") for entry in traces.record)
    for secret in SECRETS:
        assert secret not in text, secret
    assert page.body["next_cursor"] is None or page.body["next_cursor"] not in text
    assert not [entry for entry in traces.record if entry[0] == "metadata"]
