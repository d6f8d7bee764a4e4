"""The sample events in events/ (for `sam local invoke`) stay valid requests."""

import json
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from tests.conftest import ROOT, load_function, stored_events

SAMPLES = sorted((ROOT / "events").glob("record_*.json"))


def test_samples_exist() -> None:
    assert {path.name for path in SAMPLES} >= {"record_event.json", "record_batch.json"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_sample_records_every_event_it_carries(path: Path, ddb: Any, lambda_context: Any) -> None:
    sample = json.loads(path.read_text())
    sent = json.loads(sample["body"])
    sent_events = sent.get("events", [sent])

    response = load_function("record_event").lambda_handler(sample, lambda_context)

    assert response["statusCode"] == 201, response["body"]
    stored = [TypeDeserializer().deserialize({"M": item}) for item in stored_events(ddb)]
    assert sorted(item["event_type"] for item in stored) == sorted(event["event_type"] for event in sent_events)
