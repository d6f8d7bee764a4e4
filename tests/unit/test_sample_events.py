"""The sample events in events/ (for `sam local invoke`) stay valid requests."""

import json
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from devtools.functions import load_function
from tests.conftest import ROOT, stored_events

SAMPLES = sorted((ROOT / "events").glob("record_*.json"))
QUERY_SAMPLES = sorted((ROOT / "events").glob("query_*.json"))
INVESTIGATE_SAMPLES = sorted((ROOT / "events").glob("investigate_*.json"))


def test_samples_exist() -> None:
    assert {path.name for path in SAMPLES} >= {"record_event.json", "record_batch.json"}
    assert len(QUERY_SAMPLES) >= 3


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_sample_records_every_event_it_carries(path: Path, ddb: Any, lambda_context: Any) -> None:
    sample = json.loads(path.read_text())
    sent = json.loads(sample["body"])
    sent_events = sent.get("events", [sent])

    response = load_function("record_event").lambda_handler(sample, lambda_context)

    assert response["statusCode"] == 201, response["body"]
    stored = [TypeDeserializer().deserialize({"M": item}) for item in stored_events(ddb)]
    assert sorted(item["event_type"] for item in stored) == sorted(event["event_type"] for event in sent_events)


@pytest.mark.parametrize("path", QUERY_SAMPLES, ids=lambda path: path.name)
def test_query_sample_serves_the_matching_recorded_events(
    path: Path, ddb: Any, lambda_context: Any, indexer: Any
) -> None:
    for sample in SAMPLES:  # the record samples are the sample organisation's log
        load_function("record_event").lambda_handler(json.loads(sample.read_text()), lambda_context)
    indexer.run()  # target histories and signals are derived from the stream
    event = json.loads(path.read_text())
    query = event["queryStringParameters"]

    response = load_function("query_log").lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    served = json.loads(response["body"])["events"]
    assert served, "each sample query matches some of the sample events"
    for served_event in served:
        assert served_event["event_type"] == query.get("event_type", served_event["event_type"])
        assert served_event["actor"]["id"] == query.get("actor_id", served_event["actor"]["id"])
        if "target_id" in query:
            assert (query["target_type"], query["target_id"]) in {(t["type"], t["id"]) for t in served_event["targets"]}


@pytest.mark.parametrize("path", INVESTIGATE_SAMPLES, ids=lambda path: path.name)
def test_investigation_samples_find_what_the_sample_events_recorded(
    path: Path, ddb: Any, lambda_context: Any, indexer: Any
) -> None:
    recorded = []
    for sample in SAMPLES:
        body = json.loads(json.loads(sample.read_text())["body"])
        recorded += body.get("events", [body])
        load_function("record_event").lambda_handler(json.loads(sample.read_text()), lambda_context)
    indexer.run()

    response = load_function("query_log").lambda_handler(json.loads(path.read_text()), lambda_context)

    assert response["statusCode"] == 200, response["body"]
    answer = json.loads(response["body"])
    if "actors" in answer:
        assert answer["actors"]
        assert all(
            actor["id"].startswith("usr_ada") or "ada" in (actor["name"] or "").lower() for actor in answer["actors"]
        )
    else:
        assert {t["event_type"] for t in answer["event_types"]} == {event["event_type"] for event in recorded}


EXPORT_SAMPLES = sorted((ROOT / "events").glob("export_*.json"))


@pytest.mark.parametrize("path", EXPORT_SAMPLES, ids=lambda path: path.name)
def test_export_samples_start_an_export_and_record_it(path: Path, exports_resources: Any, lambda_context: Any) -> None:
    sample = json.loads(path.read_text())

    response = load_function("exports").lambda_handler(sample, lambda_context)

    assert response["statusCode"] == 202, response["body"]
    export = json.loads(response["body"])
    assert export["state"] == "queued"
    assert export["filters"]["event_type"] == json.loads(sample["body"]).get("event_type")
    org = sample["requestContext"]["authorizer"]["orgId"]
    query = {**sample, "httpMethod": "GET", "resource": "/events", "path": "/events", "body": None}
    query["queryStringParameters"] = query["multiValueQueryStringParameters"] = None
    served = json.loads(load_function("query_log").lambda_handler(query, lambda_context)["body"])["events"]
    assert [(e["event_type"], e["targets"][0]["id"]) for e in served] == [("audit_log.exported", export["export_id"])]
    assert org == "org_acme"


STREAM_SAMPLES = sorted((ROOT / "events").glob("stream_*.json"))


@pytest.mark.parametrize("path", STREAM_SAMPLES, ids=lambda path: path.name)
def test_stream_samples_create_a_stream_and_record_it(path: Path, streams_resources: Any, lambda_context: Any) -> None:
    sample = json.loads(path.read_text())

    response = load_function("streams").lambda_handler(sample, lambda_context)

    assert response["statusCode"] == 201, response["body"]
    stream = json.loads(response["body"])
    assert stream["state"] == "active" and stream["type"] == json.loads(sample["body"])["type"]
    query = {**sample, "httpMethod": "GET", "resource": "/events", "path": "/events", "body": None}
    query["queryStringParameters"] = query["multiValueQueryStringParameters"] = None
    served = json.loads(load_function("query_log").lambda_handler(query, lambda_context)["body"])["events"]
    assert [(e["event_type"], e["targets"][0]["id"]) for e in served] == [("log_stream.created", stream["stream_id"])]
