"""The client a platform backend records with, against the real record and query
handlers behind a stand-in API Gateway that checks SigV4 itself (tests/gateway.py)."""

import asyncio
import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import pytest
from botocore.credentials import Credentials

from audit_log_client import (
    AccessDenied,
    ApiError,
    AsyncAuditLog,
    AuditLog,
    BufferFull,
    Event,
    FieldError,
    InvalidEvent,
    RetryPolicy,
    Unavailable,
    member_invited,
    settings_updated,
    user_login,
)
from audit_log_client.event_rules import Actor
from audit_log_client.signing import Signer
from devtools import sigv4_gateway as gateway
from devtools.functions import LambdaContext
from tests.conftest import ROOT, stored_events, stored_markers

ORG = "org_client"
CREDENTIALS = Credentials(gateway.ACCESS_KEY, gateway.SECRET_KEY)
NO_PAUSES = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0)


@pytest.fixture
def api(ddb: Any, lambda_context: LambdaContext) -> Iterator[gateway.Gateway]:
    with gateway.serving(gateway.Gateway(lambda_context)) as served:
        yield served


@pytest.fixture
def audit_log(api: gateway.Gateway) -> Iterator[AuditLog]:
    with AuditLog(api.url, gateway.REGION, org_id=ORG, credentials=CREDENTIALS, retry=NO_PAUSES) as client:
        yield client


def login(n: int, **fields: Any) -> Event:
    return user_login(
        ORG, {"id": f"usr_{n % 3}"}, ip_address="203.0.113.7", user_agent="pytest", method="sso", **fields
    )


# --- signing ----------------------------------------------------------------------------

SUITE = Path(__file__).parent / "sigv4_testsuite"  # AWS's SigV4 test suite, as botocore's tests carry it
SUITE_DATE = datetime(2015, 8, 30, 12, 36, 0)


def _suite_request(name: str) -> tuple[str, str, dict[str, str], bytes]:
    """The suite's raw request: method, URL, headers (X-Amz-Date left to the signer), body."""
    raw = (SUITE / name / f"{name}.req").read_text(encoding="utf-8")
    head, _, body = raw.partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, target, _ = request_line.split(" ")
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        if line.startswith((" ", "\t")):  # a folded value continues the header before it
            last = next(reversed(headers))
            headers[last] += "," + line.strip()
            continue
        name_, _, value = line.partition(":")
        headers[name_] = f"{headers[name_]},{value}" if name_ in headers else value
    host = headers["Host"]
    # A raw UTF-8 character in the query is sent percent-encoded, as httpx sends it; one in
    # the path is left to the signer, which encodes the path itself (as botocore's own
    # run of the suite does).
    path, mark, query = target.partition("?")
    target = path + mark + urllib.parse.quote(query, safe="".join(chr(c) for c in range(0x21, 0x7F)))
    return method, f"https://{host}{target}", {k: v for k, v in headers.items() if k != "X-Amz-Date"}, body.encode()


SUITE_CASES = sorted(path.name for path in SUITE.iterdir() if path.is_dir())


@pytest.mark.parametrize("name", SUITE_CASES)
def test_signing_gives_the_sigv4_test_suites_authorization(name: str) -> None:
    method, url, headers, body = _suite_request(name)
    canonical = (SUITE / name / f"{name}.creq").read_text(encoding="utf-8")
    token = next(
        (line.split(":", 1)[1] for line in canonical.splitlines() if line.startswith("x-amz-security-token:")), None
    )
    signer = Signer(
        "us-east-1",
        credentials=Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
        service="service",
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=SUITE_DATE):
        signed = signer.headers(method, url, headers, body)
    expected = (SUITE / name / f"{name}.authz").read_text(encoding="utf-8").strip()
    assert signed["Authorization"] == expected
    assert signed["X-Amz-Date"] == "20150830T123600Z"


