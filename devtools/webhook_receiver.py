"""A local webhook receiver, for seeing a stream deliver under `make local`.

The service delivers each organisation's log to its webhooks signed per the Standard
Webhooks specification (one POST per event, `webhook-id`, `webhook-timestamp` and
`webhook-signature` headers, a `whsec_...` secret the API returns once when the stream is
created). Point a stream at this receiver, tell it the secret, and it shows every message
that arrives and whether its signature holds:

    python -m devtools.webhook_receiver --port 8765 --secrets .local/webhook-secrets.json \\
        [--received .local/webhook-received.ndjson] [--host 0.0.0.0] [--fail-first N]
    python -m devtools.webhook_receiver --remember /demo whsec_... [--secrets FILE]

It answers POSTs on any path. The secrets file maps a path (as in the URL, without the
query) to its secret, `{"/demo": "whsec_..."}`; it is read again for every message, so
`--remember` (or an edit) while the receiver runs takes effect at once, and a missing
file means no secrets. Each message gets one line on stdout and, with `--received`, one
JSON line in that file, `{"path", "webhook_id", "valid", "status", "body",
"received_at"}` (`body` the parsed JSON body or null; `status` what the receiver
answered), so tests can read what arrived. It answers 204 to a message whose signature
holds, 401 to one whose signature does not or that has no secret, 413 to a body over
1 MiB. Secrets are never printed or recorded.

To try the service's retries, make the destination fail for a while: `--fail-first N`
answers 503 to the first N messages (whatever they are: signed, unsigned, any path), and
`POST /_control/fail` with `{"count": N}` fails the next N (no body: 1); `POST /_control/ok` stops
failing. Both answer 200 JSON; `/_control/` requests themselves never fail, and neither
does `GET` (any path: 200 JSON with the receiver's state, for readiness checks).
Messages answered 503 are still checked, printed and recorded (with `"status": 503`),
so a test sees every attempt; a delivered message is one recorded with status 204.

A development tool only: it binds 127.0.0.1 unless told otherwise, has no authentication
on its control paths, and is never deployed.
"""

import argparse
import binascii
import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

DEFAULT_SECRETS = Path(".local/webhook-secrets.json")
DEFAULT_PORT = 8765
MAX_BODY = 1024 * 1024  # bytes; a larger body is refused with 413
CONTROL = "/_control/"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
_SHOWN_CHARS = 80  # a printed value longer than this is cut short


class ReceiverServer(ThreadingHTTPServer):
    """The receiver: where its secrets and records live, and how many messages to fail."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        secrets_path: Path,
        received_path: Path | None,
        fail_first: int = 0,
    ) -> None:
        super().__init__(address, _Handler)
        self.secrets_path = secrets_path
        self.received_path = received_path
        self._lock = threading.Lock()
        self._failing = fail_first

    @property
    def failing(self) -> int:
        """How many more messages will be answered 503."""
        with self._lock:
            return self._failing

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failing = count

    def take_failure(self) -> bool:
        """Whether this message is one to fail (and, if so, one fewer is left)."""
        with self._lock:
            if self._failing > 0:
                self._failing -= 1
                return True
            return False

    def report(self, line: str, record: dict[str, Any]) -> None:
        """One message's line on stdout and, with a received file, its JSON line there."""
        with self._lock:
            print(line, flush=True)
            if self.received_path is not None:
                self.received_path.parent.mkdir(parents=True, exist_ok=True)
                with self.received_path.open("a", encoding="utf-8") as received:
                    received.write(json.dumps(record, separators=(",", ":")) + "\n")


def serve(
    host: str, port: int, secrets_path: Path, received_path: Path | None, *, fail_first: int = 0
) -> ReceiverServer:
    """A receiver bound to host:port (0 for any free port), not yet serving: the caller
    runs its `serve_forever` (on a thread, in tests) and, when done, `shutdown` and
    `server_close`."""
    return ReceiverServer(
        (host, port), Path(secrets_path), None if received_path is None else Path(received_path), fail_first
    )


def load_secrets(secrets_path: Path) -> dict[str, str]:
    """The secrets file's path -> secret map; {} when there is no file. Entries that are
    not strings are left out. Raises ValueError when the file is not a JSON object."""
    try:
        text = secrets_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("not a JSON object")
    return {path: secret for path, secret in loaded.items() if isinstance(secret, str)}


