"""`sam local invoke` of each function with each sample event in events/."""

import json
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest

from devtools.dev_tokens import authorizer_event, token
from tests.conftest import ROOT
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e

RECORD_SAMPLES = sorted((ROOT / "events").glob("record_*.json"))
QUERY_SAMPLES = sorted((ROOT / "events").glob("query_*.json"))
EXPORT_SAMPLES = sorted((ROOT / "events").glob("export_*.json"))
STREAM_SAMPLES = sorted((ROOT / "events").glob("stream_*.json"))
# Each invoke is a sam process and a new container, about half a minute spent mostly in sam's
# start and Docker's copy of the image: two at a time take two thirds of the time, more no less.
AT_ONCE = 2


@pytest.fixture(scope="module")
def invocations(local_api: LocalApi) -> Iterator[dict[str, Future[tuple[int, Any]]]]:
    """Every invoke of this module, AT_ONCE at a time, each test checking its own: the record
    samples and the authorizer's events first, the query samples once the record samples are
    in (they read them)."""
    authorizer_events = {
        "an admin": authorizer_event(f"Bearer {token('org_7f3a', 'admin', 'usr_1')}"),
        "a member": authorizer_event(f"Bearer {token('org_7f3a', 'member', 'usr_2')}"),
        "a bad token": authorizer_event("Bearer not-a-token"),
    }
    with ThreadPoolExecutor(AT_ONCE) as pool:
        started = {
            path.name: pool.submit(local_api.invoke, "RecordEventFunction", json.loads(path.read_text()))
            for path in RECORD_SAMPLES
        }
        for name, event in authorizer_events.items():
            started[name] = pool.submit(local_api.invoke, "AuthorizerFunction", event)
        wait([started[path.name] for path in RECORD_SAMPLES])
        indexed(local_api)  # a target's history is derived from the stream, seconds after recording
        for path in QUERY_SAMPLES:
            started[path.name] = pool.submit(local_api.invoke, "QueryLogFunction", json.loads(path.read_text()))
        for path in EXPORT_SAMPLES:
            started[path.name] = pool.submit(local_api.invoke, "ExportsFunction", json.loads(path.read_text()))
        for path in STREAM_SAMPLES:
            started[path.name] = pool.submit(local_api.invoke, "StreamsFunction", json.loads(path.read_text()))
        yield started


def indexed(local_api: LocalApi, timeout: float = 120) -> None:
    """Wait until the indexer has the record samples' target (what query_target_history.json
    asks for)."""
    query = json.loads((ROOT / "events" / "query_target_history.json").read_text())["queryStringParameters"]
    path = "/events?" + urllib.parse.urlencode(query)
    bearer = {"Authorization": f"Bearer {token('org_acme', 'admin', 'usr_ada')}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = local_api.call("GET", path, headers=bearer)
        if status == 200 and body["events"]:
            return
        time.sleep(1)
    raise AssertionError(f"the record samples' target was not indexed within {timeout:.0f} s")


@pytest.fixture(scope="module")
def recorded_samples(invocations: dict[str, Future[tuple[int, Any]]]) -> list[Any]:
    """record_event invoked with each record sample; the query samples read these."""
    return [invocations[path.name].result() for path in RECORD_SAMPLES]


def test_record_samples_are_recorded(recorded_samples: list[Any]) -> None:
    assert len(recorded_samples) == len(RECORD_SAMPLES) >= 2
    for exit_code, result in recorded_samples:
        assert exit_code == 0, result
        assert result["statusCode"] == 201, result
        body = json.loads(result["body"])
        assert "event_id" in body or all("event_id" in e for e in body["events"])


@pytest.mark.parametrize("path", QUERY_SAMPLES, ids=lambda path: path.name)
def test_query_samples_serve_the_recorded_samples(
    invocations: dict[str, Future[tuple[int, Any]]], recorded_samples: list[Any], path: Path
) -> None:
    sample = json.loads(path.read_text())

    exit_code, result = invocations[path.name].result()

    assert exit_code == 0, result
    assert result["statusCode"] == 200, result
    events = json.loads(result["body"])["events"]
    assert events
    query = sample["queryStringParameters"]
    assert all(e["event_type"] == query.get("event_type", e["event_type"]) for e in events)
    assert all(e["actor"]["id"] == query.get("actor_id", e["actor"]["id"]) for e in events)
    if "target_id" in query:
        assert all(
            (query["target_type"], query["target_id"]) in {(t["type"], t["id"]) for t in e["targets"]} for e in events
        )


def test_authorizer_allows_an_admin(invocations: dict[str, Future[tuple[int, Any]]]) -> None:
    exit_code, result = invocations["an admin"].result()

    assert exit_code == 0, result
    assert result["principalId"] == "usr_1"
    assert result["context"]["orgId"] == "org_7f3a"
    assert {s["Effect"] for s in result["policyDocument"]["Statement"]} == {"Allow"}


def test_authorizer_denies_a_member(invocations: dict[str, Future[tuple[int, Any]]]) -> None:
    exit_code, result = invocations["a member"].result()

    assert exit_code == 0, result
    assert {s["Effect"] for s in result["policyDocument"]["Statement"]} == {"Deny"}


def test_authorizer_refuses_a_bad_token(invocations: dict[str, Future[tuple[int, Any]]]) -> None:
    _, result = invocations["a bad token"].result()

    assert isinstance(result, dict), result
    assert result.get("errorMessage") == "Unauthorized"


@pytest.mark.parametrize("path", EXPORT_SAMPLES, ids=lambda path: path.name)
def test_export_samples_start_an_export_that_the_worker_finishes(
    invocations: dict[str, Future[tuple[int, Any]]], local_api: LocalApi, path: Path
) -> None:
    exit_code, result = invocations[path.name].result()

    assert exit_code == 0, result
    assert result["statusCode"] == 202, result
    export_id = json.loads(result["body"])["export_id"]
    bearer = {"Authorization": f"Bearer {token('org_acme', 'admin', 'usr_ada')}"}
    deadline = time.monotonic() + 180  # the local poller hands its queue to the worker in start-lambda
    while time.monotonic() < deadline:
        status, export = local_api.call("GET", f"/exports/{export_id}", headers=bearer)
        assert status == 200, export
        if export["state"] in ("succeeded", "failed"):
            break
        time.sleep(2)
    assert export["state"] == "succeeded", export
    assert export["events"] >= 1 and export["download_url"].startswith("http")


@pytest.mark.parametrize("path", STREAM_SAMPLES, ids=lambda path: path.name)
def test_stream_samples_make_a_stream_that_delivery_catches_up(
    invocations: dict[str, Future[tuple[int, Any]]], local_api: LocalApi, path: Path
) -> None:
    exit_code, result = invocations[path.name].result()

    assert exit_code == 0, result
    assert result["statusCode"] == 201, result
    stream_id = json.loads(result["body"])["stream_id"]
    bearer = {"Authorization": f"Bearer {token('org_acme', 'admin', 'usr_ada')}"}
    deadline = time.monotonic() + 180  # the poller hands the ledger's stream and the delivery queue on
    while time.monotonic() < deadline:
        status, stream = local_api.call("GET", f"/streams/{stream_id}", headers=bearer)
        assert status == 200, stream
        if stream["delivered_up_to"] > 0 and stream["lag_events"] == 0:
            break
        time.sleep(2)
    assert stream["state"] == "active" and stream["delivered_up_to"] > 0 and stream["lag_events"] == 0, stream
