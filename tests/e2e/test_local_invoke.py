"""`sam local invoke` of each function with each sample event in events/."""

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.dev_tokens import authorizer_event, token
from tests.conftest import ROOT
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e

RECORD_SAMPLES = sorted((ROOT / "events").glob("record_*.json"))
QUERY_SAMPLES = sorted((ROOT / "events").glob("query_*.json"))


@pytest.fixture(scope="module")
def recorded_samples(local_api: LocalApi) -> list[Any]:
    """Invoke record_event with each record sample; the query samples read these."""
    return [local_api.invoke("RecordEventFunction", json.loads(path.read_text())) for path in RECORD_SAMPLES]


def test_record_samples_are_recorded(recorded_samples: list[Any]) -> None:
    assert len(recorded_samples) == len(RECORD_SAMPLES) >= 2
    for exit_code, result in recorded_samples:
        assert exit_code == 0, result
        assert result["statusCode"] == 201, result
        body = json.loads(result["body"])
        assert "event_id" in body or all("event_id" in e for e in body["events"])


@pytest.mark.parametrize("path", QUERY_SAMPLES, ids=lambda path: path.name)
def test_query_samples_serve_the_recorded_samples(local_api: LocalApi, recorded_samples: list[Any], path: Path) -> None:
    sample = json.loads(path.read_text())

    exit_code, result = local_api.invoke("QueryLogFunction", sample)

    assert exit_code == 0, result
    assert result["statusCode"] == 200, result
    events = json.loads(result["body"])["events"]
    assert events
    query = sample["queryStringParameters"]
    assert all(e["event_type"] == query.get("event_type", e["event_type"]) for e in events)
    assert all(e["actor"]["id"] == query.get("actor_id", e["actor"]["id"]) for e in events)


def test_authorizer_allows_an_admin(local_api: LocalApi) -> None:
    exit_code, result = local_api.invoke(
        "AuthorizerFunction", authorizer_event(f"Bearer {token('org_7f3a', 'admin', 'usr_1')}")
    )

    assert exit_code == 0, result
    assert result["principalId"] == "usr_1"
    assert result["context"]["orgId"] == "org_7f3a"
    assert {s["Effect"] for s in result["policyDocument"]["Statement"]} == {"Allow"}


def test_authorizer_denies_a_member(local_api: LocalApi) -> None:
    exit_code, result = local_api.invoke(
        "AuthorizerFunction", authorizer_event(f"Bearer {token('org_7f3a', 'member', 'usr_2')}")
    )

    assert exit_code == 0, result
    assert {s["Effect"] for s in result["policyDocument"]["Statement"]} == {"Deny"}


def test_authorizer_refuses_a_bad_token(local_api: LocalApi) -> None:
    _, result = local_api.invoke("AuthorizerFunction", authorizer_event("Bearer not-a-token"))

    assert isinstance(result, dict), result
    assert result.get("errorMessage") == "Unauthorized"