def test_the_gateways_own_check_accepts_the_suites_requests() -> None:
    """The gateway's SigV4 check (written from the specification) agrees with AWS's suite
    on its canonical requests, so its verdicts on the client below mean something."""
    for name in SUITE_CASES:
        method, url, headers, body = _suite_request(name)
        lowered = {k.lower(): v for k, v in headers.items()} | {"x-amz-date": "20150830T123600Z"}
        authz = (SUITE / name / f"{name}.authz").read_text(encoding="utf-8").strip()
        signed = authz.split("SignedHeaders=")[1].split(",")[0].split(";")
        target = url.split(lowered["host"], 1)[1]
        if "x-amz-security-token" in signed:
            continue  # the suite's token is only in its canonical request
        ours = gateway.canonical_request(method, target, lowered, signed, body)
        assert ours == (SUITE / name / f"{name}.creq").read_text(encoding="utf-8").strip(), name


def test_a_signed_record_passes_the_gateways_check_and_is_stored(
    audit_log: AuditLog, api: gateway.Gateway, ddb: Any
) -> None:
    recorded = audit_log.record("user.login", "usr_1", context={"ip_address": "203.0.113.7"})
    assert recorded.event_id and not recorded.duplicate
    assert [e["event_id"]["S"] for e in stored_events(ddb)] == [recorded.event_id]
    (seen,) = api.requests_to("/v1/events")
    assert seen.status == 201
    assert seen.headers["idempotency-key"] == recorded.idempotency_key
    assert seen.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={gateway.ACCESS_KEY}/")


def test_a_wrong_secret_is_refused_as_aws_would_and_not_retried(api: gateway.Gateway, ddb: Any) -> None:
    wrong = Credentials(gateway.ACCESS_KEY, "not-the-secret")
    with (
        AuditLog(api.url, gateway.REGION, org_id=ORG, credentials=wrong, retry=NO_PAUSES) as client,
        pytest.raises(AccessDenied) as refused,
    ):
        client.record("user.login", "usr_1")
    assert refused.value.status == 403
    assert "signature" in refused.value.message
    assert len(api.seen) == 1
    assert stored_events(ddb) == []


def test_credentials_come_from_the_standard_chain(
    api: gateway.Gateway, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", gateway.ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", gateway.SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", gateway.REGION)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with AuditLog(api.url, org_id=ORG, retry=NO_PAUSES) as client:
        assert client.record("user.login", "usr_1").event_id
    assert len(stored_events(ddb)) == 1


# --- retries keep the key -------------------------------------------------------------------


def test_an_answer_lost_after_the_write_is_retried_with_the_same_key_and_recorded_once(
    audit_log: AuditLog, api: gateway.Gateway, ddb: Any
) -> None:
    api.fail_next(gateway.after_write(503), gateway.drop_after_write())
    recorded = audit_log.record("member.invited", "usr_admin", targets=[{"type": "user", "id": "usr_new"}])
    attempts = api.requests_to("/v1/events")
    assert len(attempts) == 3
    assert {seen.headers["idempotency-key"] for seen in attempts} == {recorded.idempotency_key}
    assert len({seen.headers["x-amz-date"] + seen.headers["authorization"] for seen in attempts}) >= 1
    assert recorded.duplicate  # the third attempt found the first one's event
    (event,) = stored_events(ddb)
    assert event["event_id"]["S"] == recorded.event_id
    assert len(stored_markers(ddb)) == 1


def test_throttling_waits_at_least_its_retry_after(
    api: gateway.Gateway, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr("audit_log_client.exchange.time.sleep", pauses.append)
    policy = RetryPolicy(attempts=4, base_delay=0.1, max_delay=5.0, random=lambda low, high: high)
    api.fail_next(gateway.answer(429, **{"Retry-After": "3"}), gateway.answer(502))
    with AuditLog(api.url, gateway.REGION, org_id=ORG, credentials=CREDENTIALS, retry=policy) as client:
        client.record("user.login", "usr_1")
    assert pauses == [3.0, 0.2]  # Retry-After over the first pause; then the doubled base
    assert len(stored_events(ddb)) == 1


def test_attempts_are_bounded_and_end_in_unavailable(audit_log: AuditLog, api: gateway.Gateway, ddb: Any) -> None:
    api.fail_next(*[gateway.answer(503)] * 10)
    with pytest.raises(Unavailable) as failed:
        audit_log.record("user.login", "usr_1")
    assert failed.value.status == 503
    assert len(api.seen) == NO_PAUSES.attempts
    assert stored_events(ddb) == []


def test_full_jitter_stays_within_its_bounds() -> None:
    draws: list[tuple[float, float]] = []

    def highest(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    policy = RetryPolicy(base_delay=0.2, max_delay=2.0, random=highest)
    assert [policy.delay(n) for n in range(6)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert all(low == 0.0 for low, _ in draws)
    assert policy.delay(0, "60") == 2.0  # a long Retry-After is capped at max_delay


# --- refusals --------------------------------------------------------------------------------

INVALID_EVENTS = [
    {"org_id": ORG, "event_type": "UserLogin", "actor": {"id": "usr_1"}},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": ""}, "targets": [{"type": "user"}] * 11},
    {"org_id": "org with spaces", "event_type": "user.login", "actor": {"id": "u", "email": "nope"}},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "context": {"ip_address": "fe80::1%eth0"}},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "details": {"n": 2**53}},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "details": {"x": "y" * 17_000}},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "occurred_at": "2999-01-01T00:00:00Z"},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "occurred_at": "yesterday"},
    {"org_id": ORG, "event_type": "user.login", "actor": {"id": "u"}, "colour": "red"},
    {"event_type": "user.login"},
]


