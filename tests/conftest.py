"""Shared fixtures: a moto DynamoDB built from template.yaml, the functions' handlers,
API Gateway events, and a Lambda context.

moto is imported before any boto3 client exists, so the clients the layer creates once
at import time are served by whichever `mock_aws` is active.
"""

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber
from mypy_boto3_dynamodb import DynamoDBClient

from devtools import moto_transactions
from devtools.functions import LambdaContext, load_function
from devtools.functions import api_event as api_event  # the tests build their API Gateway events with it
from devtools.template import (
    create_checkpoint_bucket,
    create_exports_bucket,
    create_queue,
    create_signing_key,
    create_streams_key,
    create_tables,
)

ROOT = Path(__file__).resolve().parents[1]

# Settings are read when a function module is imported, so the environment comes first.
TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ENDPOINT_URL_DYNAMODB": "",
    "TABLE_NAME": "audit-log-events",
    "LEDGER_TABLE_NAME": "audit-log-ledger",
    "INVESTIGATION_TABLE_NAME": "audit-log-investigation",
    "EXPORTS_TABLE_NAME": "audit-log-exports",
    "EXPORT_BUCKET": "audit-log-exports",
    "EXPORT_RETENTION_DAYS": "7",
    "STREAMS_TABLE_NAME": "audit-log-streams",
    # The unit tier's receivers listen on 127.0.0.1; the address checks are tested with
    # this set to false.
    "ALLOW_PRIVATE_DESTINATIONS": "true",
    "LEDGER_ORIGIN": "audit-log.test/unit",
    "CHECKPOINT_BUCKET": "audit-log-checkpoints",
    "CHECKPOINT_INTERVAL_SECONDS": "0",
    "AWS_ENDPOINT_URL_KMS": "",
    "AWS_ENDPOINT_URL_S3": "",
    "AWS_ENDPOINT_URL_SQS": "",
    "AWS_ENDPOINT_URL_STS": "",
    "CURSOR_SECRET": "test-cursor-secret-0123456789abcdef",
    "RETENTION_DAYS": "0",
    "POWERTOOLS_SERVICE_NAME": "audit-log",
    "POWERTOOLS_METRICS_NAMESPACE": "AuditLog",
    "POWERTOOLS_TRACE_DISABLED": "1",
}
os.environ.update(TEST_ENV)
moto_transactions.install()  # transactions that cost DynamoDB's time, not one table copy per item


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: pytest-xdist hands tests out in this order, and one begun
    last would keep a worker busy minutes after the other ran out of work."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


class FullTimeContext(LambdaContext):
    """A seal_log invocation with its whole 300 s ahead (a reconciliation pass in one go)."""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


_dynamodb = boto3.client("dynamodb")  # once: creating a client costs more than a test
_kms = boto3.client("kms")
_s3 = boto3.client("s3")
_sqs = boto3.client("sqs")


@contextmanager
def fresh_tables() -> Iterator[DynamoDBClient]:
    """A new moto account holding the events table and the investigation table (the log
    serves signals from it) under the names the functions were configured with (the
    ledger's resources come with `ledger_resources`)."""
    with mock_aws():
        create_tables(
            _dynamodb,
            {"EventsTable": TEST_ENV["TABLE_NAME"], "InvestigationTable": TEST_ENV["INVESTIGATION_TABLE_NAME"]},
        )
        yield _dynamodb


