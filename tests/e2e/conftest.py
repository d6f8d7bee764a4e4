"""The end-to-end tier: the real functions in Lambda containers behind `sam local
start-api`, moto server as DynamoDB, all started on free ports and stopped afterwards.

It runs whenever a Docker engine is reachable and skips with the reason otherwise.
`.ci/run` starts an engine and sets AUDIT_LOG_REQUIRE_E2E=1, under which a missing
engine fails the tier instead of skipping it.
"""

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import local_stack
from devtools.admin_ui import AdminUi

FUZZ_FILE = "test_openapi_fuzz.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The generated requests last, whatever the files are called: the fuzz empties the
    local tables from time to time, which would take another test's data from under it."""
    items.sort(key=lambda item: item.path.name == FUZZ_FILE)


@dataclass
class LocalApi:
    base: str
    dynamodb: str  # moto server's endpoint, as seen from this machine
    env_vars: Path
    image_args: list[str]
    admin_ui: AdminUi  # the admin page and the gateway it calls the API through
    webhook_receiver: local_stack.WebhookReceiver  # where webhook streams deliver locally

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body.encode() if isinstance(body, str) else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # loopback only
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def invoke(self, function: str, event: dict[str, Any]) -> tuple[int, Any]:
        """`sam local invoke` of one function with one event; (exit code, its result).
        Several may run at once: each has an event file of its own."""
        event_file = local_stack.LOCAL / f"invoke-{function}-{uuid.uuid4().hex[:12]}.json"
        event_file.write_text(json.dumps(event))
        try:
            done = subprocess.run(
                [
                    str(local_stack.BIN / "sam"),
                    "local",
                    "invoke",
                    function,
                    "--event",
                    str(event_file),
                    "--template-file",
                    str(local_stack.ROOT / ".aws-sam/build/template.yaml"),
                    "--env-vars",
                    str(self.env_vars),
                    *self.image_args,
                ],
                cwd=local_stack.ROOT,
                env=local_stack.sam_env(),
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            event_file.unlink(missing_ok=True)
        lines = [line for line in done.stdout.strip().splitlines() if line.strip()]
        return done.returncode, json.loads(lines[-1]) if lines else done.stderr[-2000:]


@pytest.fixture(scope="session")
def local_api() -> Iterator[LocalApi]:
    if not local_stack.engine_running():
        reason = "no Docker engine reachable (`docker info` fails); `make local` or .ci/run start one"
        if os.environ.get("AUDIT_LOG_REQUIRE_E2E") == "1":
            pytest.fail(f"AUDIT_LOG_REQUIRE_E2E=1 but {reason}")
        pytest.skip(reason)
    with local_stack.running_stack(local_stack.free_port(), seed=False, start_docker=False) as stack:
        yield LocalApi(
            stack["api"],
            stack["dynamodb"],
            stack["env_vars"],
            stack["image_args"],
            stack["admin_ui"],
            stack["webhook_receiver"],
        )