def remember(secrets_path: Path, path: str, secret: str) -> str:
    """Add (or replace) the secret for `path` in the secrets file, creating it (mode
    0600) if need be; the path as stored. Raises ValueError for a secret that is not a
    usable `whsec_` secret, without repeating it."""
    path = urlsplit(path).path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"the secret does not start with {SECRET_PREFIX}")
    try:
        Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        raise ValueError(f"the secret is not {SECRET_PREFIX} followed by base64") from None
    secrets = load_secrets(secrets_path)
    secrets[path] = secret
    secrets_path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the file and renamed over it, so a running receiver never reads half a file.
    fd, temporary = tempfile.mkstemp(dir=secrets_path.parent, prefix=secrets_path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(secrets, out, indent=2, sort_keys=True)
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, secrets_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_signature(secret: str, body: bytes, headers: dict[str, str]) -> str | None:
    """None when `body` and `headers` carry a valid Standard Webhooks signature made
    with `secret`, else why not (never containing the secret)."""
    try:
        webhook = Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        return "the secret on file is not usable"
    try:
        webhook.verify(body, headers, json_parse=False)
    except WebhookVerificationError as error:
        return str(error)
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except (ValueError, binascii.Error):
        # standardwebhooks unpacks and base64-decodes each "v1,<sig>" without checking it first.
        return "malformed webhook-signature header"
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shown(value: object) -> str:
    """A value from an unverified message, safe to print: one line, printable, short."""
    text = "-" if value is None else str(value)
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _summary(body: Any) -> list[str]:
    """The message's type and, for an event, its event_type, actor and occurred_at."""
    if not isinstance(body, dict):
        return ["(body is not a JSON object)"]
    parts = [_shown(body.get("type"))]
    data = body.get("data")
    if body.get("type") == "audit_log.event" and isinstance(data, dict):
        actor = data.get("actor")
        parts += [
            _shown(data.get("event_type")),
            f"actor={_shown(actor.get('id') if isinstance(actor, dict) else None)}",
            f"occurred_at={_shown(data.get('occurred_at'))}",
        ]
    return parts


class _Handler(BaseHTTPRequestHandler):
    server_version = "webhook-receiver/1"

    @property
    def receiver(self) -> ReceiverServer:
        return cast(ReceiverServer, self.server)

    def do_GET(self) -> None:
        self._answer(200, {"receiver": "webhook", "failing": self.receiver.failing})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        webhook_id = self.headers.get("webhook-id")
        length = self._content_length()
        if length is None:
            return
        if length > MAX_BODY:
            self.close_connection = True  # the body is left unread
            self._message(path, webhook_id, 413, None, False, f"body of {length} bytes refused (limit {MAX_BODY})")
            return
        raw = self.rfile.read(length)
        if path.startswith(CONTROL):
            self._control(path, raw)
            return
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        try:
            secret = load_secrets(self.receiver.secrets_path).get(path)
        except (OSError, ValueError) as error:
            secret = None
            print(f"{_now()} cannot read {self.receiver.secrets_path}: {type(error).__name__}", flush=True)
        if secret is None:
            valid, verdict = False, f"no secret for {_shown(path)}"
        else:
            reason = check_signature(secret, raw, dict(self.headers.items()))
            valid = reason is None
            verdict = "signature OK" if valid else f"signature INVALID ({_shown(reason)})"
        if self.receiver.take_failure():
            status = 503
            verdict += f" -> 503 (simulated failure, {self.receiver.failing} more to fail)"
        else:
            status = 204 if valid else 401
        self._message(path, webhook_id, status, body, valid, verdict)

    def _content_length(self) -> int | None:
        """The request's Content-Length, or None once it has been answered 400/411."""
        header = self.headers.get("Content-Length")
        if header is None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                self._answer(411, {"error": "send a Content-Length"})
                return None
            return 0
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._answer(400, {"error": "bad Content-Length"})
            return None
        return length

    def _message(self, path: str, webhook_id: str | None, status: int, body: Any, valid: bool, verdict: str) -> None:
        """Answer a message with `status`, and print and record it."""
        received_at = _now()
        line = " ".join([received_at, _shown(path), _shown(webhook_id), *_summary(body), verdict])
        record = {
            "path": path,
            "webhook_id": webhook_id,
            "valid": valid,
            "status": status,
            "body": body,
            "received_at": received_at,
        }
        self.receiver.report(line, record)
        if status == 204:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(status, {"error": verdict})

    def _control(self, path: str, raw: bytes) -> None:
        if path == CONTROL + "ok":
            self.receiver.fail_next(0)
        elif path == CONTROL + "fail":
            try:
                count = json.loads(raw or b"{}").get("count", 1)
            except (ValueError, AttributeError):
                count = None
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                self._answer(400, {"error": 'send {"count": N}, N a whole number >= 0'})
                return
            self.receiver.fail_next(count)
        else:
            self._answer(404, {"error": f"control paths are {CONTROL}fail and {CONTROL}ok"})
            return
        failing = self.receiver.failing
        print(f"{_now()} control: failing the next {failing} message(s)", flush=True)
        self._answer(200, {"failing": failing})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # each message has its own line; errors still go to stderr


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.webhook_receiver",
        description="Receive and check Standard Webhooks messages locally (see the module docstring).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})")
    parser.add_argument(
        "--secrets",
        type=Path,
        default=DEFAULT_SECRETS,
        help=f'JSON file {{"/path": "whsec_..."}}, read for every message (default {DEFAULT_SECRETS})',
    )
    parser.add_argument("--received", type=Path, help="append one JSON line per message here")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N", help="answer 503 to the first N messages")
    parser.add_argument(
        "--remember",
        nargs=2,
        metavar=("PATH", "SECRET"),
        help="add PATH's secret to the secrets file and exit (SECRET - reads it from stdin)",
    )
    args = parser.parse_args(argv)
    if args.fail_first < 0:
        parser.error("--fail-first must be >= 0")

    if args.remember:
        path, secret = args.remember
        if args.remember[1] == "-":
            secret = sys.stdin.readline().strip()
        try:
            stored = remember(args.secrets, path, secret)
        except ValueError as error:
            print(f"not remembered: {error}", file=sys.stderr)
            return 2
        print(f"remembered the secret for {stored} in {args.secrets}")
        return 0

    server = serve(args.host, args.port, args.secrets, args.received, fail_first=args.fail_first)
    print(
        f"webhook receiver on http://{args.host}:{server.server_port}/ (secrets {args.secrets}"
        + (f", recording to {args.received}" if args.received else "")
        + (f", failing the first {args.fail_first}" if args.fail_first else "")
        + ")",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