@contextmanager
def restored_env(*names: str) -> Iterator[None]:
    """The variables `names` as they were before, whatever the block set them to."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def ledger_resources_in_mock() -> Iterator[None]:
    """The ledger table, checkpoint signing key, bucket and queue, in the active mock. The
    key's ARN and the queue's URL are new each time: SIGNING_KEY_ID and
    CHECKPOINT_QUEUE_URL follow, and are restored afterwards."""
    create_tables(_dynamodb, {"LedgerTable": TEST_ENV["LEDGER_TABLE_NAME"]})
    create_checkpoint_bucket(_s3, TEST_ENV["CHECKPOINT_BUCKET"])
    with restored_env("SIGNING_KEY_ID", "CHECKPOINT_QUEUE_URL"):
        os.environ["SIGNING_KEY_ID"] = create_signing_key(_kms)
        os.environ["CHECKPOINT_QUEUE_URL"] = create_queue(_sqs, "CheckpointQueue", "audit-log-checkpoint-calls")
        yield


@pytest.fixture
def ddb() -> Iterator[DynamoDBClient]:
    with fresh_tables() as client:
        yield client


def all_items(client: DynamoDBClient, table_name: str) -> list[dict[str, Any]]:
    """Every stored item; tests only (the service itself never scans)."""
    return client.scan(TableName=table_name)["Items"]


@dataclass
class HttpAnswer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def post(ddb: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """Call record_event's handler like API Gateway would: `post(path, body, ...)`;
    `container=` picks another copy of the function (for concurrent callers)."""

    def call(path: str, body: Any = None, container: str = "", **kwargs: Any) -> HttpAnswer:
        record_event = load_function("record_event", container)
        response = record_event.lambda_handler(api_event("POST", path, body, **kwargs), lambda_context)
        return HttpAnswer(int(response["statusCode"]), json.loads(response["body"]))

    return call


def stored_events(client: DynamoDBClient) -> list[dict[str, Any]]:
    """Every stored event (idempotency markers left out)."""
    return [item for item in all_items(client, TEST_ENV["TABLE_NAME"]) if item["pk"]["S"].startswith("org#")]


def stored_markers(client: DynamoDBClient) -> list[dict[str, Any]]:
    return [item for item in all_items(client, TEST_ENV["TABLE_NAME"]) if item["pk"]["S"].startswith("idem#")]


def admin_context(org_id: str | None) -> dict[str, str]:
    """requestContext.authorizer as the Lambda authorizer fills it for an ORG Admin."""
    context = {"userId": "usr_admin", "role": "admin", "email": "admin@example.com", "name": "Org Admin"}
    return {**context, "orgId": org_id} if org_id is not None else context


@pytest.fixture
def get(ddb: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """Call query_log's handler like API Gateway would after the authorizer allowed the
    caller: `get({"limit": "5"}, org="org_a")`."""
    query_log = load_function("query_log")

    def call(query: dict[str, str] | None = None, org: str | None = "org_a", **kwargs: Any) -> HttpAnswer:
        kwargs.setdefault("authorizer", admin_context(org))
        event = api_event("GET", "/events", query=query, **kwargs)
        response = query_log.lambda_handler(event, lambda_context)
        return HttpAnswer(int(response["statusCode"]), json.loads(response["body"]))

    return call


@pytest.fixture
def dynamodb_calls() -> Iterator[list[dict[str, Any]]]:
    """Every DynamoDB request the service sends: its operation, and DynamoDB's own
    ScannedCount and Count (None for operations that have none)."""
    from audit_log import events_table

    calls: list[dict[str, Any]] = []

    def record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append(
            {"operation": model.name, "ScannedCount": parsed.get("ScannedCount"), "Count": parsed.get("Count")}
        )

    emitter = events_table.dynamodb_client().meta.events
    emitter.register("after-call.dynamodb", record)
    yield calls
    emitter.unregister("after-call.dynamodb", record)


def one_call_at_a_time(monkeypatch: pytest.MonkeyPatch, handler: type) -> None:
    """Make moto handle one DynamoDB request at a time (through `handler.__call__`: the
    in-process stubber or moto server's WSGI app), as DynamoDB isolates each request.

    moto applies a transaction by copying and restoring whole tables, so two threads inside
    it at once can undo each other's writes, a race DynamoDB itself does not have. Races
    between requests (two retries both finding a key free) stay.
    """
    lock = threading.Lock()
    original = handler.__call__

    def serialised(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(handler, "__call__", serialised)


@pytest.fixture
def one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    one_call_at_a_time(monkeypatch, BotocoreStubber)


def drain(deliver: Any, rounds: int, what: str) -> int:
    """Call `deliver` (one round of an event source) until it delivers nothing; how many
    records it delivered in all."""
    delivered = 0
    for _ in range(rounds):
        done: int = deliver()
        if not done:
            return delivered
        delivered += done
    raise AssertionError(f"{what} was still busy after {rounds} rounds")


@dataclass
class Sealer:
    """The seal_log function fed as Lambda's event sources would feed it (from moto's
    stream and queue): `run()` delivers until nothing is left."""

    stream: Any
    queue: Any
    invoke: Any

    def run(self, rounds: int = 100) -> int:
        return drain(lambda: self.stream.deliver(self.invoke) + self.queue.deliver(self.invoke), rounds, "the sealer")


@dataclass
class Indexer:
    """index_events fed from moto's stream as its event source mapping would feed it (a
    reader of its own): `run()` delivers until nothing is left."""

    stream: Any
    invoke: Any

    def run(self, rounds: int = 100) -> int:
        return drain(lambda: self.stream.deliver(self.invoke), rounds, "the indexer")


@pytest.fixture
def indexer(ddb: DynamoDBClient, lambda_context: LambdaContext) -> Indexer:
    from devtools.stream_poller import stream_source

    index_events = load_function("index_events")
    stream = stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"])
    return Indexer(stream, lambda event: index_events.lambda_handler(event, lambda_context))


def make_sealer(lambda_context: LambdaContext, container: str = "") -> Sealer:
    from devtools.stream_poller import event_sources

    seal_log = load_function("seal_log", container)
    stream, queue = event_sources(
        dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"], queue_url=os.environ["CHECKPOINT_QUEUE_URL"]
    )
    return Sealer(stream, queue, lambda event: seal_log.lambda_handler(event, lambda_context))


@pytest.fixture
def ledger_resources(ddb: DynamoDBClient) -> Iterator[DynamoDBClient]:
    with ledger_resources_in_mock():
        yield ddb


@pytest.fixture
def sealer(ledger_resources: DynamoDBClient, lambda_context: LambdaContext) -> Sealer:
    return make_sealer(lambda_context)


def ledger_event(path: str, query: dict[str, str] | None, **kwargs: Any) -> dict[str, Any]:
    """A GET of one of read_ledger's routes as API Gateway hands it over (the proof route
    with its path parameter)."""
    event = api_event("GET", path, query=query, **kwargs)
    if path.endswith("/proof"):
        event["resource"] = "/events/{event_id}/proof"
        event["pathParameters"] = {"event_id": path.split("/")[2]}
    return event


JsonRoute = Any  # (path, query, headers) -> (status, body as JSON text)


@contextmanager
def serving(answer: JsonRoute) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering every GET with `answer`; its base URL (/v1)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qsl, urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, text = answer(url.path, dict(parse_qsl(url.query)), self.headers)
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def ledger_get(ledger_resources: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """Call read_ledger's handler as an ORG Admin: `ledger_get("/ledger/checkpoint")`."""
    read_ledger = load_function("read_ledger")

    def call(path: str, query: dict[str, str] | None = None, org: str | None = "org_a", **kwargs: Any) -> HttpAnswer:
        kwargs.setdefault("authorizer", admin_context(org))
        response = read_ledger.lambda_handler(ledger_event(path, query, **kwargs), lambda_context)
        headers = {**(response.get("headers") or {})}
        headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
        return HttpAnswer(int(response["statusCode"]), json.loads(response["body"]), headers)

    return call


