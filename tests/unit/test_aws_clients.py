"""The layer's botocore session against botocore's default one: the same service models
for every service the layer uses, the same refusal of a name without a model, and the
same places searched, without reading every service's directory to get there."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError

from audit_log import aws_clients


@pytest.fixture
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The cached session dropped before and after, so each test builds its own."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws_clients.session.cache_clear()
    yield
    aws_clients.session.cache_clear()


@pytest.mark.parametrize("service", aws_clients.SERVICES)
def test_each_service_gets_the_model_botocore_would_load(fresh_session: None, service: str) -> None:
    ours = aws_clients.create(service, aws_clients._CONFIG).meta.service_model
    theirs = botocore.session.get_session().create_client(service, region_name="eu-west-1").meta.service_model
    assert ours.api_version == theirs.api_version
    assert ours.operation_names == theirs.operation_names
    assert ours.endpoint_prefix == theirs.endpoint_prefix


def test_a_service_the_layer_does_not_use_is_refused_by_name(fresh_session: None) -> None:
    with pytest.raises(UnknownServiceError, match="'ec2'"):
        aws_clients.create("ec2", aws_clients._CONFIG)


def test_it_searches_where_botocore_searches_aws_data_path_first(
    fresh_session: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    default = botocore.session.get_session().get_component("data_loader")
    ours = aws_clients.session().get_component("data_loader")
    assert ours.search_paths == default.search_paths
    assert ours.search_paths[0] == str(tmp_path)


def test_a_model_is_found_without_listing_every_service(fresh_session: None, monkeypatch: pytest.MonkeyPatch) -> None:
    listed: list[str] = []
    real_listdir = os.listdir

    def recording_listdir(path: Any = ".") -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", recording_listdir)
    aws_clients.create("dynamodb", aws_clients._CONFIG)
    roots = {str(path) for path in aws_clients.session().get_component("data_loader").search_paths}
    assert listed, "the model was loaded without looking for its versions"
    assert not roots & set(listed), f"a whole models directory was listed: {roots & set(listed)}"
    assert len(listed) <= 2 * len(aws_clients.SERVICES)
