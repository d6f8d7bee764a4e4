"""Log streams: the routes, the dispatcher that follows the sealed ledger, delivery to
each destination (webhook, Splunk HEC, Datadog, S3) with retries, pause and resume, and
the address checks that keep customer URLs out of our network — with moto's DynamoDB,
KMS, SQS, STS and S3 and real HTTP receivers on 127.0.0.1."""

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import urllib3.util.connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from audit_log.event_rules import EventIn
from audit_log.ledger import storage as ledger_storage
from audit_log.recording import record_events
from audit_log.streams import delivery, transport
from audit_log.streams.transport import Answer
from audit_log.timestamps import format_utc_ms
from devtools.functions import load_function
from devtools.stream_poller import QueueSource, stream_source
from tests.conftest import TEST_ENV, Sealer, all_items, drain

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_sqs = boto3.client("sqs")
_s3 = boto3.client("s3")


def seed(count: int, org: str = "org_a", start: int = 0, event_type: str | None = None) -> None:
    models = [
        EventIn.model_validate(
            {
                "org_id": org,
                "event_type": event_type or ("user.login" if i % 2 else "member.invited"),
                "actor": {"id": f"usr_{i % 3}", "name": f"User {i % 3}"},
                "occurred_at": format_utc_ms(T0 + timedelta(minutes=i)),
                "details": {"n": i},
            }
        )
        for i in range(start, start + count)
    ]
    for first in range(0, len(models), 25):
        record_events(
            [(m, None) for m in models[first : first + 25]], table_name=TEST_ENV["TABLE_NAME"], retention_days=0
        )


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every request and answers `status`
    (after failing the first `fail` requests with 503)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = 0
        self.status = 200
        self.redirect_to: str | None = None
        self.hold: threading.Event | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.hold is not None:
                    receiver.hold.wait(60)
                if receiver.fail > 0:
                    receiver.fail -= 1
                    status = 503
                elif receiver.redirect_to:
                    status = 302
                else:
                    status = receiver.status
                self.send_response(status)
                if status == 302 and receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


class Clock:
    """Delivery's time, moved on by the tests (and by each retry's delay), never slept."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


class DeliveryContext:
    function_name = "audit-log-stream-delivery"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:audit-log-stream-delivery"
    aws_request_id = "00000000-0000-4000-8000-00000000d0d0"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class Pipeline:
    """Recording to delivery as in AWS: the sealer, the dispatcher on the ledger table's
    stream, and stream_delivery on its queue (one message per invocation). Retry delays
    move the clock instead of passing."""

    def __init__(self, sealer: Sealer, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
        self.sealer = sealer
        self.clock = Clock()
        dispatch = load_function("stream_dispatch")
        deliver = load_function("stream_delivery")
        monkeypatch.setattr(deliver, "time", self.clock)
        self.delays: dict[str, int] = {}
        self.sent: list[int] = []
        real_send = delivery.send

        def send(queue_url: str, message: delivery.DeliveryMessage, delay_seconds: int = 0) -> None:
            self.delays[message.wake] = delay_seconds
            self.sent.append(delay_seconds)
            real_send(queue_url, message, 0)

        monkeypatch.setattr(delivery, "send", send)
        self.ledger = stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["LEDGER_TABLE_NAME"])
        queue_url = TEST_ENV_QUEUE()
        arn = _sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queue = QueueSource(_sqs, queue_url, arn)
        self.dispatch: Callable[[dict[str, Any]], dict[str, Any]] = lambda event: dispatch.lambda_handler(
            event, lambda_context
        )
        context = DeliveryContext()
        self.invocations = 0

        def invoke(event: dict[str, Any]) -> Any:
            self.invocations += 1
            for record in event["Records"]:
                wake = json.loads(record["body"]).get("wake")
                self.clock.now += self.delays.pop(wake, 0)
            return deliver.lambda_handler(event, context)

        self.deliver = invoke

    def step(self) -> int:
        return self.sealer.run() + self.ledger.deliver(self.dispatch) + self.queue.deliver(self.deliver, batch=1)

    def run(self, rounds: int = 400) -> int:
        return drain(self.step, rounds, "the stream pipeline")


def TEST_ENV_QUEUE() -> str:
    import os

    return os.environ["STREAM_QUEUE_URL"]


@pytest.fixture
def pipeline(streams_resources: Any, sealer: Sealer, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Pipeline:
    return Pipeline(sealer, monkeypatch, lambda_context)


def served_events(get: Any, org: str = "org_a") -> list[dict[str, Any]]:
    """Every event as GET /events serves it (without signals, which streams leave out),
    in ledger order: the order the ledger's leaves name them."""
    events: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        answer = get({"limit": "100", **({"cursor": cursor} if cursor else {})}, org=org)
        events |= {e["event_id"]: {k: v for k, v in e.items() if k != "signals"} for e in answer.body["events"]}
        cursor = answer.body.get("next_cursor")
        if not cursor:
            break
    leaves = ledger_storage.leaf_events(TEST_ENV["LEDGER_TABLE_NAME"], org, 0, 10**6)
    assert len(leaves) == len(events)
    return [events[key.rsplit("#", 1)[1]] for _, key in leaves]


