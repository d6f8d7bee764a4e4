"""Log streams: delivery throughput per stream beside a bare sender, end-to-end lag
(recorded → delivered) through the pipeline, and what delivery costs per event
(function invocations, queue messages, DynamoDB calls).

Everything runs in one process on moto in-process, as the unit tier does: the sealer on
the events table's stream, the dispatcher on the ledger table's stream, delivery on its
queue (one message per invocation, as BatchSize 1), each fed by devtools.stream_poller
as Lambda's event sources would, and an HTTP receiver on 127.0.0.1.

- Throughput: a backlog of EVENTS sealed events, one stream from leaf 0, timed from the
  first delivery message until the stream is caught up; beside it, a bare loop doing the
  same job to the same receiver — the same reads (leaves, then events, 100 at a time),
  the same bodies (the webhook's one signed POST per event, Splunk HEC's batches of
  100) over one kept-alive connection — without delivery's bookkeeping. moto's
  BatchGetItem (about a second per 100 items) sets both rates; the ratio compares.
- Lag and cost: a trickle: ROUNDS rounds of TRICKLE events recorded, then the pipeline
  run until delivered (one pass of each event source), each event's lag its arrival at
  the receiver minus its `recorded_at`. The pipeline here has no polling delays: on AWS
  each event source adds its batching window (1 s for the sealer's and the dispatcher's
  streams) and SQS's long poll, which are not this code's.
"""

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.progress import progress

EVENTS = 2_000
TRICKLE = 10
ROUNDS = 30
INVOCATIONS_PER_BATCH_GOAL = 1.0  # at most one invocation per batch of up to 100 events per stream


@dataclass(frozen=True)
class Throughput:
    destination: str
    events: int
    rate: float  # events/s through delivery
    bare_rate: float  # events/s of the bare sender, same bodies, same receiver
    invocations: int
    messages: int
    dynamodb_calls: int


@dataclass(frozen=True)
class Trickle:
    events: int
    rounds: int
    lag_p50_ms: float
    lag_p99_ms: float
    invocations: int
    messages: int
    dispatcher_invocations: int

    @property
    def invocations_per_batch(self) -> float:
        return self.invocations / self.rounds


@dataclass(frozen=True)
class StreamResult:
    throughput: list[Throughput]
    trickle: Trickle


