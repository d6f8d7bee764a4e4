"""Records of the events table's stream, as its two readers (the sealer and the indexer
of the investigation helpers) see them."""

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)


def is_new_event(record: DynamoDBRecord) -> bool:
    """An event's first write: not an idempotency marker (`idem#…`), not a TTL removal."""
    keys = record.dynamodb.keys if record.dynamodb else {}
    pk = keys.get("pk")
    return record.event_name == DynamoDBRecordEventName.INSERT and isinstance(pk, str) and pk.startswith("org#")
