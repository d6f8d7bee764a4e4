"""The whole path: events stored, delivered by the events stream in Lambda's batches,
sealed and published by seal_log, served by read_ledger over HTTP, and audited with the
customer's own client (`audit_log_client`, which imports nothing of the service) — and
each way an operator could rewrite history behind the API's back, caught by the audit.

The events are written straight into the table as record_event stores them (moto's
transactions would make recording 10,000 one by one take minutes); everything after the
write is the real path."""

import inspect
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ulid import ULID

from audit_log import events_table
from audit_log.event_rules import EventIn
from audit_log.recording import event_item
from audit_log.timestamps import format_utc_ms
from audit_log_client.api import Client
from audit_log_client.audit import audit
from audit_log_client.checkpoints import load_public_key
from audit_log_client.errors import ForkDetected, VerificationFailed
from devtools.functions import load_function
from tests.conftest import TEST_ENV, FullTimeContext, admin_context, ledger_event, serving

ORGS = ("org_north", "org_south", "org_east", "org_west")


@pytest.fixture(scope="module", autouse=True)
def queries_read_one_partition() -> Iterator[None]:
    """moto answers a Query on a table's key by sorting every item of the table, each
    partition, and then keeping the queried one's; DynamoDB reads only that partition. With
    10,000 events and their ledger in the tables, that sort was most of this module's time.
    Here moto's own query code sees the queried partition's items alone: the same answer,
    since it keeps only those and sorts them by their sort key. Index queries are unchanged."""
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    signature = inspect.signature(original_query)
    querying = threading.local()

    def all_items(table: Any) -> Any:
        partition = getattr(querying, "partition", None)
        if partition is not None and partition[0] is table:
            return list(table.items.get(partition[1], {}).values())
        return original_all_items(table)

    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        if arguments.get("index_name") or not table.range_key_attr or arguments.get("hash_key") is None:
            return original_query(table, *args, **kwargs)
        querying.partition = (table, arguments["hash_key"])
        try:
            return original_query(table, *args, **kwargs)
        finally:
            querying.partition = None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Table, "all_items", all_items)
        patch.setattr(Table, "query", query)
        yield


def store_events(
    client: Any, org_id: str, count: int, start: int = 0, stored: list[dict[str, Any]] | None = None
) -> list[str]:
    """`count` events of `org_id`, stored exactly as record_event stores them (and their
    items appended to `stored`)."""
    now = datetime.now(UTC)
    ids, items = [], []
    for number in range(start, start + count):
        event = EventIn.model_validate(
            {
                "org_id": org_id,
                "event_type": ("user.login", "member.invited", "organisation.settings_updated")[number % 3],
                "actor": {
                    "id": f"usr_{number % 17}",
                    "name": f"User {number % 17}",
                    "email": f"u{number % 17}@x.example",
                },
                "targets": [{"type": "api_key", "id": f"key_{number % 5}"}],
                "context": {"ip_address": f"203.0.113.{number % 250}", "user_agent": "Mozilla/5.0 ü"},
                "details": {"n": number, "ratio": number / 8, "tags": ["a", None, True]},
            }
        )
        event_id = str(ULID())
        moment = format_utc_ms(now - timedelta(seconds=count - number))
        items.append(event_item(event, event_id, moment, moment, 0))
        ids.append(event_id)
    for first in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": events_table.to_dynamodb(item)}} for item in items[first : first + 25]]
        client.batch_write_item(RequestItems={TEST_ENV["TABLE_NAME"]: requests})
    if stored is not None:
        stored += items
    return ids


def stream_batches(items: list[dict[str, Any]], size: int = 100) -> Iterator[dict[str, Any]]:
    """The stream records of `items`' inserts in Lambda's batches, as the events table's
    stream carries them (moto's own stream takes half a second a batch to serve)."""
    records = [
        {
            "eventID": str(number),
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "Keys": events_table.to_dynamodb({"pk": item["pk"], "sk": item["sk"]}),
                "NewImage": events_table.to_dynamodb(item),
                "SequenceNumber": f"{10**20 + number}",
                "StreamViewType": "NEW_IMAGE",
            },
        }
        for number, item in enumerate(items)
    ]
    for first in range(0, len(records), size):
        yield {"Records": records[first : first + size]}


@pytest.fixture
def ledger_api(ledger_resources: Any, lambda_context: Any) -> Iterator[str]:
    """read_ledger's handler behind HTTP, as API Gateway and the authorizer would put it:
    the bearer token `admin-<org>` is that organisation's ORG Admin."""
    read_ledger = load_function("read_ledger")

    def gateway(path: str, query: dict[str, str], headers: Any) -> tuple[int, str]:
        org = headers.get("Authorization", "").removeprefix("Bearer admin-")
        event = ledger_event(path.removeprefix("/v1"), query or None, authorizer=admin_context(org))
        answer = read_ledger.lambda_handler(event, lambda_context)
        return int(answer["statusCode"]), str(answer["body"])

    with serving(gateway) as url:
        yield url


def partition(client: Any, table: str, pk: str) -> list[dict[str, Any]]:
    """Every item of one partition, as stored (wire form): what an operator sees."""
    answer = client.query(
        TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
    )
    items: list[dict[str, Any]] = answer["Items"]
    return items