class _Receiver:
    """Answers 200 to every POST and notes when each event arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests += 1
                now = time.time()
                if body.startswith(b'{"type"'):
                    event = json.loads(body)["data"]
                    receiver.arrivals.setdefault(event["event_id"], now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Context:
    function_name = "bench-stream-delivery"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-stream-delivery"
    aws_request_id = "00000000-0000-4000-8000-0000000b0b0b"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class _Pipeline:
    """The sealer, dispatcher and delivery, each fed as its event source would feed it."""

    def __init__(self) -> None:
        import boto3

        from audit_log import events_table
        from audit_log.streams import delivery
        from devtools.functions import LambdaContext, load_function
        from devtools.stream_poller import QueueSource, event_sources, stream_source

        context = LambdaContext()
        seal_log, dispatch, deliver = (load_function(n) for n in ("seal_log", "stream_dispatch", "stream_delivery"))
        self.stream, self.queue = event_sources(
            dynamodb_endpoint=None, table_name=os.environ["TABLE_NAME"], queue_url=os.environ["CHECKPOINT_QUEUE_URL"]
        )
        self.seal = lambda event: seal_log.lambda_handler(event, context)
        self.ledger = stream_source(dynamodb_endpoint=None, table_name=os.environ["LEDGER_TABLE_NAME"])
        self.dispatch_calls = 0

        def dispatch_invoke(event: dict[str, Any]) -> Any:
            self.dispatch_calls += 1
            return dispatch.lambda_handler(event, context)

        self.dispatch = dispatch_invoke
        sqs = boto3.client("sqs")
        url = os.environ["STREAM_QUEUE_URL"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.deliveries = QueueSource(sqs, url, arn)
        self.invocations = 0
        self.messages = 0
        real_send = delivery.send

        def counted_send(queue_url: str, message: Any, delay_seconds: int = 0) -> None:
            self.messages += 1
            real_send(queue_url, message, delay_seconds)

        delivery.send = counted_send
        delivery_context = _Context()

        def deliver_invoke(event: dict[str, Any]) -> Any:
            self.invocations += 1
            return deliver.lambda_handler(event, delivery_context)

        self.deliver = deliver_invoke
        self.calls = 0

        def count(**_: Any) -> None:
            self.calls += 1

        self.client = events_table.dynamodb_client()
        self.counter = count

    def seal_all(self) -> None:
        while self.stream.deliver(self.seal) + self.queue.deliver(self.seal):
            pass

    def dispatch_all(self) -> None:
        while self.ledger.deliver(self.dispatch):
            pass

    def deliver_all(self) -> None:
        while self.deliveries.deliver(self.deliver, batch=1):
            pass

    def counting(self, on: bool) -> None:
        method = self.client.meta.events.register if on else self.client.meta.events.unregister
        method("before-call.dynamodb", self.counter)


def _resources() -> None:
    import boto3

    from devtools.template import create_checkpoint_bucket, create_queue, create_signing_key, create_streams_key

    os.environ.update(
        {
            "CHECKPOINT_BUCKET": "bench-checkpoints",
            "CHECKPOINT_INTERVAL_SECONDS": "0",
            "LEDGER_ORIGIN": "audit-log.bench/streams",
            "ALLOW_PRIVATE_DESTINATIONS": "true",
        }
    )
    create_checkpoint_bucket(boto3.client("s3"), os.environ["CHECKPOINT_BUCKET"])
    os.environ["SIGNING_KEY_ID"] = create_signing_key(boto3.client("kms"))
    os.environ["CHECKPOINT_QUEUE_URL"] = create_queue(boto3.client("sqs"), "CheckpointQueue", "bench-checkpoint-calls")
    os.environ["STREAMS_KEY_ID"] = create_streams_key(boto3.client("kms"))
    os.environ["STREAM_QUEUE_URL"] = create_queue(boto3.client("sqs"), "StreamDeliveryQueue", "bench-deliveries")


def _record(org: str, first: int, count: int) -> None:
    from audit_log.event_rules import EventIn
    from audit_log.recording import record_events

    models = [
        EventIn.model_validate(
            {"org_id": org, "event_type": "user.login", "actor": {"id": f"usr_{n % 7}"}, "details": {"n": n}}
        )
        for n in range(first, first + count)
    ]
    for start in range(0, len(models), 25):
        record_events(
            [(m, None) for m in models[start : start + 25]], table_name=os.environ["TABLE_NAME"], retention_days=0
        )


def _create_stream(org: str, body: dict[str, Any]) -> dict[str, Any]:
    from audit_log.own_use import Requester
    from audit_log.settings import current
    from audit_log.settings.streams import StreamSettings
    from audit_log.streams.models import StreamIn
    from audit_log.streams.service import create_stream

    requester = Requester(org, "usr_bench", None, None, None, None)
    return create_stream(requester, StreamIn.model_validate(body), current(StreamSettings)).model_dump()


def _bare(receiver: _Receiver, destination: str, org: str, count: int, secret: str) -> float:
    """The bare sender's events/s: the same reads (the leaves, then their events, 100 at a
    time), the same bodies and the same requests over one kept-alive connection, without
    delivery's bookkeeping (claim, tree size, position, wake)."""
    from datetime import UTC, datetime

    from urllib3 import HTTPConnectionPool

    from audit_log.events_table import event_keys, get_items, org_pk
    from audit_log.ledger import storage as ledger_storage
    from audit_log.querying import event_out
    from audit_log.streams import splunk_hec, webhook

    pool = HTTPConnectionPool("127.0.0.1", receiver.server.server_address[1], maxsize=1)
    started = time.perf_counter()
    for first in range(0, count, 100):
        leaves = ledger_storage.leaf_events(os.environ["LEDGER_TABLE_NAME"], org, first, min(count, first + 100))
        items = get_items(os.environ["TABLE_NAME"], event_keys(org, [key for _, key in leaves]))
        events = [
            event_out(items[(org_pk(org), key)]).model_dump(mode="json", exclude={"signals"}) for _, key in leaves
        ]
        if destination == "webhook":
            now = datetime.now(UTC)
            for event in events:
                text = webhook.message(webhook.EVENT_TYPE, event["recorded_at"], event)
                headers = webhook.signed_headers(secret, event["event_id"], text, now)
                pool.urlopen("POST", "/", body=text.encode(), headers=headers, retries=False).read()
        else:
            text = "\n".join(
                json.dumps({"time": 0, "host": org, "source": "audit-log", "sourcetype": "_json", "event": e})
                for e in events
            )
            headers = {"Authorization": "Splunk bench-token", "Content-Type": "application/json"}
            pool.urlopen("POST", splunk_hec.COLLECTOR_PATH, body=text.encode(), headers=headers, retries=False).read()
    pool.close()
    return count / (time.perf_counter() - started)


