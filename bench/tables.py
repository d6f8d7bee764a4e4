"""Where the sections' DynamoDB lives: moto in-process (counts) or a moto server on
loopback (latency, where the HTTP round trip is part of what a call costs). Either way the
tables are built from template.yaml by devtools.template.create_tables, and the layer's
one client (`events_table.dynamodb_client`, cached) is dropped on the way in and out so
it is always made for the DynamoDB in use."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.server import ThreadedMotoServer

from audit_log import events_table
from devtools.template import TABLE_ENV_VARS, create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = os.environ["TABLE_NAME"]
_serializer = TypeSerializer()


def to_wire(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed JSON form, as the layer sends it."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _create(client: "DynamoDBClient") -> None:
    create_tables(client, {logical_id: os.environ[var] for logical_id, var in TABLE_ENV_VARS.items()})


@contextmanager
def in_process_tables() -> Iterator["DynamoDBClient"]:
    """moto's in-process DynamoDB with the template's tables, fresh for each use."""
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    events_table.dynamodb_client.cache_clear()
    try:
        with mock_aws():
            client = events_table.dynamodb_client()
            _create(client)
            yield client
    finally:
        events_table.dynamodb_client.cache_clear()


@contextmanager
def server_tables() -> Iterator["DynamoDBClient"]:
    """A moto server on 127.0.0.1 (a free port) with the template's tables; the layer's
    client points at it through AWS_ENDPOINT_URL_DYNAMODB, as in `make local`."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://{host}:{port}"
        events_table.dynamodb_client.cache_clear()
        client = events_table.dynamodb_client()
        _create(client)
        yield client
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        events_table.dynamodb_client.cache_clear()
        server.stop()


def put_items(client: "DynamoDBClient", items: list[dict[str, Any]], table: str = TABLE) -> None:
    """Seed items 25 at a time with BatchWriteItem: a bench fixture, not the service's
    write path (which never batches without a transaction), and far faster in moto than
    one transaction or conditional put per item."""
    for start in range(0, len(items), 25):
        requests: Any = [{"PutRequest": {"Item": to_wire(item)}} for item in items[start : start + 25]]
        response = client.batch_write_item(RequestItems={table: requests})
        assert not response.get("UnprocessedItems"), "moto left items unprocessed"


@contextmanager
def listing_reused() -> Iterator[None]:
    """While nothing is written, let moto sort each table's items once instead of on every
    Query.

    moto answers a Query by first listing the whole table, sorted (`Table.all_items`):
    about 1.8 s a call at 20,000 items, which would make walking every page of every filter
    shape take most of `make bench`'s ten minutes. The listing only changes when an item
    does, so it is kept per table and item count and handed out again. Which items each
    Query reads, and its ScannedCount and Count, are still moto's own logic.
    """
    original = Table.all_items
    listings: dict[int, tuple[int, list[Item]]] = {}

    def all_items(table: Table) -> list[Item]:
        if not table.range_key_attr:
            return list(original(table))
        count = sum(len(partition) for partition in table.items.values())
        kept = listings.get(id(table))
        if kept is None or kept[0] != count:
            kept = listings[id(table)] = (count, original(table))
        return list(kept[1])

    Table.all_items = all_items  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Table.all_items = original  # type: ignore[method-assign]
