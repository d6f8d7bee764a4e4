"""The verifiable ledger under the local stack, as `make local` runs it: events recorded
through sam local are sealed by the real seal_log function (fed by the local stream
poller through `sam local start-lambda`), signed with a KMS key and copied to an
Object-Lock bucket on moto server, and `audit-log audit` verifies the result."""

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools import local_stack
from devtools.dev_tokens import token
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e


def wait_for_size(local_api: LocalApi, bearer: str, size: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, checkpoint = local_api.call("GET", "/ledger/checkpoint", headers={"Authorization": f"Bearer {bearer}"})
        assert status == 200, checkpoint
        if checkpoint["tree_size"] >= size or time.monotonic() > deadline:
            return dict(checkpoint)
        time.sleep(1)


@pytest.fixture(scope="module")
def sealed_org(local_api: LocalApi) -> dict[str, Any]:
    org = f"org_ledger_{secrets.token_hex(4)}"
    events = [
        {"org_id": org, "event_type": "user.login", "actor": {"id": f"usr_{n % 3}"}, "details": {"n": n}}
        for n in range(30)
    ]
    ids = []
    for start in range(0, 30, 25):
        status, body = local_api.call("POST", "/events/batch", {"events": events[start : start + 25]})
        assert status == 201, body
        ids += [event["event_id"] for event in body["events"]]
    admin = token(org, "admin", "usr_0")
    checkpoint = wait_for_size(local_api, admin, 30)
    assert checkpoint["tree_size"] == 30, "every recorded event sealed and published within two minutes"
    return {"org": org, "admin": admin, "ids": ids, "checkpoint": checkpoint}


def test_recorded_events_are_sealed_and_proven(local_api: LocalApi, sealed_org: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {sealed_org['admin']}"}
    status, proof = local_api.call("GET", f"/events/{sealed_org['ids'][7]}/proof", headers=headers)
    assert status == 200, proof
    assert proof["leaf_index"] == 7 and proof["tree_size"] == 30
    status, entries = local_api.call("GET", "/ledger/entries?start=0&limit=100", headers=headers)
    assert [entry["event"]["event_id"] for entry in entries["entries"]] == sealed_org["ids"]


def test_every_checkpoint_has_a_locked_copy(local_api: LocalApi, sealed_org: dict[str, Any]) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=local_api.dynamodb,
        region_name=local_stack.REGION,
        aws_access_key_id=local_stack.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=local_stack.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    key = f"checkpoints/{sealed_org['org']}/{30:020d}.json"
    copy = s3.get_object(Bucket=local_stack.CHECKPOINT_BUCKET, Key=key)
    assert json.loads(copy["Body"].read())["body"] == sealed_org["checkpoint"]["body"]
    assert copy["ObjectLockMode"] == "COMPLIANCE"


def test_the_cli_audits_the_local_ledger(local_api: LocalApi, sealed_org: dict[str, Any], tmp_path: Path) -> None:
    status, key = local_api.call(
        "GET", "/ledger/public-key", headers={"Authorization": f"Bearer {sealed_org['admin']}"}
    )
    assert status == 200
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key))
    kept = tmp_path / "kept.json"
    audit = [str(local_stack.BIN / "audit-log"), "audit", "--api", local_api.base, "--token", sealed_org["admin"]]
    first = subprocess.run([*audit, "--public-key", str(key_file), "--save", str(kept)], capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(
        [*audit, "--public-key", str(key_file), "--since", str(kept)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stdout + again.stderr
