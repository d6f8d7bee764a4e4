"""What the functions log: never a credential, a token, a cursor or the cursor secret;
always one JSON object per line, whatever control characters an event carries; and the
event itself comes back from the log byte-for-byte.

The output is captured through the functions' own Powertools formatter, at DEBUG, so a
field added to any log line later is covered too.
"""

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from audit_log.observability import logger
from devtools.functions import LambdaContext, load_function
from tests.conftest import TEST_ENV
from tests.unit.test_authorizer import METHOD_ARN, SETTINGS, claims, configure, sign
from tests.unit.test_record_validation import valid_event

SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
    f"SignedHeaders=content-type;host;x-amz-date, Signature={SIGNATURE}"
)
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENdoNotLog0123456789"
# Characters that end, rewrite or recolour a line on a terminal or in a log viewer.
LINE_BREAKERS = ["\r", "\n", "\x1b", "\u2028", "\u2029", "\x85", "\x00", "\x07", "\x08"]
NASTY = 'a\r\nFAKE {"level":"INFO"}\x1b[2J\x1b]0;pwned\x07\u2028\u2029\x85\x00\x08\u202eevil 💥 é'


@pytest.fixture
def log_output() -> Iterator[Callable[[], str]]:
    """Everything the functions log from here on, exactly as Lambda would ship it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)  # the stdlib logger Powertools writes through
    underlying.addHandler(handler)
    level = underlying.level
    underlying.setLevel(logging.DEBUG)
    yield stream.getvalue
    underlying.removeHandler(handler)
    underlying.setLevel(level)


def _assert_one_json_object_per_line(text: str) -> None:
    lines = text.split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert isinstance(json.loads(line), dict), line
    for character in LINE_BREAKERS:
        assert character not in text.replace("\n", ""), f"raw {character!r} in the log output"


def test_credentials_tokens_cursors_and_the_cursor_secret_are_never_logged(
    post: Any, get: Any, ddb: Any, log_output: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = {"Authorization": SIGV4, "X-Amz-Security-Token": SESSION_TOKEN}
    admin_token = sign(claims())
    admin = {"Authorization": f"Bearer {admin_token}"}
    for number in range(3):
        assert post("/events", valid_event(details={"n": number}), headers=backend).status == 201
    assert post("/events", valid_event(org_id="bad#org"), headers=backend).status == 422
    assert post("/events", valid_event(), headers={**backend, "Idempotency-Key": "k1"}).status == 201
    assert (
        post("/events", valid_event(details={"other": 1}), headers={**backend, "Idempotency-Key": "k1"}).status == 200
    )
    first = get({"limit": "1"}, org="org_7f3a", headers=admin)
    cursor = first.body["next_cursor"]
    assert get({"limit": "1", "cursor": cursor}, org="org_7f3a", headers=admin).status == 200
    assert get({"limit": "1", "cursor": cursor[:-2] + "AA"}, org="org_7f3a", headers=admin).status == 400
    assert get({"limit": "1", "cursor": cursor}, org="org_other", headers=admin).status == 400

    authorizer = load_function("authorizer")
    configure(monkeypatch, SETTINGS)

    def authorize(token: str) -> dict[str, Any]:
        event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
        result: dict[str, Any] = authorizer.lambda_handler(event, LambdaContext())
        return result

    authorize(admin_token)
    authorize(member_token := sign(claims(org_role="member")))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(refused_token := sign(claims(aud="someone-else")))

    text = log_output()
    assert "Event recorded" in text and "Log page served" in text and "Token verified" in text, "nothing captured"
    secrets = [SIGV4, SIGNATURE, SESSION_TOKEN]
    secrets += [TEST_ENV["CURSOR_SECRET"], cursor, cursor[:-2] + "AA"]
    for token in (admin_token, member_token, refused_token):
        secrets += [token, *token.split(".")[1:]]
    for secret in secrets:
        assert secret not in text
    _assert_one_json_object_per_line(text)


def _nasty_event(suffix: str) -> dict[str, Any]:
    return valid_event(
        org_id="org_nasty",
        actor={"id": NASTY + suffix, "name": NASTY, "email": f"ada+{suffix}@example.com"},
        targets=[{"type": NASTY[:60], "id": NASTY, "name": NASTY}],
        context={"ip_address": "2001:db8::1", "user_agent": NASTY},
        details={NASTY: NASTY, "nested": [{"k": NASTY}], "raw_json": '{"a":"\\u0000"}'},
    )


def test_control_characters_in_events_never_break_a_log_line_and_come_back_byte_for_byte(
    post: Any, get: Any, ddb: Any, log_output: Callable[[], str]
) -> None:
    sent = [_nasty_event("1"), _nasty_event("2")]
    assert post("/events", sent[0]).status == 201
    assert post("/events/batch", {"events": [sent[1]]}).status == 201
    assert post("/events", _nasty_event("3") | {"occurred_at": NASTY}).status == 422
    assert post("/events", _nasty_event("4"), headers={"Idempotency-Key": "nasty"}).status == 201
    assert post("/events", _nasty_event("5"), headers={"Idempotency-Key": "nasty"}).status == 200  # warning logged

    page = get({"actor_id": NASTY + "1"}, org="org_nasty")
    text = log_output()

    assert "Idempotency key reused" in text
    _assert_one_json_object_per_line(text)
    (stored,) = page.body["events"]
    assert stored["actor"] == {**sent[0]["actor"], "type": "user"}
    for field in ("targets", "details"):
        assert stored[field] == sent[0][field]
    assert _strings(stored["actor"]) == _strings({**sent[0]["actor"], "type": "user"})
    assert _strings(stored["targets"]) == _strings(sent[0]["targets"])
    assert _strings(stored["details"]) == _strings(sent[0]["details"])
    assert stored["context"]["user_agent"].encode() == NASTY.encode()


def _strings(value: Any, path: str = "") -> list[tuple[str, bytes]]:
    """Every string in a JSON value (keys included) as UTF-8 bytes, by path: equal lists
    mean byte-for-byte equal text, whatever the key order."""
    if isinstance(value, dict):
        found = [(f"{path}/key", key.encode()) for key in value]
        return sorted(found + [item for key, child in value.items() for item in _strings(child, f"{path}/{key}")])
    if isinstance(value, list):
        return [item for index, child in enumerate(value) for item in _strings(child, f"{path}/{index}")]
    return [(path, value.encode())] if isinstance(value, str) else []
