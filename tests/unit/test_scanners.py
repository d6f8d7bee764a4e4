"""The infrastructure scanners' own guarantees: our checkov check really fails a table
without deletion protection, and every check the template skips says why, on the resource."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devtools.template import TEMPLATE_PATH, load_template
from tests.conftest import ROOT

CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"


def _checkov(template: Path) -> subprocess.CompletedProcess[str]:
    if not CHECKOV.exists():
        reason = f"{CHECKOV.relative_to(ROOT)} is missing: `make scan` (part of `make test`) installs it"
        if os.environ.get("AUDIT_LOG_REQUIRE_E2E") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    command = [str(CHECKOV), "--file", str(template), "--framework", "cloudformation"]
    command += ["--external-checks-dir", str(ROOT / "scanners" / "checkov"), "--check", "CKV_AUDIT_1"]
    command += ["--compact", "--quiet", "--skip-download"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(
    ("change", "verdict"),
    [
        (None, "passed"),
        ("      DeletionProtectionEnabled: false\n", "FAILED"),
        ("", "FAILED"),  # the property removed
    ],
    ids=["as committed", "set to false", "removed"],
)
def test_the_deletion_protection_check_fails_a_table_that_could_be_deleted(
    tmp_path: Path, change: str | None, verdict: str
) -> None:
    text = TEMPLATE_PATH.read_text()
    line = "      DeletionProtectionEnabled: true\n"
    assert line in text
    template = tmp_path / "template.yaml"
    template.write_text(text if change is None else text.replace(line, change))

    done = _checkov(template)

    assert done.returncode == (0 if verdict == "passed" else 1), done.stdout + done.stderr
    if verdict == "FAILED":
        assert "CKV_AUDIT_1" in done.stdout and "EventsTable" in done.stdout
    else:
        assert "Passed checks: 5, Failed checks: 0" in done.stdout  # events, ledger, investigation, exports, streams


def test_every_skipped_check_names_its_reason_on_the_resource() -> None:
    skipped: list[tuple[str, dict[str, Any]]] = [
        (logical_id, skip)
        for logical_id, resource in load_template()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skipped, "the template skips checks; this test must see them"
    for logical_id, skip in skipped:
        assert skip["id"].startswith("CKV_"), (logical_id, skip)
        assert len(str(skip.get("comment", ""))) > 40, f"{logical_id} skips {skip['id']} without a reason"