@pytest.mark.parametrize("body", INVALID_EVENTS)
def test_the_client_refuses_what_the_service_refuses_in_the_same_words(
    body: dict[str, Any], post: Any, api: gateway.Gateway, audit_log: AuditLog
) -> None:
    service = post("/events/batch", {"events": [body, body]})
    assert service.status == 422
    with pytest.raises(InvalidEvent) as refused:
        AuditLog(api.url, gateway.REGION, credentials=CREDENTIALS).record_batch([body, body])
    assert refused.value.status is None  # found before sending
    assert [(e.field, e.message) for e in refused.value.errors] == [
        (e["field"], e["message"]) for e in service.body["errors"]
    ]
    assert api.seen == []


def test_a_422_from_the_service_raises_invalid_event_with_its_field_paths(
    audit_log: AuditLog, api: gateway.Gateway
) -> None:
    unchecked = Event.model_construct(  # past the client's own check, as an older client might send
        org_id=ORG, event_type="Not.Valid", actor=Actor(id="usr_1"), idempotency_key="k-1"
    )
    with pytest.raises(InvalidEvent) as refused:
        audit_log.send_chunk([unchecked])
    assert refused.value.status == 422
    assert (
        FieldError("events[0].event_type", "must be resource.action in lower case, e.g. user.login")
        in refused.value.errors
    )
    assert len(api.seen) == 1  # a refusal is not retried


# --- batches ---------------------------------------------------------------------------------


def test_record_batch_splits_at_25_in_order(audit_log: AuditLog, api: gateway.Gateway, ddb: Any) -> None:
    results = audit_log.record_batch([login(n) for n in range(60)])
    calls = api.requests_to("/v1/events/batch")
    assert [len(json.loads(seen.body)["events"]) for seen in calls] == [25, 25, 10]
    assert len(results) == 60 and not any(r.duplicate for r in results)
    assert sorted(e["event_id"]["S"] for e in stored_events(ddb)) == sorted(r.event_id for r in results)
    sent_keys = [e["idempotency_key"] for seen in calls for e in json.loads(seen.body)["events"]]
    assert sent_keys == [r.idempotency_key for r in results]


