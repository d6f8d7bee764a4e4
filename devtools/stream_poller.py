"""What Lambda's event source mappings do, for local runs and tests: `sam local` has no
event sources, so this reads moto server's DynamoDB stream and SQS queue and hands the
functions the events Lambda would (same shapes, batches of up to 100 stream records or 10
messages), honouring ReportBatchItemFailures: a stream batch is retried from the first
failed record, a failed message stays on its queue. The stream has two readers, each
with its own position, as with two event source mappings: the sealer (which also gets
the checkpoint queue) and the indexer of the investigation helpers. The export queue
goes to the export worker, one message per invocation. Log streams follow the ledger
table's own stream (to the dispatcher) and their delivery queue (to delivery, one
message per invocation).

    python -m devtools.stream_poller --dynamodb URL --lambda URL   # make local runs this

`invoke` is any callable taking the event and returning the function's answer: the
handler itself in tests, a Lambda Invoke against `sam local start-lambda` locally.
"""

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

Invoke = Callable[[dict[str, Any]], dict[str, Any] | None]
STREAM_BATCH = 100
QUEUE_BATCH = 10
REPLACED_LOOK_SECONDS = 5.0


def _as_json(value: Any) -> Any:
    """An attribute value as Lambda's JSON has it: binary (boto3 gives bytes) in base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {name: _as_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda delivers it (boto3 parsed the creation time to a datetime
    and binary values to bytes)."""
    dynamodb = {
        name: _as_json(value) if name in ("Keys", "NewImage", "OldImage") else value
        for name, value in record["dynamodb"].items()
    }
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


class StreamSource:
    """Every shard of one table's stream, read from its start (TRIM_HORIZON)."""

    def __init__(self, streams: Any, stream_arn: str, table: tuple[Any, str] | None = None) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.table = table
        self.iterators: dict[str, str | None] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}

    def replaced(self) -> bool:
        """Whether the table now has another stream (it was deleted and made again, as the
        e2e fuzz does): moto answers the old stream's iterators with nothing, forever, so
        a reader that does not look would silently stop."""
        if self.table is None:
            return False
        dynamodb, table_name = self.table
        return bool(dynamodb.describe_table(TableName=table_name)["Table"].get("LatestStreamArn") != self.stream_arn)

    def _refresh_shards(self) -> None:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                self.pending[shard["ShardId"]] = []

    def deliver(self, invoke: Invoke) -> int:
        """One round: each shard's next batch to `invoke`; how many records were delivered."""
        self._refresh_shards()
        delivered = 0
        for shard_id, iterator in self.iterators.items():
            pending = self.pending[shard_id]
            if iterator is not None and len(pending) < STREAM_BATCH:
                answer = self.streams.get_records(ShardIterator=iterator, Limit=STREAM_BATCH)
                pending += [_lambda_record(record, self.stream_arn) for record in answer["Records"]]
                self.iterators[shard_id] = answer.get("NextShardIterator")
            if not pending:
                continue
            batch = pending[:STREAM_BATCH]
            answer = invoke({"Records": batch}) or {}
            failures = [failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])]
            delivered += len(batch)
            if failures:  # Lambda retries from the lowest failed sequence number
                first = min(failures, key=int)
                retry_from = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == first)
                self.pending[shard_id] = batch[retry_from:] + pending[STREAM_BATCH:]
            else:
                self.pending[shard_id] = pending[STREAM_BATCH:]
        return delivered


class QueueSource:
    """One SQS queue, as Lambda's SQS event source reads it."""

    def __init__(self, sqs: Any, queue_url: str, queue_arn: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn

    def deliver(self, invoke: Invoke, batch: int = QUEUE_BATCH) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=batch, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return 0
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
        answer = invoke({"Records": records}) or {}
        failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def event_sources(
    *, dynamodb_endpoint: str | None, table_name: str, queue_url: str, region: str = "us-east-1"
) -> tuple[StreamSource, QueueSource]:
    dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=region)
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint, region_name=region)
    sqs = boto3.client("sqs", endpoint_url=dynamodb_endpoint, region_name=region)
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return StreamSource(streams, stream_arn, (dynamodb, table_name)), QueueSource(sqs, queue_url, queue_arn)


def stream_source(*, dynamodb_endpoint: str | None, table_name: str, region: str = "us-east-1") -> StreamSource:
    """Another reader of the table's stream, from its start."""
    dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=region)
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint, region_name=region)
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    return StreamSource(streams, stream_arn, (dynamodb, table_name))


def queue_source(endpoint: str | None, queue_url: str, region: str = "us-east-1") -> QueueSource:
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueueSource(sqs, queue_url, queue_arn)


