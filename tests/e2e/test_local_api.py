"""Through `sam local start-api`: API Gateway emulation, the Lambda authorizer, the
functions in Lambda containers, moto server as DynamoDB."""

import uuid
from typing import Any

import pytest

from devtools.dev_tokens import token
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e


@pytest.fixture
def org() -> str:
    """A fresh organisation per test, so tests share the stack but not data."""
    return f"org_e2e_{uuid.uuid4().hex[:12]}"


def bearer(org: str, role: str = "admin", user: str = "usr_admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(org, role, user)}"}


def event(org: str, type_: str = "user.login", actor: str = "usr_1", second: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "org_id": org,
        "event_type": type_,
        "actor": {"id": actor},
        "occurred_at": f"2026-11-20T10:00:{second:02d}.000Z",
        **extra,
    }


def test_a_recorded_event_is_read_back_by_an_admin(local_api: LocalApi, org: str) -> None:
    sent = event(org, "member.invited", "usr_ada", targets=[{"type": "user", "id": "usr_grace"}])
    sent["context"] = {"ip_address": "203.0.113.7", "user_agent": "e2e"}

    status, recorded = local_api.call("POST", "/events", sent)
    assert status == 201, recorded

    status, page = local_api.call("GET", "/events", headers=bearer(org))
    assert status == 200, page
    (served,) = page["events"]
    assert served["event_id"] == recorded["event_id"]
    assert served["actor"] == {"id": "usr_ada", "type": "user", "name": None, "email": None}
    assert served["targets"] == [{"type": "user", "id": "usr_grace", "name": None}]
    assert served["context"] == {"ip_address": "203.0.113.7", "user_agent": "e2e"}
    assert page["next_cursor"] is None


def test_filters_and_paging(local_api: LocalApi, org: str) -> None:
    events = [
        event(org, ["user.login", "member.invited"][n % 2], f"usr_{n % 3}", second=n, details={"n": n})
        for n in range(12)
    ]
    status, body = local_api.call("POST", "/events/batch", {"events": events})
    assert status == 201, body
    ids = [answer["event_id"] for answer in body["events"]]

    walked: list[str] = []
    query = "/events?limit=5"
    cursor = None
    for _ in range(5):
        status, page = local_api.call("GET", query + (f"&cursor={cursor}" if cursor else ""), headers=bearer(org))
        assert status == 200, page
        walked += [e["event_id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids[::-1], "newest first, every event once"

    status, logins = local_api.call("GET", "/events?event_type=user.login&actor_id=usr_0", headers=bearer(org))
    assert status == 200
    assert [e["details"]["n"] for e in logins["events"]] == [n for n in range(11, -1, -1) if n % 2 == 0 and n % 3 == 0]

    status, window = local_api.call(
        "GET", "/events?since=2026-11-20T10:00:03Z&until=2026-11-20T10:00:06Z", headers=bearer(org)
    )
    assert [e["details"]["n"] for e in window["events"]] == [5, 4, 3]


def test_batch_answers_in_request_order(local_api: LocalApi, org: str) -> None:
    status, body = local_api.call(
        "POST", "/events/batch", {"events": [event(org, second=1), event(org, "api_key.rotated", second=2)]}
    )

    assert status == 201
    assert [e["occurred_at"] for e in body["events"]] == ["2026-11-20T10:00:01.000Z", "2026-11-20T10:00:02.000Z"]
    assert [e["duplicate"] for e in body["events"]] == [False, False]


def test_an_idempotent_retry_returns_the_original(local_api: LocalApi, org: str) -> None:
    key = {"Idempotency-Key": f"retry-{org}"}
    first = local_api.call("POST", "/events", event(org), headers=key)
    second = local_api.call("POST", "/events", event(org), headers=key)

    assert (first[0], second[0]) == (201, 200)
    assert second[1] == first[1]
    _, page = local_api.call("GET", "/events", headers=bearer(org))
    assert [e["event_id"] for e in page["events"]] == [first[1]["event_id"]]


def test_no_token_is_401(local_api: LocalApi) -> None:
    assert local_api.call("GET", "/events")[0] == 401


def test_a_bad_token_is_refused(local_api: LocalApi, org: str) -> None:
    local_api.call("POST", "/events", event(org))
    forged = token(org, "admin", "usr_x")[:-4] + "AAAA"

    status, body = local_api.call("GET", "/events", headers={"Authorization": f"Bearer {forged}"})

    # The authorizer raises "Unauthorized", which API Gateway turns into 401 (unit tests
    # pin that contract); sam local's emulator answers such an authorizer error with 502.
    assert status in (401, 502)
    assert "events" not in (body or {})


def test_a_member_is_403(local_api: LocalApi, org: str) -> None:
    local_api.call("POST", "/events", event(org))

    status, body = local_api.call("GET", "/events", headers=bearer(org, role="member", user="usr_member"))

    assert status == 403
    assert "events" not in (body or {})


def test_an_admin_sees_only_their_own_organisation(local_api: LocalApi, org: str) -> None:
    local_api.call("POST", "/events", event(org))
    other = f"{org}_other"

    status, page = local_api.call("GET", "/events", headers=bearer(other))
    assert status == 200
    assert page["events"] == []

    status, refused = local_api.call("GET", f"/events?org_id={org}", headers=bearer(other))
    assert status == 400
    assert refused["errors"] == [{"field": "org_id", "message": "is not a known parameter"}]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/events", {"org_id": "o", "event_type": "login", "actor": {"id": "u"}}, 422, "event_type"),
        ("POST", "/events", '{"org_id": ', 400, "body"),
        ("POST", "/events/batch", {"events": []}, 422, "events"),
        ("GET", "/events?limit=1000", None, 400, "limit"),
        ("GET", "/events?cursor=not-a-cursor", None, 400, "cursor"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    local_api: LocalApi, org: str, method: str, path: str, body: Any, status: int, field: str
) -> None:
    answer_status, answer = local_api.call(method, path, body, headers=bearer(org) if method == "GET" else None)

    assert answer_status == status, answer
    assert field in [error["field"] for error in answer["errors"]]
