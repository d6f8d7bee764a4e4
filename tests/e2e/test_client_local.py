"""The client against the local stack, as a backend team tries it under `make local`:
record (one, a batch, through the background recorder), read back, find the actor,
export and verify the export. `sam local` checks no SigV4 (the unit tier's gateway
does); the client signs anyway, with the stack's dummy credentials."""

import io
import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from audit_log_client import AuditLog, member_invited, user_login
from audit_log_client.checkpoints import load_public_key
from audit_log_client.exports import verify_export
from devtools import local_stack
from devtools.dev_tokens import token
from tests.conftest import ROOT
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e
WAIT = 180


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(1)
    return found


@pytest.fixture(scope="module")
def client(local_api: LocalApi) -> Iterator[AuditLog]:
    org_id = f"org_client_{secrets.token_hex(4)}"
    with AuditLog(local_api.base, "us-east-1", org_id=org_id) as audit_log:
        yield audit_log


def test_a_backend_records_and_an_admin_reads_back_through_the_client(
    client: AuditLog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    org_id = client.org_id
    assert org_id is not None
    admin = token(org_id, "admin", "usr_ada")
    ada = {"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@example.com"}

    one = client.record_event(user_login(org_id, ada, ip_address="203.0.113.7", user_agent="client-e2e"))
    assert client.record_event(
        user_login(org_id, ada, ip_address="203.0.113.7", user_agent="client-e2e", idempotency_key=one.idempotency_key)
    ).duplicate
    batch = client.record_batch(
        [member_invited(org_id, ada, invitee_id=f"usr_{n}", invitee_email=f"u{n}@example.com") for n in range(30)]
    )
    with client.background(flush_interval=0.1) as recorder:
        for n in range(5):
            recorder.record("api_key.rotated", ada, targets=[{"type": "api_key", "id": f"key_{n}"}])
        assert recorder.flush(timeout=60)
    assert recorder.sent == 5

    events = list(client.iter_events(admin, page_size=10))
    assert len(events) == 36
    assert {e["event_id"] for e in events} >= {one.event_id, *(r.event_id for r in batch)}
    assert [e["event_type"] for e in client.iter_events(admin, event_type="user.login")] == ["user.login"]

    # The indexer (a second reader of the table's stream) makes the actor findable.
    actors = wait_for(lambda: list(client.actors(admin, "ada")), "the actor indexed")
    assert [a["id"] for a in actors] == ["usr_ada"]

    key = load_public_key(json.dumps(client.reader(admin).public_key()))
    monkeypatch.chdir(tmp_path)
    wait_for(lambda: client.reader(admin).latest_checkpoint()["tree_size"] >= 36, "the events sealed")
    exported = client.export(admin, "ndjson", timeout=WAIT)
    assert exported.proof_path is not None
    verified = verify_export(exported.path, json.loads(exported.proof_path.read_text()), key)
    assert verified.events >= 36 and verified.complete


DOCUMENTED = [ROOT / "README.md", ROOT / "docs/client.md"]


def python_examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTED:
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", document.read_text(), flags=re.DOTALL)):
            found.append((f"{document.name} #{number + 1}", block))
    return found


@pytest.mark.parametrize(("where", "example"), python_examples(), ids=[name for name, _ in python_examples()])
def test_each_python_example_runs_under_the_local_stack(
    local_api: LocalApi, tmp_path: Path, where: str, example: str
) -> None:
    """As a new user pastes it: a fresh process, the README's variables, in a directory
    holding the ledger's key as the README saves it."""
    admin = token("org_acme", "admin", "usr_ada")
    status, key = local_api.call("GET", "/ledger/public-key", headers={"Authorization": f"Bearer {admin}"})
    assert status == 200
    (tmp_path / "key.json").write_text(json.dumps(key))
    env = {
        **os.environ,
        "API": local_api.base,
        "ADMIN_TOKEN": admin,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "PYTHONPATH": "",
    }
    env.pop("AWS_SESSION_TOKEN", None)
    done = subprocess.run(
        [str(local_stack.BIN / "python"), "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{where}:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{where} printed nothing"


def test_the_welcome_texts_client_command_records_an_event(local_api: LocalApi) -> None:
    welcome = io.StringIO()
    with redirect_stdout(welcome):
        receiver = local_stack.WebhookReceiver(None, "http://172.17.0.1:8765", Path("s"), Path("r"))  # type: ignore[arg-type]
        local_stack.print_welcome(
            local_api.base, "http://127.0.0.1:8080/settings/audit-log", receiver, local_api.dynamodb
        )
    (command,) = [line.strip() for line in welcome.getvalue().splitlines() if "audit_log_client" in line]
    env = {**os.environ, "API": local_api.base, "PYTHONPATH": ""}
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Recorded(event_id=")
