"""The local poller keeps reading a table that was deleted and made again (the e2e fuzz
empties the local tables so): moto answers the old stream's iterators with nothing, so
without looking, sealing and indexing would silently stop under `make local`."""

from typing import Any

from devtools.stream_poller import stream_source
from devtools.template import create_tables
from tests.conftest import TEST_ENV, fresh_tables


def _put(client: Any, n: int) -> None:
    client.put_item(
        TableName=TEST_ENV["TABLE_NAME"],
        Item={"pk": {"S": f"org#o{n}"}, "sk": {"S": f"evt#{n}"}, "event_id": {"S": f"e{n}"}},
    )


def _collect(seen: list[dict[str, Any]]) -> Any:
    def invoke(event: dict[str, Any]) -> None:
        seen.extend(event["Records"])

    return invoke


def test_a_reader_notices_its_table_made_anew_and_a_new_reader_reads_the_new_stream() -> None:
    with fresh_tables() as client:
        source = stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"])
        seen: list[dict[str, Any]] = []
        _put(client, 1)
        assert source.deliver(_collect(seen)) == 1
        assert not source.replaced()

        client.update_table(TableName=TEST_ENV["TABLE_NAME"], DeletionProtectionEnabled=False)
        client.delete_table(TableName=TEST_ENV["TABLE_NAME"])
        create_tables(client, {"EventsTable": TEST_ENV["TABLE_NAME"]})
        _put(client, 2)

        assert source.replaced()
        again = stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"])
        assert again.deliver(_collect(seen)) == 1
        assert seen[-1]["dynamodb"]["NewImage"]["event_id"] == {"S": "e2"}
        assert not again.replaced()
