"""API Gateway in front of the real handlers, on a local port, for the client's tests and
benchmarks.

It checks every record call's SigV4 signature as `AWS_IAM` auth does, with its own
implementation of the algorithm (from AWS's specification, not botocore's code), over
the request exactly as it arrived: so a client whose signed request differs in any byte
from the one it sends is refused (403), as AWS would refuse it. Reads take a bearer
token of the form `admin:<org_id>` in place of the authorizer. Each request is handed to
record_event's or query_log's handler as the proxy event API Gateway builds.

Faults for the retry tests are queued with `fail_next(...)`:
- `answer(status)` answers `status` without calling the handler (throttling, a 5xx);
- `after_write(status)` calls the handler (so the event is recorded) and then answers
  `status`, as when a Lambda's answer is lost on its way back;
- `drop_after_write()` calls the handler and closes the connection without answering.
"""

import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devtools.functions import api_event, load_function

ACCESS_KEY = "AKIDGATEWAYTEST"
SECRET_KEY = "gateway/test/secret/key/EXAMPLEKEY0000000000"  # noqa: S105  (a test identity, nothing real)
REGION = "eu-west-1"
STAGE = "/v1"
MAX_SKEW = timedelta(minutes=5)


def admin_context(org_id: str) -> dict[str, str]:
    """requestContext.authorizer as the Lambda authorizer fills it for an ORG Admin."""
    return {"orgId": org_id, "userId": "usr_admin", "role": "admin", "email": "admin@example.com", "name": "Org Admin"}


@dataclass(frozen=True)
class Fault:
    status: int
    write_first: bool = False
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def answer(status: int, **headers: str) -> Fault:
    return Fault(status, headers=headers)


def after_write(status: int) -> Fault:
    return Fault(status, write_first=True)


def drop_after_write() -> Fault:
    return Fault(0, write_first=True, drop=True)


@dataclass
class Seen:
    """One request as the gateway received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


# --- SigV4, from the specification ----------------------------------------------------


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def canonical_request(method: str, target: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    parts = urllib.parse.urlsplit(target)
    path = "/".join(_quote(urllib.parse.unquote(segment)) for segment in (parts.path or "/").split("/"))
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{k}={v}" for k, v in sorted((_quote(k), _quote(v)) for k, v in pairs))  # sorted once encoded
    lines = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    return "\n".join([method, path, query, lines, ";".join(signed), hashlib.sha256(body).hexdigest()])


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature_problem(method: str, target: str, headers: dict[str, str], body: bytes, now: datetime) -> str | None:
    """Why the request's signature is not good, or None when it is."""
    authorization = headers.get("authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return "Missing Authentication Token"
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    access_key, _, scope = fields.get("Credential", "").partition("/")
    signed = fields.get("SignedHeaders", "").split(";")
    amz_date = headers.get("x-amz-date", "")
    try:
        at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "the request has no X-Amz-Date"
    if abs(now - at) > MAX_SKEW:
        return "Signature expired"
    if access_key != ACCESS_KEY:
        return "The security token included in the request is invalid."
    if scope != f"{amz_date[:8]}/{REGION}/execute-api/aws4_request":
        return f"Credential should be scoped to a valid region and service, not {scope}"
    if "host" not in signed or any(name not in headers for name in signed):
        return "the signed headers are not all present"
    digest = hashlib.sha256(canonical_request(method, target, headers, signed, body).encode()).hexdigest()
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, digest])
    key = _hmac(f"AWS4{SECRET_KEY}".encode(), amz_date[:8])
    for part in (REGION, "execute-api", "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return "The request signature we calculated does not match the signature you provided."
    return None


# --- the gateway ----------------------------------------------------------------------


class Gateway:
    def __init__(self, lambda_context: Any, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.lambda_context = lambda_context
        self.clock = clock
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self.record_event = load_function("record_event")
        self.query_log = load_function("query_log")
        self.url = ""
        self._invocation = threading.Lock()  # one invocation at a time, as one Lambda container

    def fail_next(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def handle(self, seen: Seen, target: str) -> tuple[int, dict[str, str], bytes] | None:
        """The answer to one request; None to drop the connection."""
        parts = urllib.parse.urlsplit(target)
        if not parts.path.startswith(STAGE + "/"):
            return 403, {}, b'{"message":"Missing Authentication Token"}'
        path = parts.path[len(STAGE) :]
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)) or None
        headers = {name: value for name, value in seen.headers.items() if name != "authorization"}
        if seen.method == "POST":
            problem = signature_problem(seen.method, target, seen.headers, seen.body, self.clock())
            if problem is not None:
                return 403, {"x-amzn-errortype": "InvalidSignatureException"}, json.dumps({"message": problem}).encode()
            function, authorizer = self.record_event, None
        else:
            token = seen.headers.get("authorization", "").removeprefix("Bearer ")
            if not token.startswith("admin:"):
                return 401, {}, b'{"message":"Unauthorized"}'
            function, authorizer = self.query_log, admin_context(token.removeprefix("admin:"))
        fault = self._next_fault()
        if fault is not None and not fault.write_first:
            return fault.status, fault.headers, json.dumps({"message": f"injected {fault.status}"}).encode()
        event = api_event(
            seen.method,
            path,
            raw_body=seen.body.decode() if seen.body else None,
            headers=headers,
            query=query,
            authorizer=authorizer,
        )
        with self._invocation:
            response = function.lambda_handler(event, self.lambda_context)
        if fault is not None:
            return None if fault.drop else (fault.status, {}, b'{"message":"injected after the write"}')
        return int(response["statusCode"]), dict(response.get("headers") or {}), response["body"].encode()


@contextmanager
def serving(gateway: Gateway) -> Iterator[Gateway]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
        disable_nagle_algorithm = True  # else each answer waits out the client's delayed ACK (40 ms)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command,
                urllib.parse.urlsplit(self.path).path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            gateway.seen.append(seen)
            result = gateway.handle(seen, self.path)
            if result is None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            status, headers, payload = result
            seen.status = status
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}{STAGE}"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