def _throughput(destination: str, count: int) -> Throughput:
    from bench.tables import in_process_tables

    with in_process_tables():
        _resources()
        pipeline = _Pipeline()
        org = f"org_{destination}"
        progress(f"streams: {count:,} sealed events to a {destination} stream")
        _record(org, 0, count)
        pipeline.seal_all()
        receiver = _Receiver()
        try:
            body: dict[str, Any] = {"type": destination, "url": receiver.url, "start_leaf": 0}
            if destination == "splunk_hec":
                body["token"] = "bench-token"
            created = _create_stream(org, body)
            pipeline.counting(True)
            started = time.perf_counter()
            pipeline.deliver_all()
            seconds = time.perf_counter() - started
            pipeline.counting(False)
            bare = _bare(receiver, destination, org, count, created["secret"] or "")
            return Throughput(
                destination, count, count / seconds, bare, pipeline.invocations, pipeline.messages, pipeline.calls
            )
        finally:
            receiver.close()


def _trickle(rounds: int) -> Trickle:
    from audit_log import events_table
    from audit_log.timestamps import parse_rfc3339
    from bench.tables import in_process_tables

    with in_process_tables():
        _resources()
        pipeline = _Pipeline()
        receiver = _Receiver()
        org = "org_trickle"
        try:
            _create_stream(org, {"type": "webhook", "url": receiver.url})
            pipeline.seal_all()
            pipeline.dispatch_all()
            pipeline.deliver_all()
            pipeline.invocations = pipeline.messages = pipeline.dispatch_calls = 0
            progress(f"streams: lag over {rounds} rounds of {TRICKLE} events")
            for round_ in range(rounds):
                _record(org, round_ * TRICKLE, TRICKLE)
                pipeline.seal_all()
                pipeline.dispatch_all()
                pipeline.deliver_all()
            answer = events_table.dynamodb_client().query(
                TableName=os.environ["TABLE_NAME"],
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": f"org#{org}"}},
            )
            lags = sorted(
                (receiver.arrivals[item["event_id"]["S"]] - parse_rfc3339(item["recorded_at"]["S"]).timestamp()) * 1000
                for item in answer["Items"]
                if item["event_type"]["S"] == "user.login" and item["event_id"]["S"] in receiver.arrivals
            )
        finally:
            receiver.close()
    return Trickle(
        events=len(lags),
        rounds=rounds,
        lag_p50_ms=statistics.median(lags),
        lag_p99_ms=lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        invocations=pipeline.invocations,
        messages=pipeline.messages,
        dispatcher_invocations=pipeline.dispatch_calls,
    )


def measure(*, quick: bool = False) -> StreamResult:
    count = 300 if quick else EVENTS
    throughput = [_throughput(destination, count) for destination in ("webhook", "splunk_hec")]
    return StreamResult(throughput, _trickle(5 if quick else ROUNDS))
