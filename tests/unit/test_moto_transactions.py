"""The tests' moto transactions (devtools.moto_transactions) stay all or nothing: a
cancelled transaction leaves every item and the stream as they were; a successful one
writes every item, once, with its stream records."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import TEST_ENV

TABLE = TEST_ENV["TABLE_NAME"]


def put(pk: str, value: str, condition: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "x"}, "v": {"S": value}}}
    if condition:
        entry["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": entry}


def stream_length(ddb: Any) -> int:
    import boto3

    streams = boto3.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_a_cancelled_transaction_changes_nothing(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("org#a", "first")])
    before = stream_length(ddb)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        # overwrite one item unconditionally, add a new one, then fail on the existing item
        ddb.transact_write_items(
            TransactItems=[put("org#b", "new"), put("org#c", "other", False), put("org#a", "again")]
        )
    items = {item["pk"]["S"]: item["v"]["S"] for item in ddb.scan(TableName=TABLE)["Items"]}
    assert items == {"org#a": "first"}
    assert stream_length(ddb) == before


def test_a_transaction_that_holds_writes_every_item(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[put("org#a", "1"), put("org#b", "2")])
    items = {item["pk"]["S"]: item["v"]["S"] for item in ddb.scan(TableName=TABLE)["Items"]}
    assert items == {"org#a": "1", "org#b": "2"}
    assert stream_length(ddb) == 2
