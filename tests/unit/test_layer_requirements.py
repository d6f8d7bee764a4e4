"""The layer's dependencies: every one pinned, and none that the Lambda runtime ships."""

import re

from tests.conftest import ROOT

LINE = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.\-+]*)$")


def requirement_lines() -> list[str]:
    text = (ROOT / "layers/common/requirements.txt").read_text()
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_layer_dependency_is_pinned_exactly() -> None:
    lines = requirement_lines()
    assert lines
    assert [line for line in lines if not LINE.match(line)] == []


def test_layer_leaves_boto3_and_botocore_to_the_runtime() -> None:
    names = {LINE.match(line).group(1).lower().replace("_", "-") for line in requirement_lines()}  # type: ignore[union-attr]
    assert not names & {"boto3", "botocore", "s3transfer", "urllib3"}