def test_a_webhook_stream_delivers_every_event_in_ledger_order_signed(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, get: Any
) -> None:
    seed(30)
    pipeline.run()
    created = streams_api("POST", "/streams", {"type": "webhook", "url": receiver.url + "/hook", "start_leaf": 0})
    assert created.status == 201, created.body
    secret = created.body["secret"]
    assert secret.startswith("whsec_")
    pipeline.run()
    # The 30 events, then the stream's own log_stream.created: all of the ledger from leaf 0.
    expected = served_events(get)
    assert [e["event_type"] for e in expected[-1:]] == ["log_stream.created"]
    delivered = []
    for request in receiver.requests:
        assert request["path"] == "/hook"
        body = Webhook(secret).verify(request["body"], request["headers"])  # the specification's own verifier
        assert body["type"] == "audit_log.event"
        assert request["headers"]["webhook-id"] == body["data"]["event_id"]
        delivered.append(body["data"])
    assert delivered == expected
    shown = streams_api("GET", f"/streams/{created.body['stream_id']}")
    assert shown.body["delivered_up_to"] == 31 and shown.body["lag_events"] == 0 and shown.body["state"] == "active"
    assert shown.body["last_delivery_at"] is not None and shown.body["consecutive_failures"] == 0
    assert "secret" not in shown.body and secret not in json.dumps(streams_api("GET", "/streams").body)


def create(streams_api: Any, body: dict[str, Any], org: str = "org_a") -> dict[str, Any]:
    answer = streams_api("POST", "/streams", body, org=org)
    assert answer.status == 201, answer.body
    assert answer.headers["Location"] == f"/streams/{answer.body['stream_id']}"
    return dict(answer.body)


