"""The client for platform backends (audit_log_client), three figures:

1. Overhead of `AuditLog.record` over a bare signed request: both POST the same event
   to the same local HTTP server (which answers 201 at once, so the server costs both
   sides alike and little), over one kept-alive httpx connection each. The bare side is
   botocore's SigV4Auth on a JSON body built once, then httpx; ours adds the event's
   check by the service's rules, its key, the body, and the call's flow. The two sides
   alternate in blocks, in random order; medians per call.
2. Batch throughput through the background recorder: events/s from the first `add` to
   the last one recorded, into the real record handler on a moto server (the template's
   tables) behind devtools.sigv4_gateway, which checks every signature; beside it the
   same events sent one `record` call each. Both pay moto's transaction and the handler;
   the ratio is what batching 25 to a call buys. (Not `sam local`, whose container per
   request would measure Docker rather than the client.)
3. Memory with a full buffer: a recorder whose service is unreachable, filled to its
   `max_buffered` (10,000) with typical logins; tracemalloc's count of what the buffered
   events hold, per event and in all.
"""

import json
import random
import statistics
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from audit_log_client import AuditLog, RetryPolicy, user_login
from audit_log_client import batching as client_batching
from bench.latency import stdout_discarded
from bench.progress import progress
from bench.tables import server_tables
from devtools import sigv4_gateway
from devtools.functions import LambdaContext

OVERHEAD_CALLS = 2_000
BLOCK = 100
THROUGHPUT_EVENTS = 2_000
SINGLE_EVENTS = 300  # one call each is slow on moto: fewer, the rate is what compares
BUFFERED = 10_000
ORG = "org_bench_client"
REGION = sigv4_gateway.REGION
CREDENTIALS = Credentials(sigv4_gateway.ACCESS_KEY, sigv4_gateway.SECRET_KEY)
ANSWER = json.dumps(
    {
        "event_id": "01KB0000000000000000000000",
        "occurred_at": "2026-12-01T00:00:00.000Z",
        "recorded_at": "2026-12-01T00:00:00.000Z",
    }
).encode()


@dataclass(frozen=True)
class Overhead:
    calls: int
    ours_us: float
    bare_us: float
    check_us: float  # of ours: building and checking the event alone


@dataclass(frozen=True)
class Throughput:
    events: int
    buffered_rate: float
    calls: int
    single_events: int
    single_rate: float


@dataclass(frozen=True)
class Memory:
    events: int
    total_bytes: int

    @property
    def per_event(self) -> float:
        return self.total_bytes / self.events


@dataclass(frozen=True)
class ClientResult:
    overhead: Overhead
    throughput: Throughput
    memory: Memory


@contextmanager
def answering_201() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits out the client's delayed ACK (40 ms)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _login(n: int) -> dict[str, Any]:
    return {
        "actor": {"id": f"usr_{n % 50}", "name": "Ada Lovelace", "email": "ada@acme.example"},
        "context": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
        "details": {"method": "sso", "mfa": True},
    }


def overhead(calls: int = OVERHEAD_CALLS) -> Overhead:
    rng = random.Random(18)
    ours: list[float] = []
    bare: list[float] = []
    checks: list[float] = []
    with answering_201() as url, httpx.Client() as http:
        audit_log = AuditLog(url, REGION, org_id=ORG, credentials=CREDENTIALS, retry=RetryPolicy(attempts=1))
        body = json.dumps({"org_id": ORG, "event_type": "user.login", **_login(0)}).encode()

        def bare_call() -> None:
            request = AWSRequest(
                method="POST", url=f"{url}/events", data=body, headers={"Content-Type": "application/json"}
            )
            SigV4Auth(CREDENTIALS, "execute-api", REGION).add_auth(request)
            answer = http.post(f"{url}/events", content=body, headers=dict(request.headers.items()))
            json.loads(answer.content)

        def our_call() -> None:
            audit_log.record("user.login", **_login(0))

        for warm in range(50):
            bare_call()
            our_call()
            audit_log.event("user.login", **_login(warm))
        for block in range(calls // BLOCK):
            if block % 5 == 0:
                progress(f"client: overhead block {block}/{calls // BLOCK}")
            sides = [(our_call, ours), (bare_call, bare)]
            for call, times in sides if rng.random() < 0.5 else reversed(sides):
                for _ in range(BLOCK):
                    started = time.perf_counter()
                    call()
                    times.append(time.perf_counter() - started)
            for n in range(BLOCK):
                started = time.perf_counter()
                audit_log.event("user.login", **_login(n))
                checks.append(time.perf_counter() - started)
        audit_log.close()
    return Overhead(
        len(ours), statistics.median(ours) * 1e6, statistics.median(bare) * 1e6, statistics.median(checks) * 1e6
    )


def throughput(events: int = THROUGHPUT_EVENTS, single: int = SINGLE_EVENTS) -> Throughput:
    with (
        server_tables(),
        stdout_discarded(),  # the handler's log lines
        sigv4_gateway.serving(sigv4_gateway.Gateway(LambdaContext())) as gateway,
    ):
        audit_log = AuditLog(gateway.url, REGION, org_id=ORG, credentials=CREDENTIALS)
        progress(f"client: {events} events through the background recorder")
        recorder = audit_log.background(flush_interval=0.05, max_buffered=events)
        started = time.perf_counter()
        for n in range(events):
            recorder.add(user_login(ORG, f"usr_{n % 50}", ip_address="203.0.113.7", user_agent="bench", method="sso"))
        assert recorder.flush(timeout=600), "the recorder did not empty"
        buffered = time.perf_counter() - started
        assert recorder.close() == [] and recorder.sent == events
        calls = len(gateway.requests_to("/v1/events/batch"))
        progress(f"client: {single} events one call each")
        started = time.perf_counter()
        for n in range(single):
            audit_log.record_event(user_login(ORG, f"usr_{n % 50}", ip_address="203.0.113.7", user_agent="bench"))
        one_by_one = time.perf_counter() - started
        audit_log.close()
    return Throughput(events, events / buffered, calls, single, single / one_by_one)


def memory(events: int = BUFFERED) -> Memory:
    unreachable = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, every call fails
    saved = client_batching.RETRY_PAUSE
    client_batching.RETRY_PAUSE = 3600.0  # the one failed call, then a long wait: the buffer stays full
    try:
        audit_log = AuditLog(unreachable, REGION, org_id=ORG, credentials=CREDENTIALS, retry=RetryPolicy(attempts=1))
        recorder = audit_log.background(flush_interval=3600.0, max_buffered=events)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(events):
            recorder.add(
                user_login(
                    ORG,
                    {"id": f"usr_{n}", "email": f"user{n}@acme.example"},
                    ip_address="203.0.113.7",
                    user_agent="Mozilla/5.0 (X11; Linux x86_64)",
                    method="sso",
                    mfa=True,
                )
            )
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert recorder.pending == events
        recorder.close(timeout=0.0)
        audit_log.close()
    finally:
        client_batching.RETRY_PAUSE = saved
    return Memory(events, held)


def measure(quick: bool = False) -> ClientResult:
    return ClientResult(
        overhead(200 if quick else OVERHEAD_CALLS),
        throughput(*((200, 50) if quick else (THROUGHPUT_EVENTS, SINGLE_EVENTS))),
        memory(1_000 if quick else BUFFERED),
    )
