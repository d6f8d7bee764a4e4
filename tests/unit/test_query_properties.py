"""Property: for any log and any filter combination and page size, walking the pages of
`GET /events` yields exactly the caller's matching events, newest first, each once."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_log import events_table
from audit_log.event_rules import EventIn
from audit_log.recording import record_events
from audit_log.timestamps import format_utc_ms
from devtools.functions import LambdaContext, load_function
from tests.conftest import TEST_ENV, admin_context, api_event, fresh_tables

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ORGS = ["org_a", "org_b", "org_c"]
TYPES = ["user.login", "organisation.settings_updated", "member.invited", "api_key.rotated"]
ACTORS = ["usr_1", "usr_2", "usr_3", "svc_sync"]

# Few distinct instants (tenths of a second over 3 s), so equal occurred_at ties are common.
instants = st.integers(min_value=0, max_value=30).map(lambda tenths: T0 + timedelta(milliseconds=100 * tenths))
events = st.builds(
    lambda org, type_, actor, moment: {
        "org_id": org,
        "event_type": type_,
        "actor": {"id": actor},
        "occurred_at": format_utc_ms(moment),
    },
    st.sampled_from(ORGS),
    st.sampled_from(TYPES),
    st.sampled_from(ACTORS),
    instants,
)
filters = st.fixed_dictionaries(
    {},
    optional={
        "event_type": st.sampled_from(TYPES),
        "actor_id": st.sampled_from(ACTORS),
        "since": instants,
        "until": instants,
    },
)


def matches(event: dict[str, Any], org: str, query: dict[str, Any]) -> bool:
    occurred = datetime.fromisoformat(event["occurred_at"])
    return (
        event["org_id"] == org
        and query.get("event_type", event["event_type"]) == event["event_type"]
        and query.get("actor_id", event["actor"]["id"]) == event["actor"]["id"]
        and ("since" not in query or occurred >= query["since"])
        and ("until" not in query or occurred < query["until"])
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=st.lists(events, max_size=40),
    org=st.sampled_from(ORGS),
    query=filters,
    limit=st.integers(min_value=1, max_value=7),
    # A small budget makes type + actor pages stop early and resume from their cursor.
    read_budget=st.sampled_from([events_table.FILTERED_READ_BUDGET, 1, 4]),
)
@pytest.mark.long
def test_walking_all_pages_returns_exactly_the_matching_events(
    log: list[dict[str, Any]], org: str, query: dict[str, Any], limit: int, read_budget: int
) -> None:
    query_log = load_function("query_log")
    params = {key: format_utc_ms(value) if isinstance(value, datetime) else value for key, value in query.items()}
    params["limit"] = str(limit)
    budget_may_cut = read_budget < len(log) and "event_type" in query and "actor_id" in query
    with fresh_tables(), mock.patch.object(events_table, "FILTERED_READ_BUDGET", read_budget):
        recorded: list[dict[str, Any]] = []
        for start in range(0, len(log), 25):
            chunk = [EventIn.model_validate(event) for event in log[start : start + 25]]
            outcomes = record_events([(e, None) for e in chunk], table_name=TEST_ENV["TABLE_NAME"], retention_days=0)
            recorded += [
                {**e.model_dump(), "event_id": o.recorded.event_id} for e, o in zip(chunk, outcomes, strict=True)
            ]

        served: list[str] = []
        cursor = None
        pages = 0
        while True:
            page_params = {**params, **({"cursor": cursor} if cursor else {})}
            response = query_log.lambda_handler(
                api_event("GET", "/events", query=page_params, authorizer=admin_context(org)), LambdaContext()
            )
            body = json.loads(response["body"])
            if query.get("since") and query.get("until") and query["since"] > query["until"]:
                assert response["statusCode"] == 400
                return
            assert response["statusCode"] == 200, body
            assert len(body["events"]) <= limit
            served += [event["event_id"] for event in body["events"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
            assert len(body["events"]) == limit or budget_may_cut, "only the last page may be short"

    expected = sorted(
        (e for e in recorded if matches(e, org, query)), key=lambda e: (e["occurred_at"], e["event_id"]), reverse=True
    )
    assert served == [e["event_id"] for e in expected]
    if not budget_may_cut:
        assert pages == max(1, -(-len(expected) // limit))