def lambda_invoker(
    lambda_endpoint: str, function_name: str, region: str = "us-east-1", read_timeout: int = 330
) -> Invoke:
    """Invoke `function_name` on a Lambda endpoint (`sam local start-lambda`); wait for
    its answer up to `read_timeout` seconds (beyond the function's own timeout)."""
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url=lambda_endpoint,
        region_name=region,
        config=Config(read_timeout=read_timeout, retries={"max_attempts": 1}),
    )

    def invoke(event: dict[str, Any]) -> dict[str, Any] | None:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            print(f"[poller] {function_name} failed: {str(payload)[:500]}", file=sys.stderr, flush=True)
            # A function error fails the whole batch, as with Lambda: report every record.
            return {"batchItemFailures": [{"itemIdentifier": _identifier(r)} for r in event.get("Records", [])]}
        return payload if isinstance(payload, dict) else None

    return invoke


def _identifier(record: dict[str, Any]) -> str:
    return str(record["messageId"]) if "messageId" in record else str(record["dynamodb"]["SequenceNumber"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dynamodb", required=True, help="moto server (DynamoDB, its streams and SQS)")
    parser.add_argument("--lambda", dest="lambda_endpoint", required=True, help="sam local start-lambda")
    parser.add_argument("--table", required=True)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--function", default="SealLogFunction", help="the sealer: the stream and the queue")
    parser.add_argument("--indexer", default="IndexEventsFunction", help="the stream's second reader ('' for none)")
    parser.add_argument("--export-queue-url", default="", help="the export worker's queue ('' for none)")
    parser.add_argument("--exporter", default="ExportWorkerFunction", help="the export worker")
    parser.add_argument("--ledger-table", default="", help="the ledger table, whose stream wakes log streams")
    parser.add_argument("--dispatcher", default="StreamDispatchFunction", help="the log streams' dispatcher")
    parser.add_argument("--stream-queue-url", default="", help="the log streams' delivery queue ('' for none)")
    parser.add_argument("--deliverer", default="StreamDeliveryFunction", help="the log streams' delivery")
    parser.add_argument("--idle-wait", type=float, default=0.5, help="seconds between rounds with nothing to do")
    args = parser.parse_args()
    invoke = lambda_invoker(args.lambda_endpoint, args.function)
    index = lambda_invoker(args.lambda_endpoint, args.indexer) if args.indexer else None
    export = lambda_invoker(args.lambda_endpoint, args.exporter, read_timeout=960) if args.export_queue_url else None
    dispatch = lambda_invoker(args.lambda_endpoint, args.dispatcher) if args.ledger_table else None
    deliver = lambda_invoker(args.lambda_endpoint, args.deliverer) if args.stream_queue_url else None
    sources: tuple[StreamSource, QueueSource, StreamSource | None] | None = None
    exports: QueueSource | None = None
    ledger: StreamSource | None = None
    deliveries: QueueSource | None = None
    last_look = time.monotonic()
    while True:
        try:
            if sources is not None and time.monotonic() - last_look > REPLACED_LOOK_SECONDS:
                last_look = time.monotonic()
                readers = [*sources, ledger]
                if any(reader.replaced() for reader in readers if isinstance(reader, StreamSource)):
                    print("[poller] a table was made anew; reading its new stream", file=sys.stderr, flush=True)
                    sources = None
            if sources is None:
                stream, queue = event_sources(
                    dynamodb_endpoint=args.dynamodb, table_name=args.table, queue_url=args.queue_url
                )
                second = stream_source(dynamodb_endpoint=args.dynamodb, table_name=args.table) if index else None
                sources = stream, queue, second
                exports = queue_source(args.dynamodb, args.export_queue_url) if export else None
                ledger = (
                    stream_source(dynamodb_endpoint=args.dynamodb, table_name=args.ledger_table) if dispatch else None
                )
                deliveries = queue_source(args.dynamodb, args.stream_queue_url) if deliver else None
            stream, queue, second = sources
            busy = stream.deliver(invoke) + queue.deliver(invoke)
            if second is not None and index is not None:
                busy += second.deliver(index)
            if exports is not None and export is not None:  # one step per invocation, as BatchSize 1
                busy += exports.deliver(export, batch=1)
            if ledger is not None and dispatch is not None:
                busy += ledger.deliver(dispatch)
            if deliveries is not None and deliver is not None:  # one stream per invocation, as BatchSize 1
                busy += deliveries.deliver(deliver, batch=1)
        except (ClientError, BotoCoreError) as error:
            # A table made anew (the e2e fuzz empties it) has a new stream: find it again.
            print(f"[poller] {type(error).__name__}: {error}; starting over", file=sys.stderr, flush=True)
            sources, busy = None, 0
            time.sleep(1)
        if not busy:
            time.sleep(args.idle_wait)


if __name__ == "__main__":
    main()
