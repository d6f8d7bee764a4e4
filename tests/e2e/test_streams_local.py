"""Log streams under the local stack, as `make local` runs them: the sealer, the
dispatcher (on the ledger table's stream) and delivery run in Lambda containers fed by
the local poller; a webhook stream reaches the local receiver (which checks every
Standard Webhooks signature) and an S3 stream writes into a bucket on moto server."""

import gzip
import json
import secrets
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from devtools import local_stack
from devtools.dev_tokens import token
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e
WAIT = 180


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def org(local_api: LocalApi) -> dict[str, Any]:
    """An organisation with 20 events, all sealed."""
    org_id = f"org_streams_{secrets.token_hex(4)}"
    events = [
        {"org_id": org_id, "event_type": "user.login", "actor": {"id": f"usr_{n % 3}"}, "details": {"n": n}}
        for n in range(20)
    ]
    status, body = local_api.call("POST", "/events/batch", {"events": events[:20]})
    assert status == 201, body
    admin = {"Authorization": f"Bearer {token(org_id, 'admin', 'usr_0')}"}

    def sealed() -> bool:
        status, checkpoint = local_api.call("GET", "/ledger/checkpoint", headers=admin)
        return status == 200 and checkpoint["tree_size"] >= 20

    wait_for(sealed, "the demo events sealed")
    return {"id": org_id, "headers": admin}


def ledger(local_api: LocalApi, headers: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        status, entries = local_api.call("GET", f"/ledger/entries?start={len(events)}&limit=100", headers=headers)
        assert status == 200, entries
        events += [entry["event"] for entry in entries["entries"]]
        if len(entries["entries"]) < 100:
            return events


def same_order(delivered: list[dict[str, Any]], ledger_events: list[dict[str, Any]]) -> None:
    """`delivered` in ledger order with nothing missing, over what both hold: delivery may
    be ahead of the latest checkpoint (which bounds /ledger/entries) or behind it."""
    count = min(len(delivered), len(ledger_events))
    assert count >= 21
    assert [e["event_id"] for e in delivered[:count]] == [e["event_id"] for e in ledger_events[:count]]


def first_arrivals(messages: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """The events accepted at `path`, each once, in the order they first arrived."""
    seen: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message["path"] == path and message["status"] == 204 and message["body"]["type"] == "audit_log.event":
            seen.setdefault(message["body"]["data"]["event_id"], message["body"]["data"])
    return list(seen.values())


def record(local_api: LocalApi, org_id: str, n: int) -> str:
    status, body = local_api.call(
        "POST",
        "/events",
        {"org_id": org_id, "event_type": "member.invited", "actor": {"id": "usr_0"}, "details": {"n": n}},
    )
    assert status == 201, body
    return str(body["event_id"])


def test_a_webhook_stream_delivers_the_log_and_new_events_through_failures(
    local_api: LocalApi, org: dict[str, Any]
) -> None:
    receiver = local_api.webhook_receiver
    path = f"/{org['id']}"
    status, created = local_api.call(
        "POST", "/streams", {"type": "webhook", "url": receiver.url + path, "start_leaf": 0}, headers=org["headers"]
    )
    assert status == 201, created
    receiver.remember(path, created["secret"])
    # Everything from leaf 0: the 20 events and the stream's own log_stream.created.
    wait_for(lambda: len(first_arrivals(receiver.messages(), path)) >= 21, "the log delivered")
    # The destination fails for a while; nothing is lost, and order holds.
    with urllib.request.urlopen(
        urllib.request.Request(f"{receiver.url}/_control/fail", data=b'{"count": 2}', method="POST"), timeout=10
    ):
        pass
    new = [record(local_api, org["id"], n) for n in range(3)]
    wait_for(lambda: {*new} <= {e["event_id"] for e in first_arrivals(receiver.messages(), path)}, "new events")
    expected = ledger(local_api, org["headers"])
    arrived = first_arrivals(receiver.messages(), path)
    same_order(arrived, expected)
    assert all(m["valid"] for m in receiver.messages() if m["path"] == path and m["status"] == 204)
    failed = [m for m in receiver.messages() if m["path"] == path and m["status"] == 503]
    assert failed, "the receiver refused some messages, and they came again"
    status, shown = local_api.call("GET", f"/streams/{created['stream_id']}", headers=org["headers"])
    assert status == 200 and shown["state"] == "active" and shown["consecutive_failures"] == 0, shown
    assert "secret" not in shown


def test_an_s3_stream_writes_the_log_into_the_customers_bucket(local_api: LocalApi, org: dict[str, Any]) -> None:
    prefix = f"{org['id']}/"
    body = {
        "type": "s3",
        "bucket": local_stack.CUSTOMER_BUCKET,
        "prefix": prefix,
        "role_arn": local_stack.CUSTOMER_ROLE,
        "start_leaf": 0,
    }
    status, created = local_api.call("POST", "/streams", body, headers=org["headers"])
    assert status == 201, created
    assert created["secret"] is None
    s3 = boto3.client(
        "s3",
        endpoint_url=local_api.dynamodb,
        region_name="us-east-1",
        aws_access_key_id=local_stack.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=local_stack.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )

    def events_in_bucket() -> list[dict[str, Any]]:
        listed = s3.list_objects_v2(Bucket=local_stack.CUSTOMER_BUCKET, Prefix=prefix).get("Contents", [])
        found: dict[str, dict[str, Any]] = {}
        for item in sorted(listed, key=lambda o: o["Key"].rsplit("/", 1)[1]):
            data = s3.get_object(Bucket=local_stack.CUSTOMER_BUCKET, Key=item["Key"])["Body"].read()
            for line in gzip.decompress(data).splitlines():
                event = json.loads(line)
                found.setdefault(event["event_id"], event)
        return list(found.values())

    expected = ledger(local_api, org["headers"])
    wait_for(lambda: len(events_in_bucket()) >= len(expected), "the log in the bucket")
    new = record(local_api, org["id"], 99)
    wait_for(lambda: new in {e["event_id"] for e in events_in_bucket()}, "a new event in the bucket")
    in_bucket = events_in_bucket()
    same_order(in_bucket, ledger(local_api, org["headers"]))


def test_stream_changes_are_in_the_log(local_api: LocalApi, org: dict[str, Any]) -> None:
    status, listed = local_api.call("GET", "/streams", headers=org["headers"])
    assert status == 200 and listed["streams"], listed
    stream_id = listed["streams"][0]["stream_id"]
    request = urllib.request.Request(f"{local_api.base}/streams/{stream_id}", method="DELETE", headers=org["headers"])
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 204
    status, page = local_api.call("GET", "/events?limit=100", headers=org["headers"])
    assert status == 200, page
    kinds = {
        (e["event_type"], e["targets"][0]["id"]) for e in page["events"] if e["event_type"].startswith("log_stream.")
    }
    assert ("log_stream.deleted", stream_id) in kinds and ("log_stream.created", stream_id) in kinds
    assert all(e["actor"]["id"] == "usr_0" for e in page["events"] if e["event_type"].startswith("log_stream."))
