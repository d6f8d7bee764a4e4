"""Two sealer processes on one organisation at once, as after a shard split: each its own
Lambda container (a process running seal_log's real handler), each handed its shard's
records, both appending to one ledger in one DynamoDB (a moto server). The claims let one
win each position; the tree never forks and every event gets exactly one leaf."""

import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer

from audit_log import aws_clients, events_table
from audit_log.ledger import publishing, storage, tiles
from audit_log.ledger.checkpoints import parse_body
from audit_log.ledger.hashing import LeafList, root
from audit_log.ledger.signing import verify_signature
from devtools.functions import LambdaContext, load_function
from devtools.template import create_checkpoint_bucket, create_queue, create_signing_key, create_tables
from tests.conftest import TEST_ENV, one_call_at_a_time
from tests.unit.test_sealed_end_to_end import store_events, stream_batches

SERVICES = ("DYNAMODB", "KMS", "S3", "SQS")
LEDGER = TEST_ENV["LEDGER_TABLE_NAME"]


@pytest.fixture
def shared_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A moto server with the template's tables, key, bucket and queue; the environment
    a sealer container gets. One request at a time, as DynamoDB isolates requests."""
    one_call_at_a_time(monkeypatch, DomainDispatcherApplication)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for service in SERVICES:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", url)
    clear = [events_table.dynamodb_client, aws_clients.kms, aws_clients.s3, aws_clients.sqs]
    for cached in clear:
        cached.cache_clear()
    dynamodb = boto3.client("dynamodb", endpoint_url=url)
    create_tables(dynamodb, {"EventsTable": TEST_ENV["TABLE_NAME"], "LedgerTable": LEDGER})
    create_checkpoint_bucket(boto3.client("s3", endpoint_url=url), TEST_ENV["CHECKPOINT_BUCKET"])
    environment = {
        **{f"AWS_ENDPOINT_URL_{service}": url for service in SERVICES},
        "SIGNING_KEY_ID": create_signing_key(boto3.client("kms", endpoint_url=url)),
        "CHECKPOINT_QUEUE_URL": create_queue(boto3.client("sqs", endpoint_url=url), "CheckpointQueue", "calls"),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    yield environment
    for cached in clear:
        cached.cache_clear()
    server.stop()


def sealer(environment: dict[str, str], batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One sealer container: its shard's batches through seal_log's handler, in order."""
    os.environ.update(environment)
    seal_log = load_function("seal_log")
    return [seal_log.lambda_handler(batch, LambdaContext()) for batch in batches]


@pytest.mark.long
def test_two_sealer_processes_on_one_organisation_never_fork_it(shared_aws: dict[str, str]) -> None:
    dynamodb = events_table.dynamodb_client()
    stored: list[dict[str, Any]] = []
    store_events(dynamodb, "org_split", 400, stored=stored)
    shards = [list(stream_batches(stored[:200], size=50)), list(stream_batches(stored[200:], size=50))]

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        answers = pool.starmap(sealer, [(shared_aws, batches) for batches in shards])

    assert all(answer == {"batchItemFailures": []} for shard in answers for answer in shard)
    size = storage.tree_size(LEDGER, "org_split")
    keys = [key for segment in storage.segments_between(LEDGER, "org_split", 0, size) for key in segment.event_keys]
    assert size == len(keys) == len(set(keys)) == 400, "every event one leaf, none twice, no gap"
    assert set(keys) == {item["sk"] for item in stored}
    leaves = [tiles.TileHashes(size, storage.tile_reader(LEDGER, "org_split"))(0, i) for i in range(size)]
    assert root(size, tiles.TileHashes(size, storage.tile_reader(LEDGER, "org_split"))) == root(size, LeafList(leaves))
    latest = storage.latest_checkpoint(LEDGER, "org_split")
    assert latest is not None and latest.tree_size == 400
    key = publishing.signer(shared_aws["SIGNING_KEY_ID"]).public_key
    verify_signature(key.pem, latest.body, latest.signature)
    assert parse_body(latest.body).root_hash == root(size, LeafList(leaves))