def test_a_batch_flushes_on_the_25th_event_and_on_exit(audit_log: AuditLog, api: gateway.Gateway, ddb: Any) -> None:
    with audit_log.batch() as batch:
        for n in range(24):
            batch.add(login(n))
        assert api.seen == []
        batch.record("user.login", "usr_x")
        assert len(api.seen) == 1 and batch.pending == ()
        batch.record("member.invited", "usr_admin")
    assert [len(json.loads(seen.body)["events"]) for seen in api.seen] == [25, 1]
    assert len(batch.recorded) == 26 == len(stored_events(ddb))


def test_a_batch_flushes_when_its_oldest_event_waited_too_long(audit_log: AuditLog, api: gateway.Gateway) -> None:
    now = [0.0]
    batch = audit_log.batch(max_wait=5.0)
    batch._buffer.clock = lambda: now[0]
    batch.add(login(1))
    now[0] = 4.9
    batch.add(login(2))
    assert api.seen == []
    now[0] = 5.0
    batch.add(login(3))
    assert [len(json.loads(seen.body)["events"]) for seen in api.seen] == [3]


def test_a_failed_flush_keeps_its_events_and_keys_for_the_retry(
    audit_log: AuditLog, api: gateway.Gateway, ddb: Any
) -> None:
    api.fail_next(gateway.after_write(503), *[gateway.answer(503)] * 3)
    batch = audit_log.batch()
    events = [batch.add(login(n)) for n in range(10)]
    with pytest.raises(Unavailable):
        batch.flush()
    assert batch.pending == tuple(events)
    first_keys = [e["idempotency_key"] for e in json.loads(api.seen[0].body)["events"]]
    results = batch.flush()
    assert [e["idempotency_key"] for e in json.loads(api.seen[-1].body)["events"]] == first_keys
    assert all(r.duplicate for r in results)  # the first attempt had written them
    assert len(stored_events(ddb)) == 10
    assert batch.pending == ()


def test_a_batch_sends_its_events_even_when_the_block_raised(audit_log: AuditLog, ddb: Any) -> None:
    def handle_a_request() -> None:
        with audit_log.batch() as batch:
            batch.add(login(1))
            raise RuntimeError("the request failed after the login")

    with pytest.raises(RuntimeError):
        handle_a_request()
    assert len(stored_events(ddb)) == 1


def test_a_bad_event_is_refused_when_added_not_at_the_flush(audit_log: AuditLog, api: gateway.Gateway) -> None:
    batch = audit_log.batch()
    batch.add(login(1))
    with pytest.raises(InvalidEvent) as refused:
        batch.record("Login", "usr_1")
    assert refused.value.errors[0].field == "event_type"
    assert len(batch.pending) == 1
    batch.flush()
    assert len(api.seen) == 1


# --- the background recorder -----------------------------------------------------------------


def test_the_background_recorder_sends_25_to_a_call_and_everything_at_close(
    audit_log: AuditLog, api: gateway.Gateway, ddb: Any
) -> None:
    recorder = audit_log.background(flush_interval=60.0)
    for n in range(30):
        recorder.add(login(n))
    assert recorder.flush(timeout=30)
    assert recorder.close() == []
    sizes = sorted(len(json.loads(seen.body)["events"]) for seen in api.seen)
    assert sizes == [5, 25]
    assert recorder.sent == 30 == len(stored_events(ddb))