def public_key(url: str) -> Any:
    return load_public_key(json.dumps(Client(url, "admin-org_north").get_json("/ledger/public-key")))


@pytest.mark.long
def test_ten_thousand_events_of_four_organisations_audit_clean(
    ledger_resources: Any, lambda_context: Any, ledger_api: str
) -> None:
    counts = dict(zip(ORGS, (4_000, 3_000, 2_000, 1_000), strict=True))
    stored: list[dict[str, Any]] = []
    for org, count in counts.items():
        store_events(ledger_resources, org, count, stored=stored)
    stored.sort(key=lambda item: item["event_id"])  # the organisations' events interleaved, as recorded
    seal_log = load_function("seal_log")
    for batch in stream_batches(stored):
        assert seal_log.lambda_handler(batch, lambda_context) == {"batchItemFailures": []}
    key = public_key(ledger_api)
    for org, count in counts.items():
        report = audit(Client(ledger_api, f"admin-{org}", retries=0), key)
        assert report.latest.head.size == report.count.events == count
        assert report.latest.head.origin == f"audit-log.test/unit/{org}"


@pytest.fixture
def sealed(ledger_resources: Any, sealer: Any, ledger_api: str) -> dict[str, Any]:
    ids = store_events(ledger_resources, "org_north", 300)
    sealer.run()
    kept = Client(ledger_api, "admin-org_north").latest_checkpoint()
    return {"ids": ids, "kept": kept, "key": public_key(ledger_api), "client": Client(ledger_api, "admin-org_north")}


def test_an_event_changed_in_the_table_behind_the_api_is_named(sealed: dict[str, Any], ledger_resources: Any) -> None:
    stored = partition(ledger_resources, TEST_ENV["TABLE_NAME"], "org#org_north")
    victim = next(item for item in stored if item["event_id"]["S"] == sealed["ids"][123])
    victim["actor"]["M"]["id"] = {"S": "usr_someone_else"}  # what only a raw table write could do
    ledger_resources.put_item(TableName=TEST_ENV["TABLE_NAME"], Item=victim)
    with pytest.raises(VerificationFailed, match="123"):
        audit(sealed["client"], sealed["key"])


def test_a_rewritten_past_is_contradicted_by_the_kept_checkpoint(
    sealed: dict[str, Any], ledger_resources: Any, sealer: Any, ledger_api: str
) -> None:
    """An operator empties the ledger and seals history again without one event, signing
    with the service's own key: the new checkpoints verify, the kept one exposes them."""
    stored = partition(ledger_resources, TEST_ENV["LEDGER_TABLE_NAME"], "org#org_north#leaves")
    for item in ledger_resources.scan(TableName=TEST_ENV["LEDGER_TABLE_NAME"])["Items"]:
        if item["pk"]["S"].startswith("org#org_north#"):
            ledger_resources.delete_item(
                TableName=TEST_ENV["LEDGER_TABLE_NAME"], Key={"pk": item["pk"], "sk": item["sk"]}
            )
    assert stored
    events = partition(ledger_resources, TEST_ENV["TABLE_NAME"], "org#org_north")
    gone = next(item for item in events if item["event_id"]["S"] == sealed["ids"][40])
    ledger_resources.delete_item(TableName=TEST_ENV["TABLE_NAME"], Key={"pk": gone["pk"], "sk": gone["sk"]})
    store_events(ledger_resources, "org_north", 5, start=1_000)  # and the log goes on
    load_function("seal_log").lambda_handler({"reconcile": {}}, FullTimeContext())
    audit(sealed["client"], sealed["key"])  # on its own the rewritten ledger is consistent
    with pytest.raises(VerificationFailed, match="rewritten"):
        audit(sealed["client"], sealed["key"], sealed["kept"])


def test_two_trees_published_at_one_size_are_a_fork(sealed: dict[str, Any], ledger_resources: Any) -> None:
    forked = {**sealed["kept"]}
    latest = sealed["client"].latest_checkpoint()
    assert latest["tree_size"] == forked["tree_size"] == 300
    # The kept checkpoint of size 300 stays; the service now publishes another of size 300.
    from audit_log.ledger import checkpoints, publishing, storage

    stored = storage.latest_checkpoint(TEST_ENV["LEDGER_TABLE_NAME"], "org_north")
    assert stored is not None
    other_head = checkpoints.TreeHead(stored.origin, 300, bytes(32), stored.timestamp)
    other = publishing.sign(other_head, publishing.signer(os.environ["SIGNING_KEY_ID"]), b"")
    ledger_resources.put_item(
        TableName=TEST_ENV["LEDGER_TABLE_NAME"],
        Item=events_table.to_dynamodb(
            {
                "pk": storage.checkpoints_pk("org_north"),
                "sk": f"{300:020d}",
                "origin": other.origin,
                "root_hash": other.root_hash,
                "timestamp": other.timestamp,
                "key_id": other.key_id,
                "body": other.body,
                "signature": other.signature,
                "compact_range": b"",
            }
        ),
    )
    with pytest.raises(ForkDetected):
        audit(sealed["client"], sealed["key"], forked)


def test_a_checkpoint_signed_by_another_key_is_refused(sealed: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(VerificationFailed, match="key"):
        audit(sealed["client"], load_public_key(other_pem))