def delivered_events(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Each event the receiver accepted (a 2xx), verified, in arrival order (repeats kept)."""
    found = []
    for request in receiver.requests:
        headers = request["headers"]
        # The library's own signing: verify() would also refuse a timestamp the test clock moved on.
        sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        expected = Webhook(secret).sign(headers["webhook-id"], sent_at, request["body"].decode())
        assert headers["webhook-signature"] == expected
        body = json.loads(request["body"])
        if body["type"] == "audit_log.event":
            found.append(body["data"])
    return found


def test_a_new_stream_carries_what_is_recorded_from_then_on(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver
) -> None:
    seed(10)
    pipeline.run()
    created = create(streams_api, {"type": "webhook", "url": receiver.url})
    assert created["start_leaf"] == 10 and created["delivered_up_to"] == 10 and created["lag_events"] == 0
    seed(4, start=10)
    pipeline.run()
    got = delivered_events(receiver, created["secret"])
    # log_stream.created (leaf 10), then the four new events; nothing from before.
    assert got[0]["event_type"] == "log_stream.created"
    assert [e["details"]["n"] for e in got[1:]] == [10, 11, 12, 13]


def test_event_types_deliver_only_those_and_still_move_past_the_rest(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver
) -> None:
    seed(12)
    pipeline.run()
    created = create(
        streams_api, {"type": "webhook", "url": receiver.url, "event_types": ["user.login"], "start_leaf": 0}
    )
    pipeline.run()
    got = delivered_events(receiver, created["secret"])
    assert [e["details"]["n"] for e in got] == [1, 3, 5, 7, 9, 11]
    shown = streams_api("GET", f"/streams/{created['stream_id']}").body
    assert shown["delivered_up_to"] == 13 and shown["lag_events"] == 0 and shown["event_types"] == ["user.login"]


def test_a_receiver_failing_for_a_while_gets_every_event_in_ledger_order(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, get: Any
) -> None:
    seed(40)
    pipeline.run()
    receiver.fail = 7
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    for _ in range(3):  # the first attempts fail: the stream shows it
        pipeline.queue.deliver(pipeline.deliver, batch=1)
    failing = streams_api("GET", f"/streams/{created['stream_id']}").body
    assert failing["state"] == "failing" and failing["consecutive_failures"] == 3
    assert "503" in failing["last_error"] and failing["lag_events"] > 0
    pipeline.run()
    accepted = [r for r in receiver.requests if r is not None]
    assert len(accepted) == 41 + 7
    firsts: dict[str, dict[str, Any]] = {}
    for event in delivered_events(receiver, created["secret"]):
        firsts.setdefault(event["event_id"], event)
    assert list(firsts.values()) == served_events(get)  # none missing, in ledger order
    recovered = streams_api("GET", f"/streams/{created['stream_id']}").body
    assert recovered["state"] == "active" and recovered["consecutive_failures"] == 0 and recovered["lag_events"] == 0
    # Retries were spaced out, growing, with jitter; never longer than SQS allows.
    retries = [d for d in pipeline.sent if d > 0]
    assert (len(retries) == 7 and retries == sorted(retries)) or len(set(retries)) > 1
    assert all(1 <= d <= delivery.MAX_DELAY_SECONDS for d in retries)


def log_events(get: Any, event_type: str, org: str = "org_a") -> list[dict[str, Any]]:
    return list(get({"event_type": event_type}, org=org).body["events"])


@pytest.mark.long
def test_failing_for_24_hours_pauses_the_stream_and_resume_goes_on_from_the_first_undelivered_event(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, get: Any
) -> None:
    seed(5)
    pipeline.run()
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    pipeline.run()
    assert streams_api("GET", f"/streams/{created['stream_id']}").body["delivered_up_to"] == 6
    receiver.status = 500  # from now on every message fails
    started = pipeline.clock.now
    seed(3, start=5)
    pipeline.run()  # retries, each after its delay (the clock moves, nothing sleeps), until paused
    paused = streams_api("GET", f"/streams/{created['stream_id']}").body
    assert paused["state"] == "paused" and paused["paused_at"] is not None
    # Behind by the 3 events and the log_stream.paused event itself.
    assert paused["delivered_up_to"] == 6 and paused["lag_events"] == 4 and "500" in paused["last_error"]
    assert pipeline.clock.now - started >= delivery.RETRY_WINDOW.total_seconds()
    assert pipeline.clock.now - started < delivery.RETRY_WINDOW.total_seconds() + 2 * delivery.MAX_DELAY_SECONDS
    (pause,) = log_events(get, "log_stream.paused")
    assert pause["actor"] == {"id": "audit-log", "type": "system", "name": "Audit Log", "email": None}
    assert pause["targets"] == [{"type": "log_stream", "id": created["stream_id"], "name": None}]
    assert pause["details"]["delivered_up_to"] == 6
    # Paused: new leaves wake nothing.
    before = len(receiver.requests)
    seed(1, start=8)
    pipeline.run()
    assert len(receiver.requests) == before
    receiver.status = 200
    resumed = streams_api("POST", f"/streams/{created['stream_id']}/resume")
    assert resumed.status == 200 and resumed.body["state"] == "active", resumed.body
    assert streams_api("POST", f"/streams/{created['stream_id']}/resume").status == 409
    pipeline.run()
    got = delivered_events(receiver, created["secret"])
    firsts = list({e["event_id"]: e for e in got}.values())
    assert firsts == served_events(get)
    (resume,) = log_events(get, "log_stream.resumed")
    assert resume["actor"]["id"] == "usr_admin" and resume["details"]["state"] == "paused"
    assert streams_api("GET", f"/streams/{created['stream_id']}").body["lag_events"] == 0


def test_a_failing_destination_delays_no_other_stream_or_organisation(
    streams_api: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each stream is its own message: a destination that hangs holds up only its own
    delivery. Two organisations, each with a hanging and a healthy stream: while both
    hanging deliveries are still waiting on their destinations (in other invocations, as
    Lambda runs a queue's messages side by side), the healthy streams are delivered."""
    monkeypatch.setattr(transport, "TIMEOUT_SECONDS", 60.0)  # the hang ends when the test says, not by timeout
    receivers = {name: Receiver() for name in ("a_ok", "a_hang", "b_ok", "b_hang")}
    hold = threading.Event()
    for name in ("a_hang", "b_hang"):
        receivers[name].hold = hold
    try:
        for org in ("org_a", "org_b"):
            seed(5, org=org)
        pipeline.run()
        ids = {}
        for name, found in receivers.items():
            org = "org_a" if name.startswith("a_") else "org_b"
            ids[name] = create(streams_api, {"type": "webhook", "url": found.url, "start_leaf": 0}, org=org)[
                "stream_id"
            ]
        messages = _sqs.receive_message(QueueUrl=TEST_ENV_QUEUE(), MaxNumberOfMessages=10, AttributeNames=["All"])[
            "Messages"
        ]
        messages += _sqs.receive_message(QueueUrl=TEST_ENV_QUEUE(), MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        assert len(messages) == 4
        stream_of = {json.loads(m["Body"])["stream_id"]: m for m in messages}
        hanging = [
            threading.Thread(target=pipeline.deliver, args=({"Records": [_record(stream_of[ids[name]])]},))
            for name in ("a_hang", "b_hang")
        ]
        for thread in hanging:
            thread.start()
        for name in ("a_ok", "b_ok"):
            pipeline.deliver({"Records": [_record(stream_of[ids[name]])]})
            assert len(receivers[name].requests) == 5  # the 5 sealed events (the creations are not sealed yet)
        for name in ("a_ok", "b_ok"):
            org = "org_a" if name.startswith("a_") else "org_b"
            assert streams_api("GET", f"/streams/{ids[name]}", org=org).body["lag_events"] == 0
        assert all(thread.is_alive() for thread in hanging), "the hanging deliveries were still waiting"
        assert {len(receivers[n].requests) for n in ("a_hang", "b_hang")} == {1}
    finally:
        hold.set()
        for found in receivers.values():
            found.close()


def _record(message: Any) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-log-stream-deliveries",
        "awsRegion": "us-east-1",
    }


def test_splunk_hec_gets_batches_of_hec_events_with_its_token(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, get: Any
) -> None:
    seed(12)
    pipeline.run()
    token = "5f1d0c4e-hec-token-secret"
    created = create(streams_api, {"type": "splunk_hec", "url": receiver.url, "token": token, "start_leaf": 0})
    assert "token" not in created and created["secret"] is None and created["url"] == receiver.url
    pipeline.run()
    assert len(receiver.requests) == 1  # one batch: 13 events in one request
    (request,) = receiver.requests
    assert request["path"] == "/services/collector/event"  # HEC's endpoint, given a bare URL
    assert request["headers"]["Authorization"] == f"Splunk {token}"
    assert request["headers"]["Content-Type"] == "application/json"
    decoder, text, at_, sent = json.JSONDecoder(), request["body"].decode(), 0, []
    while at_ < len(text):  # HEC's batch format: event objects one after another
        found, at_ = decoder.raw_decode(text, at_)
        sent.append(found)
        at_ = len(text) - len(text[at_:].lstrip())
    expected = served_events(get)
    assert [s["event"] for s in sent] == expected
    for hec, event in zip(sent, expected, strict=True):
        assert set(hec) == {"time", "host", "source", "sourcetype", "event"}
        assert hec["sourcetype"] == "_json" and hec["source"] == "audit-log" and hec["host"] == "org_a"
        occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
        assert hec["time"] == round(occurred.timestamp(), 3)


def test_a_splunk_url_with_a_path_is_used_as_given(streams_api: Any, pipeline: Pipeline, receiver: Receiver) -> None:
    created = create(streams_api, {"type": "splunk_hec", "url": receiver.url + "/services/collector", "token": "t"})
    answer = streams_api("POST", f"/streams/{created['stream_id']}/test")
    assert answer.status == 200 and answer.body["delivered"] is True and answer.body["status_code"] == 200
    assert receiver.requests[-1]["path"] == "/services/collector"


def test_datadog_gets_its_logs_intake_shape_at_the_chosen_site(
    streams_api: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, get: Any
) -> None:
    """Datadog's intake is on the internet, which tests do not reach: its host resolves
    here to a public address (example.com's, never connected to), and what is sent is captured."""
    sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        assert host == "http-intake.logs.datadoghq.eu" and port == 443
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.10", 443))]

    def post(self: Any, body: bytes, headers: dict[str, str], path: str | None = None) -> Answer:
        sent.append((self.target.address, self.target.host + self.target.path, headers, body))
        return Answer(202, "{}")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(transport.Connection, "post", post)
    seed(7)
    pipeline.run()
    created = create(
        streams_api, {"type": "datadog", "site": "datadoghq.eu", "api_key": "dd-api-key-secret", "start_leaf": 0}
    )
    assert "api_key" not in created and created["site"] == "datadoghq.eu"
    pipeline.run()
    assert sent, streams_api("GET", f"/streams/{created['stream_id']}").body["last_error"]
    (address, url, headers, body) = sent[0]
    assert address == "93.184.215.10" and url == "http-intake.logs.datadoghq.eu/api/v2/logs"
    assert headers["DD-API-KEY"] == "dd-api-key-secret" and headers["Content-Type"] == "application/json"
    logs = json.loads(body)
    expected = served_events(get)
    assert [json.loads(log["message"]) for log in logs] == expected
    for log, event in zip(logs, expected, strict=True):
        assert log["ddsource"] == "audit-log" and log["service"] == "audit-log" and log["hostname"] == "org_a"
        assert log["ddtags"] == f"org_id:org_a,event_type:{event['event_type']}"


def test_an_s3_stream_writes_gzip_ndjson_per_hour_with_the_customers_role(
    streams_api: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, get: Any
) -> None:
    from audit_log import aws_clients

    _s3.create_bucket(Bucket="acme-siem")
    assumed: list[dict[str, Any]] = []
    real_sts = aws_clients.sts()

    class Sts:
        def assume_role(self, **kwargs: Any) -> Any:
            assumed.append(kwargs)
            return real_sts.assume_role(**kwargs)

    monkeypatch.setattr(aws_clients, "sts", lambda: Sts())
    role = "arn:aws:iam::123456789012:role/audit-log-delivery"
    seed(10)
    pipeline.run()
    created = create(
        streams_api, {"type": "s3", "bucket": "acme-siem", "prefix": "audit/", "role_arn": role, "start_leaf": 0}
    )
    assert (created["bucket"], created["prefix"], created["role_arn"]) == ("acme-siem", "audit/", role)
    pipeline.run()
    assert assumed and all(call["RoleArn"] == role and call["ExternalId"] == "org_a" for call in assumed)
    keys = sorted(o["Key"] for o in _s3.list_objects_v2(Bucket="acme-siem")["Contents"])
    written: list[dict[str, Any]] = []
    for key in keys:
        obj = _s3.get_object(Bucket="acme-siem", Key=key)
        assert obj["ContentEncoding"] == "gzip" and obj["ContentType"] == "application/x-ndjson"
        lines = gzip.decompress(obj["Body"].read()).decode().splitlines()
        events = [json.loads(line) for line in lines]
        hour = events[0]["recorded_at"][:13].replace("-", "/").replace("T", "/")
        assert key.startswith(f"audit/{hour}/") and key.endswith(".ndjson.gz")
        assert all(e["recorded_at"][:13] == events[0]["recorded_at"][:13] for e in events)
        first, last = key.rsplit("/", 1)[1].removesuffix(".ndjson.gz").split("-")
        assert len(first) == len(last) == 20 and int(first) == len(written)  # the leaves it holds
        assert int(last) - int(first) + 1 == len(events)
        written += events
    assert written == served_events(get)


# --- the address checks -------------------------------------------------------------

REFUSED_URLS = [
    ("http://hooks.example.com/", "must be an https:// URL"),
    ("https://127.0.0.1/hook", "not a public address"),
    ("https://localhost/hook", "not a public address"),
    ("https://10.1.2.3/", "not a public address"),
    ("https://172.16.0.1/", "not a public address"),
    ("https://192.168.1.1/", "not a public address"),
    ("https://169.254.169.254/latest/meta-data/", "not a public address"),
    ("https://100.64.0.1/", "not a public address"),
    ("https://0.0.0.0/", "not a public address"),
    ("https://224.0.0.1/", "not a public address"),
    ("https://[::1]/", "not a public address"),
    ("https://[fd00::1]/", "not a public address"),
    ("https://[fd00:ec2::254]/", "not a public address"),
    ("https://[fe80::1]/", "not a public address"),
    ("https://[::ffff:127.0.0.1]/", "not a public address"),
    ("https://[::ffff:169.254.169.254]/", "not a public address"),
    ("https://[64:ff9b::a9fe:a9fe]/", "not a public address"),
    ("https://[2002:a9fe:a9fe::]/", "not a public address"),
    ("https://2130706433/", "four decimal numbers"),
    ("https://0177.0.0.1/", "four decimal numbers"),
    ("https://0x7f.0.0.1/", "four decimal numbers"),
    ("https://0x7f000001/", "four decimal numbers"),
    ("https://127.1/", "four decimal numbers"),
    ("https://017700000001/", "four decimal numbers"),
    ("https://internal.example.com/", "resolves to 10.0.0.8, which is not a public address"),
    ("https://mixed.example.com/", "resolves to 127.0.0.1, which is not a public address"),
    ("https://user:pass@hooks.example.com/", "user name or password"),
    ("https://hooks.example.com:0/", "port 0"),
    ("https://nowhere.example.com/", "does not resolve"),
    ("ftp://hooks.example.com/", "https://"),
    ("https:///nohost", "must name a host"),
    ("https://hooks.example.com/a b", "spaces or control characters"),
]
DNS = {
    "hooks.example.com": ["93.184.215.5"],
    "internal.example.com": ["10.0.0.8"],
    "mixed.example.com": ["93.184.215.6", "127.0.0.1"],  # one bad answer is enough to refuse
    "localhost": ["127.0.0.1"],
}


@pytest.fixture
def public_only(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """ALLOW_PRIVATE_DESTINATIONS off, and a DNS that answers from `DNS` (tests may add)."""
    monkeypatch.setenv("ALLOW_PRIVATE_DESTINATIONS", "false")
    answers = {name: list(addresses) for name, addresses in DNS.items()}
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        try:
            return real(host, port, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_a_destination_that_is_not_public_https_is_refused(
    streams_api: Any, public_only: Any, url: str, reason: str
) -> None:
    for body in ({"type": "webhook", "url": url}, {"type": "splunk_hec", "url": url, "token": "t"}):
        answer = streams_api("POST", "/streams", body)
        assert answer.status == 422, answer.body
        (error,) = answer.body["errors"]
        assert error["field"] == "url" and reason in error["message"], error
    assert streams_api("GET", "/streams").body == {"streams": []}  # nothing written


def test_the_connection_goes_to_the_address_that_was_checked(
    streams_api: Any, pipeline: Pipeline, public_only: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a public address to the check, then a private one.
    The connection is made to the checked address (the name goes only into TLS and Host)."""
    connected: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        connected.append(address)
        raise ConnectionRefusedError("refused (test)")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    monkeypatch.setattr("urllib3.connection.connection.create_connection", create_connection)
    public_only["rebind.example.com"] = ["93.184.215.7"]
    created = create(streams_api, {"type": "webhook", "url": "https://rebind.example.com/hook"})
    calls = 0
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        if host == "rebind.example.com":
            calls += 1
            address = "93.184.215.7" if calls == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    answer = streams_api("POST", f"/streams/{created['stream_id']}/test")
    assert answer.body["delivered"] is False and "refused" in answer.body["error"]
    assert connected == [("93.184.215.7", 443)]
    # The next check (a later delivery) sees the private answer and refuses to connect at all.
    again = streams_api("POST", f"/streams/{created['stream_id']}/test")
    assert again.body["delivered"] is False and "not a public address" in again.body["error"]
    assert connected == [("93.184.215.7", 443)]


def test_a_redirect_is_not_followed(streams_api: Any, pipeline: Pipeline, receiver: Receiver) -> None:
    target = Receiver()
    try:
        receiver.redirect_to = target.url + "/internal"
        seed(2)
        pipeline.run()
        created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
        pipeline.queue.deliver(pipeline.deliver, batch=1)
        shown = streams_api("GET", f"/streams/{created['stream_id']}").body
        assert shown["state"] == "failing" and "redirect" in shown["last_error"] and shown["delivered_up_to"] == 0
        assert target.requests == []
        test = streams_api("POST", f"/streams/{created['stream_id']}/test").body
        assert test["delivered"] is False and test["status_code"] == 302 and target.requests == []
    finally:
        target.close()


def test_an_answer_is_read_only_so_far(streams_api: Any, pipeline: Pipeline) -> None:
    """A destination answering an endless body gets 64 KiB read and 1 KiB shown."""

    class Endless(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        created = create(streams_api, {"type": "webhook", "url": f"http://127.0.0.1:{server.server_address[1]}/"})
        answer = streams_api("POST", f"/streams/{created['stream_id']}/test").body
        assert answer["delivered"] is True and len(answer["response"]) == 1024
    finally:
        server.shutdown()
        server.server_close()


# --- the routes -----------------------------------------------------------------------


def test_creating_a_stream_is_recorded_in_the_log_with_the_admin_as_actor(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, get: Any
) -> None:
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "event_types": ["user.login"]})
    (event,) = log_events(get, "log_stream.created")
    assert event["actor"] == {"id": "usr_admin", "type": "user", "name": "Org Admin", "email": "admin@example.com"}
    assert event["targets"] == [{"type": "log_stream", "id": created["stream_id"], "name": None}]
    assert event["context"] == {"ip_address": "203.0.113.7", "user_agent": "pytest"}
    assert event["details"] == {
        "type": "webhook",
        "destination": {"url": receiver.url},
        "event_types": ["user.login"],
        "start_leaf": 0,
    }
    assert streams_api("DELETE", f"/streams/{created['stream_id']}").status == 204
    (deleted,) = log_events(get, "log_stream.deleted")
    assert deleted["targets"][0]["id"] == created["stream_id"] and deleted["actor"]["id"] == "usr_admin"
    assert streams_api("GET", f"/streams/{created['stream_id']}").status == 404
    assert streams_api("DELETE", f"/streams/{created['stream_id']}").status == 404
    assert len(log_events(get, "log_stream.deleted")) == 1


def test_secrets_are_shown_once_stored_encrypted_and_never_logged(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, capsys: pytest.CaptureFixture[str], get: Any
) -> None:
    seed(3)
    pipeline.run()
    webhook = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    splunk = create(
        streams_api, {"type": "splunk_hec", "url": receiver.url, "token": "hec-token-7c1e", "start_leaf": 0}
    )
    pipeline.run()
    streams_api("POST", f"/streams/{webhook['stream_id']}/test")
    secrets_ = [webhook["secret"], webhook["secret"].removeprefix("whsec_"), "hec-token-7c1e"]
    answers = [
        streams_api("GET", "/streams").body,
        streams_api("GET", f"/streams/{webhook['stream_id']}").body,
        streams_api("GET", f"/streams/{splunk['stream_id']}").body,
        splunk,
        get({}).body,  # the log: log_stream.created's details name the destination, not its secret
    ]
    stored = json.dumps([str(item) for item in all_items(boto3.client("dynamodb"), TEST_ENV["STREAMS_TABLE_NAME"])])
    logs = capsys.readouterr()
    for secret in secrets_:
        for answer in answers:
            assert secret not in json.dumps(answer)
        assert secret not in stored
        assert secret not in logs.out and secret not in logs.err
    assert any(r["headers"].get("Authorization") == "Splunk hec-token-7c1e" for r in receiver.requests)


def test_at_most_five_streams_per_organisation(streams_api: Any, receiver: Receiver) -> None:
    ids = [create(streams_api, {"type": "webhook", "url": receiver.url})["stream_id"] for _ in range(5)]
    sixth = streams_api("POST", "/streams", {"type": "webhook", "url": receiver.url})
    assert sixth.status == 409 and "At most 5" in sixth.body["message"]
    assert len(streams_api("GET", "/streams").body["streams"]) == 5
    assert streams_api("GET", "/streams", org="org_b").body == {"streams": []}
    create(streams_api, {"type": "webhook", "url": receiver.url}, org="org_b")  # another organisation's own five
    assert streams_api("DELETE", f"/streams/{ids[0]}").status == 204
    create(streams_api, {"type": "webhook", "url": receiver.url})
    listed = [s["stream_id"] for s in streams_api("GET", "/streams").body["streams"]]
    assert len(listed) == 5 and listed == sorted(listed, reverse=True)  # newest first


def test_another_organisations_stream_is_not_found(streams_api: Any, receiver: Receiver) -> None:
    created = create(streams_api, {"type": "webhook", "url": receiver.url})
    path = f"/streams/{created['stream_id']}"
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/test"), ("POST", "/resume")):
        answer = streams_api(method, path + suffix, org="org_b")
        assert answer.status == 404 and answer.body["message"] == "No such stream in your organisation"
    for malformed in ("str_nope", "exp_01M8SRQ6RSKEP5S4APDT0VVPJS", "../streams"):
        assert streams_api("GET", f"/streams/{malformed}").status == 404
    assert streams_api("GET", path).status == 200  # still there


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"type": "webhook"}, "url", 422),
        ({"type": "splunk_hec", "url": "http://127.0.0.1:1/"}, "token", 422),
        ({"type": "datadog", "api_key": "k"}, "site", 422),
        ({"type": "datadog", "site": "datadoghq.evil", "api_key": "k"}, "site", 422),
        ({"type": "s3", "bucket": "b-b-b", "role_arn": "arn:aws:iam::12:role/x"}, "role_arn", 422),
        ({"type": "s3", "bucket": "Not_A_Bucket", "role_arn": "arn:aws:iam::123456789012:role/x"}, "bucket", 422),
        ({"type": "s3", "role_arn": "arn:aws:iam::123456789012:role/x"}, "bucket", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "token": "t"}, "token", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "bucket": "abc"}, "bucket", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "start_leaf": 5}, "start_leaf", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "start_leaf": -1}, "start_leaf", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "event_types": []}, "event_types", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "event_types": ["Not A Type"]}, "event_types[0]", 422),
        ({"type": "webhook", "url": "http://127.0.0.1:1/", "org_id": "org_b"}, "org_id", 422),
        ({"type": "kafka", "url": "http://127.0.0.1:1/"}, "type", 422),
        ({"type": "webhook", "url": "x" * 3000}, "url", 422),
    ],
)
def test_bad_stream_bodies_are_refused_and_nothing_is_written(
    streams_api: Any, get: Any, body: dict[str, Any], field: str, status: int
) -> None:
    answer = streams_api("POST", "/streams", body)
    assert answer.status == status, answer.body
    assert field in [error["field"] for error in answer.body["errors"]], answer.body
    assert streams_api("GET", "/streams").body == {"streams": []}
    assert log_events(get, "log_stream.created") == []


def test_malformed_requests_are_400(streams_api: Any) -> None:
    assert streams_api("POST", "/streams", raw_body="{not json").status == 400
    assert streams_api("POST", "/streams", raw_body='["a list"]').status in (400, 422)
    assert streams_api("GET", "/streams", query={"org_id": "org_b"}).status == 400


def test_resuming_an_active_stream_is_409_and_records_nothing(streams_api: Any, receiver: Receiver, get: Any) -> None:
    created = create(streams_api, {"type": "webhook", "url": receiver.url})
    answer = streams_api("POST", f"/streams/{created['stream_id']}/resume")
    assert answer.status == 409 and "nothing to resume" in answer.body["message"]
    assert log_events(get, "log_stream.resumed") == []


def test_a_test_message_says_what_the_destination_answered(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver
) -> None:
    created = create(streams_api, {"type": "webhook", "url": receiver.url + "/x"})
    ok = streams_api("POST", f"/streams/{created['stream_id']}/test").body
    assert ok == {"delivered": True, "status_code": 200, "response": "ok", "error": None}
    request = receiver.requests[-1]
    body = Webhook(created["secret"]).verify(request["body"], request["headers"])
    assert body["type"] == "audit_log.test" and body["data"]["stream_id"] == created["stream_id"]
    receiver.status = 404
    refused = streams_api("POST", f"/streams/{created['stream_id']}/test").body
    assert refused["delivered"] is False and refused["status_code"] == 404 and refused["error"] == "answered 404"
    receiver.close()
    down = streams_api("POST", f"/streams/{created['stream_id']}/test").body
    assert down["delivered"] is False and down["status_code"] is None and "127.0.0.1" in down["error"]
    # A test moves nothing.
    assert streams_api("GET", f"/streams/{created['stream_id']}").body["delivered_up_to"] == created["delivered_up_to"]


# --- the wake: one live delivery per stream, never a leaf left unwoken ----------------


def stream_item(org: str, stream_id: str) -> dict[str, Any]:
    from audit_log.streams import storage

    found = storage.get(TEST_ENV["STREAMS_TABLE_NAME"], org, stream_id)
    assert found is not None
    return found


def test_leaves_sealed_while_a_delivery_runs_are_delivered_by_it(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher cannot wake a stream whose delivery is live; it notes the tree's
    size instead, and the delivery, about to give its wake back, sees it and goes on."""
    seed(5)
    pipeline.run()
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    pipeline.sealer.run()
    pipeline.ledger.deliver(pipeline.dispatch)  # the creation sealed: the stream's wake is live already
    seed(3, start=5)
    pipeline.sealer.run()
    assert pipeline.ledger.deliver(pipeline.dispatch)  # sees size 9; sends nothing (the wake is taken)
    assert stream_item("org_a", created["stream_id"])["wanted"] == 9
    real = ledger_storage.tree_size
    sizes = iter([6])  # the delivery read the size before those three were sealed

    def stale_then_real(table: str, org: str) -> int:
        return next(sizes, None) or real(table, org)

    monkeypatch.setattr(ledger_storage, "tree_size", stale_then_real)
    invocations = pipeline.invocations
    assert pipeline.queue.deliver(pipeline.deliver, batch=1) == 1
    assert pipeline.invocations == invocations + 1
    assert len(receiver.requests) == 9  # one invocation delivered all of it
    item = stream_item("org_a", created["stream_id"])
    assert item["position"] == 9 and "wake" not in item
    assert pipeline.queue.deliver(pipeline.deliver, batch=1) == 0


def test_a_duplicated_delivery_message_delivers_nothing_twice(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver
) -> None:
    seed(4)
    pipeline.run()
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    (message,) = _sqs.receive_message(QueueUrl=TEST_ENV_QUEUE(), AttributeNames=["All"])["Messages"]
    pipeline.deliver({"Records": [_record(message)]})
    pipeline.deliver({"Records": [_record(message)]})  # SQS delivered it again
    assert len(receiver.requests) == 4
    assert stream_item("org_a", created["stream_id"])["position"] == 4


def test_a_wake_whose_message_was_lost_is_taken_over(streams_api: Any, pipeline: Pipeline, receiver: Receiver) -> None:
    from audit_log.streams import storage

    seed(2)
    pipeline.run()
    created = create(streams_api, {"type": "webhook", "url": receiver.url, "start_leaf": 0})
    _sqs.purge_queue(QueueUrl=TEST_ENV_QUEUE())  # the delivery message is lost
    old = int(time.time()) - delivery.STALE_WAKE_SECONDS - 1
    storage.update(
        TEST_ENV["STREAMS_TABLE_NAME"],
        "org_a",
        created["stream_id"],
        set_={"wake_at": old},
        condition="attribute_exists(pk)",
    )
    seed(1, start=2)
    pipeline.run()  # the next sealed leaves take the stale wake over
    assert len(receiver.requests) == 4 and stream_item("org_a", created["stream_id"])["position"] == 4


def test_a_wake_that_cannot_be_sent_is_given_back_and_the_batch_retried(
    streams_api: Any, pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    created = create(streams_api, {"type": "webhook", "url": receiver.url})
    pipeline.run()
    seed(2)
    pipeline.sealer.run()
    real = delivery.send
    failing = iter([True])

    def send(queue_url: str, message: delivery.DeliveryMessage, delay_seconds: int = 0) -> None:
        if next(failing, False):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")
        real(queue_url, message, delay_seconds)

    monkeypatch.setattr(delivery, "send", send)
    answer: dict[str, Any] = pipeline.dispatch({"Records": _ledger_records()})
    assert answer["batchItemFailures"], "the organisation's first record is reported, for Lambda to retry"
    assert "wake" not in stream_item("org_a", created["stream_id"])  # given back, not left to go stale
    pipeline.run()  # Lambda's retry of the batch
    assert stream_item("org_a", created["stream_id"])["position"] == 3  # the creation and the two events


def _ledger_records() -> list[dict[str, Any]]:
    """The ledger stream's records so far, as Lambda would hand them over."""
    source = stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["LEDGER_TABLE_NAME"])
    records: list[dict[str, Any]] = []

    def keep(event: dict[str, Any]) -> dict[str, Any]:
        records.extend(event["Records"])
        return {}

    source.deliver(keep)
    return records


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_fields = st.sampled_from(
    ["type", "url", "token", "site", "api_key", "bucket", "prefix", "role_arn", "event_types", "start_leaf", "x"]
)
_types = st.sampled_from(["webhook", "splunk_hec", "datadog", "s3", "WEBHOOK", ""])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.dictionaries(_fields, _json_values | _types, max_size=6))
def test_generated_stream_bodies_get_a_clear_answer_and_a_refusal_writes_nothing(
    streams_api: Any, public_only: Any, body: dict[str, Any]
) -> None:
    before = streams_api("GET", "/streams").body["streams"]
    answer = streams_api("POST", "/streams", body)
    assert answer.status in (201, 400, 409, 422), answer.body
    after = streams_api("GET", "/streams").body["streams"]
    if answer.status == 201:
        assert len(after) == len(before) + 1
        streams_api("DELETE", f"/streams/{answer.body['stream_id']}")
    else:
        assert after == before and answer.body["message"]
