"""The e2e tier on a machine without a Docker engine, as a newcomer's first `make test`
meets it: every test of the tier skips, saying why, and none fails; under
AUDIT_LOG_REQUIRE_E2E=1 (what .ci/run sets) the same run fails instead.

The tier runs in a child pytest whose Docker client points at a socket that does not
exist, so this holds on a machine whose engine is running too (CI's).
"""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/audit-log-test/docker.sock"}


def run_e2e_tier(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "AUDIT_LOG_REQUIRE_E2E"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**environ, **NO_ENGINE, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def summary(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", last)}


@pytest.fixture(scope="module")
def without_engine() -> subprocess.CompletedProcess[str]:
    return run_e2e_tier()


def test_without_an_engine_the_e2e_tier_skips_whole_and_passes(
    without_engine: subprocess.CompletedProcess[str],
) -> None:
    counts = summary(without_engine.stdout)
    assert without_engine.returncode == 0, without_engine.stdout[-3000:]
    assert counts.get("skipped", 0) >= 5, counts
    assert set(counts) == {"skipped"}, counts  # nothing passed without the stack, nothing failed
    assert "no Docker engine reachable" in without_engine.stdout


def test_ci_fails_when_the_e2e_tier_cannot_run() -> None:
    required = run_e2e_tier(AUDIT_LOG_REQUIRE_E2E="1")
    counts = summary(required.stdout)
    assert required.returncode != 0, required.stdout[-3000:]
    assert counts.get("skipped", 0) == 0, counts
    assert "AUDIT_LOG_REQUIRE_E2E=1 but no Docker engine reachable" in required.stdout