def test_the_background_recorder_retries_a_failed_call_with_the_same_keys(
    audit_log: AuditLog, api: gateway.Gateway, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("audit_log_client.batching.RETRY_PAUSE", 0.01)
    api.fail_next(*[gateway.after_write(500)] * 4, *[gateway.answer(503)] * 4)  # two calls' worth of attempts
    recorder = audit_log.background(flush_interval=0.01)
    events = [recorder.add(login(n)) for n in range(3)]
    assert recorder.flush(timeout=30)
    recorder.close()
    assert recorder.failed_calls == 2
    assert {e["idempotency_key"] for seen in api.seen for e in json.loads(seen.body)["events"]} == {
        e.idempotency_key for e in events
    }
    assert len(stored_events(ddb)) == 3


def test_the_background_recorder_never_holds_the_caller_past_max_block(
    audit_log: AuditLog, api: gateway.Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("audit_log_client.batching.RETRY_PAUSE", 30.0)
    api.fail_next(*[gateway.answer(503)] * 100)
    recorder = audit_log.background(flush_interval=0.0, max_buffered=3, max_block=0.01)
    for n in range(3):
        recorder.add(login(n))
    with pytest.raises(BufferFull):
        recorder.add(login(3))
    assert recorder.pending == 3
    left = recorder.close(timeout=0.1)
    assert [e.idempotency_key for e in left] and len(left) == 3  # kept, returned, not dropped


def test_events_refused_for_good_go_to_on_failure_and_the_rest_are_sent(audit_log: AuditLog, ddb: Any) -> None:
    refused: list[tuple[Any, int]] = []
    recorder = audit_log.background(
        flush_interval=0.0, on_failure=lambda error, events: refused.append((error, len(events)))
    )
    recorder.add(Event.model_construct(org_id=ORG, event_type="Bad", actor=Actor(id="u"), idempotency_key="k-bad"))
    assert recorder.flush(timeout=30)
    recorder.add(login(1))
    recorder.close()
    assert [(type(error), count) for error, count in refused] == [(InvalidEvent, 1)]
    assert len(stored_events(ddb)) == 1


def test_buffered_events_are_sent_when_the_process_exits(api: gateway.Gateway, ddb: Any) -> None:
    script = (
        "import sys\n"
        "from audit_log_client import AuditLog, user_login\n"
        "log = AuditLog(sys.argv[1], 'eu-west-1', org_id='org_client')\n"
        "recorder = log.background(flush_interval=3600)\n"
        "for n in range(3):\n"
        "    recorder.add(user_login('org_client', 'usr_1', ip_address='203.0.113.7', user_agent='exit'))\n"
        "print('buffered', recorder.pending)\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": gateway.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": gateway.SECRET_KEY}
    env.pop("AWS_SESSION_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", script, api.url], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "buffered 3\n"
    assert len(stored_events(ddb)) == 3


# --- typed helpers -------------------------------------------------------------------------


def test_the_typed_helpers_carry_their_fields_and_read_back(audit_log: AuditLog, api: gateway.Gateway) -> None:
    admin = {"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@example.com"}
    audit_log.record_batch(
        [
            user_login(ORG, admin, ip_address="203.0.113.7", user_agent="Mozilla/5.0", method="sso", mfa=True),
            settings_updated(ORG, admin, changed=["api_keys"], targets=[{"type": "api_key", "id": "key_live_1"}]),
            member_invited(ORG, admin, invitee_id="usr_grace", invitee_email="grace@example.com", invitee_name="Grace"),
        ]
    )
    events = {e["event_type"]: e for e in audit_log.iter_events(f"admin:{ORG}")}
    assert events["user.login"]["context"] == {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"}
    assert events["user.login"]["details"] == {"method": "sso", "mfa": True}
    assert events["organisation.settings_updated"]["targets"] == [{"type": "api_key", "id": "key_live_1", "name": None}]
    assert events["organisation.settings_updated"]["details"] == {"changed": ["api_keys"]}
    assert events["member.invited"]["targets"] == [{"type": "user", "id": "usr_grace", "name": "Grace"}]
    assert events["member.invited"]["details"] == {"role": "member", "invitee_email": "grace@example.com"}
    assert {e["actor"]["email"] for e in events.values()} == {"ada@example.com"}


def test_the_typed_helpers_refuse_what_their_events_need() -> None:
    with pytest.raises(InvalidEvent) as no_settings:
        settings_updated(ORG, "usr_ada", changed=[])
    assert no_settings.value.errors[0].field == "details.changed"
    with pytest.raises(InvalidEvent) as bad_address:
        user_login(ORG, "usr_1", ip_address="not-an-ip", user_agent="x")
    assert bad_address.value.errors[0].field == "context.ip_address"
    with pytest.raises(InvalidEvent) as naive:
        user_login(
            ORG,
            "usr_1",
            ip_address="203.0.113.7",
            user_agent="x",
            occurred_at=datetime(2026, 1, 1),
        )
    assert naive.value.errors[0].field == "occurred_at"


# --- reading -------------------------------------------------------------------------------


def test_iter_events_follows_the_cursors_newest_first(audit_log: AuditLog, api: gateway.Gateway) -> None:
    audit_log.record_batch([login(n, occurred_at=f"2026-11-01T00:{n // 60:02d}:{n % 60:02d}.000Z") for n in range(120)])
    events = list(audit_log.iter_events(f"admin:{ORG}", page_size=50))
    assert len(api.requests_to("/v1/events")) == 3
    assert len({e["event_id"] for e in events}) == 120
    assert [e["occurred_at"] for e in events] == sorted((e["occurred_at"] for e in events), reverse=True)
    only = list(audit_log.iter_events(f"admin:{ORG}", actor_id="usr_1", since="2026-11-01T00:01:00Z"))
    assert {e["actor"]["id"] for e in only} == {"usr_1"} and len(only) == 20


def test_a_bad_token_is_access_denied(audit_log: AuditLog) -> None:
    with pytest.raises(AccessDenied) as refused:
        list(audit_log.iter_events("not-a-token"))
    assert refused.value.status == 401


# --- asyncio ------------------------------------------------------------------------------


def test_async_and_blocking_clients_give_the_same_results(api: gateway.Gateway, ddb: Any) -> None:
    def run_blocking() -> dict[str, Any]:
        with AuditLog(api.url, gateway.REGION, org_id="org_sync", credentials=CREDENTIALS, retry=NO_PAUSES) as client:
            api.fail_next(gateway.after_write(503))
            one = client.record("user.login", "usr_1", idempotency_key="same-key")
            again = client.record("user.login", "usr_1", idempotency_key="same-key")
            many = client.record_batch(
                [{"event_type": "member.invited", "actor": {"id": f"usr_{n}"}} for n in range(30)]
            )
            with client.batch() as batch:
                batch.record("user.login", "usr_2")
            try:
                client.record_batch([{"event_type": "Bad", "actor": {"id": ""}}])
            except InvalidEvent as exc:
                errors = exc.errors
            read = [(e["event_type"], e["actor"]["id"]) for e in client.iter_events("admin:org_sync", page_size=7)]
        return {
            "dup": (one.duplicate, again.duplicate, one.event_id == again.event_id),
            "n": len(many),
            "errors": errors,
            "read": read,
            "batched": len(batch.recorded),
        }

    async def run_async() -> dict[str, Any]:
        async with AsyncAuditLog(
            api.url, gateway.REGION, org_id="org_async", credentials=CREDENTIALS, retry=NO_PAUSES
        ) as client:
            api.fail_next(gateway.after_write(503))
            one = await client.record("user.login", "usr_1", idempotency_key="same-key")
            again = await client.record("user.login", "usr_1", idempotency_key="same-key")
            many = await client.record_batch(
                [{"event_type": "member.invited", "actor": {"id": f"usr_{n}"}} for n in range(30)]
            )
            async with client.batch() as batch:
                await batch.record("user.login", "usr_2")
            try:
                await client.record_batch([{"event_type": "Bad", "actor": {"id": ""}}])
            except InvalidEvent as exc:
                errors = exc.errors
            read = [
                (e["event_type"], e["actor"]["id"]) async for e in client.iter_events("admin:org_async", page_size=7)
            ]
        return {
            "dup": (one.duplicate, again.duplicate, one.event_id == again.event_id),
            "n": len(many),
            "errors": errors,
            "read": read,
            "batched": len(batch.recorded),
        }

    blocking = run_blocking()
    calls = len(api.seen)
    asynchronous = asyncio.run(run_async())
    assert asynchronous == blocking
    assert len(api.seen) - calls == calls  # the same requests, retries included
    assert blocking["dup"] == (True, True, True) and blocking["n"] == 30 and len(blocking["read"]) == 32


# --- one definition ------------------------------------------------------------------------


def test_the_client_checks_events_with_the_services_own_file() -> None:
    client_rules = ROOT / "clients/python/src/audit_log_client"
    for name in ("event_rules.py", "org_ids.py", "timestamps.py"):
        assert (client_rules / name).is_symlink(), name
        assert (client_rules / name).resolve() == ROOT / "layers/common/python/audit_log" / name


def test_the_verifier_stays_independent_of_the_services_rules() -> None:
    """The ledger checks reimplement the contract: they must not lean on service code."""
    for name in ("ledger.py", "checkpoints.py", "verify.py", "exports.py", "audit.py"):
        source = (ROOT / "clients/python/src/audit_log_client" / name).read_text()
        assert "event_rules" not in source and "timestamps" not in source, name


def test_the_verifiers_command_line_loads_none_of_the_recording_dependencies(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "import audit_log_client, audit_log_client.cli\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'botocore', 'pydantic'}))\n"
        "from audit_log_client import AuditLog\n"
        "print(AuditLog.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\naudit_log_client.client\n"


def test_pip_install_ships_the_rules_as_files_and_the_type_marker(tmp_path: Path) -> None:
    """`pip install ./clients/python` outside this checkout: the links become the files
    they point at (an installed package cannot point back into the repository)."""
    target = tmp_path / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "clients/python"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    installed = target / "audit_log_client"
    for name in ("event_rules.py", "org_ids.py", "timestamps.py"):
        assert not (installed / name).is_symlink()
        assert (installed / name).read_bytes() == (ROOT / "layers/common/python/audit_log" / name).read_bytes()
    assert (installed / "py.typed").exists()
    metadata = next(target.glob("audit_log_client-*.dist-info")) / "METADATA"
    requirements = [line for line in metadata.read_text().splitlines() if line.startswith("Requires-Dist:")]
    assert all("==" in line for line in requirements) and len(requirements) == 5


def test_the_background_recorder_keeps_its_events_without_credentials(
    api: gateway.Gateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr("audit_log_client.batching.RETRY_PAUSE", 0.01)
    with AuditLog(api.url, gateway.REGION, org_id=ORG) as client:
        recorder = client.background(flush_interval=0.0)
        recorder.add(login(1))
        recorder.add(login(2))
        assert not recorder.flush(timeout=0.5)
        left = recorder.close(timeout=0.1)
    assert len(left) == 2 and recorder.failed_calls >= 1
    assert api.seen == []


def test_a_reads_400_is_an_api_error_not_an_invalid_event(audit_log: AuditLog) -> None:
    with pytest.raises(ApiError) as refused:
        list(audit_log.iter_events(f"admin:{ORG}", since="last tuesday"))
    assert refused.value.status == 400 and not isinstance(refused.value, InvalidEvent)


def test_a_buffered_event_keeps_the_time_it_happened_not_the_time_it_was_sent(
    audit_log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    happened = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)
    monkeypatch.setattr("audit_log_client.batching.utc_now", lambda: happened)
    with audit_log.batch() as batch:
        batch.record("user.login", "usr_1")
        batch.add(login(2, occurred_at="2026-11-29T08:00:00.000Z"))  # a time given is kept
    times = sorted(e["occurred_at"] for e in audit_log.iter_events(f"admin:{ORG}"))
    assert times == ["2026-11-29T08:00:00.000Z", "2026-11-30T10:00:00.000Z"]


def test_the_readmes_record_example_uses_the_client_and_the_guide_has_one_per_use() -> None:
    """The examples themselves run under the local stack (tests/e2e/test_client_local.py)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Record an event") : readme.index("### Read the log")]
    assert "from audit_log_client import AuditLog" in section and "```python" in section
    guide = (ROOT / "docs/client.md").read_text()
    for use in (
        "audit_log.record(",
        "user_login(",
        "audit_log.batch()",
        "audit_log.background(",
        "AsyncAuditLog(",
        "iter_events(",
        "audit_log.export(",
        "audit_log.audit(",
        "except InvalidEvent",
    ):
        assert use in guide, use