@contextmanager
def exports_resources_in_mock() -> Iterator[None]:
    """The exports table, bucket (with its key) and work queue in the active mock;
    EXPORT_QUEUE_URL follows the queue made here, and is restored afterwards."""
    create_tables(_dynamodb, {"ExportsTable": TEST_ENV["EXPORTS_TABLE_NAME"]})
    create_exports_bucket(_s3, _kms, TEST_ENV["EXPORT_BUCKET"])
    saved = os.environ.get("EXPORT_QUEUE_URL")
    os.environ["EXPORT_QUEUE_URL"] = create_queue(_sqs, "ExportQueue", "audit-log-export-steps")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("EXPORT_QUEUE_URL", None)
        else:
            os.environ["EXPORT_QUEUE_URL"] = saved


@dataclass
class WorkerContext:
    """An export_worker invocation with `remaining_ms` ahead of it (its timeout is 900 s);
    a test shortens it to stop a step early."""

    function_name: str = "audit-log-export-worker"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:audit-log-export-worker"
    aws_request_id: str = "00000000-0000-4000-8000-00000000e0e0"
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Exporter:
    """export_worker fed from moto's work queue as its SQS event source would feed it
    (one message per invocation): `run()` delivers until the queue is empty."""

    queue: Any
    invoke: Any
    context: WorkerContext

    def run(self, rounds: int = 200) -> int:
        return drain(lambda: self.queue.deliver(self.invoke, batch=1), rounds, "the export worker")


@pytest.fixture
def exports_resources(ledger_resources: DynamoDBClient) -> Iterator[DynamoDBClient]:
    with exports_resources_in_mock():
        yield ledger_resources


@pytest.fixture
def exporter(exports_resources: DynamoDBClient) -> Exporter:
    from devtools.stream_poller import QueueSource

    worker = load_function("export_worker")
    queue_url = os.environ["EXPORT_QUEUE_URL"]
    arn = _sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    context = WorkerContext()
    return Exporter(QueueSource(_sqs, queue_url, arn), lambda event: worker.lambda_handler(event, context), context)


def http_answer(response: dict[str, Any]) -> HttpAnswer:
    """A handler's API Gateway answer: status, JSON body (None when empty, as a 204's) and
    headers, the last value of each multi-value header included."""
    headers = {**(response.get("headers") or {})}
    headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
    body_text = response.get("body")
    return HttpAnswer(int(response["statusCode"]), json.loads(body_text) if body_text else None, headers)


@pytest.fixture
def exports_api(exports_resources: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """Call the exports function as an ORG Admin: `exports_api("POST", "/exports", body)`,
    `exports_api("GET", "/exports/exp_…")`."""
    exports = load_function("exports")

    def call(method: str, path: str, body: Any = None, org: str | None = "org_a", **kwargs: Any) -> HttpAnswer:
        kwargs.setdefault("authorizer", admin_context(org))
        event = api_event(method, path, body, **kwargs)
        if path.startswith("/exports/"):
            event["resource"] = "/exports/{export_id}"
            event["pathParameters"] = {"export_id": path.split("/", 2)[2]}
        return http_answer(exports.lambda_handler(event, lambda_context))

    return call


@contextmanager
def streams_resources_in_mock() -> Iterator[None]:
    """The streams table, its secrets key and the delivery queue in the active mock;
    STREAMS_KEY_ID and STREAM_QUEUE_URL follow, and are restored afterwards."""
    create_tables(_dynamodb, {"StreamsTable": TEST_ENV["STREAMS_TABLE_NAME"]})
    with restored_env("STREAMS_KEY_ID", "STREAM_QUEUE_URL"):
        os.environ["STREAMS_KEY_ID"] = create_streams_key(_kms)
        os.environ["STREAM_QUEUE_URL"] = create_queue(_sqs, "StreamDeliveryQueue", "audit-log-stream-deliveries")
        yield


@pytest.fixture
def streams_resources(ledger_resources: DynamoDBClient) -> Iterator[DynamoDBClient]:
    with streams_resources_in_mock():
        yield ledger_resources


@pytest.fixture
def streams_api(streams_resources: DynamoDBClient, lambda_context: LambdaContext) -> Any:
    """Call the streams function as an ORG Admin: `streams_api("POST", "/streams", body)`,
    `streams_api("POST", "/streams/str_…/resume")`."""
    streams = load_function("streams")

    def call(method: str, path: str, body: Any = None, org: str | None = "org_a", **kwargs: Any) -> HttpAnswer:
        kwargs.setdefault("authorizer", admin_context(org))
        event = api_event(method, path, body, **kwargs)
        parts = path.split("/")
        if len(parts) >= 3:
            event["resource"] = "/streams/{stream_id}" + ("/" + parts[3] if len(parts) > 3 else "")
            event["pathParameters"] = {"stream_id": parts[2]}
        return http_answer(streams.lambda_handler(event, lambda_context))

    return call
