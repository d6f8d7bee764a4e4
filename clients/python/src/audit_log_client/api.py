"""A small HTTP client for the Audit Log API, on the standard library's urllib alone so
the verifier installs with nothing but its two pinned dependencies.

A read (GET) is retried where a read may safely be: network errors, throttling (429)
and the service's transient errors (500, 502, 503, 504), honouring `Retry-After`. The
one write (POST, which starts an export) is retried only on 429 and 503, answers given
before the request was acted on: after a network error, a 500 or a 504 the export may
have started, and a blind retry would start a second one. Every other failure is an
ApiError naming the route and the status; the token is sent only in the Authorization
header, only to the API, and never appears in a message.

`download` fetches a presigned URL (an export's file) without the token: the URL carries
its own signature, and the storage host is not the API.
"""

import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from audit_log_client import __version__
from audit_log_client.errors import ApiError, InputError

RETRYABLE = frozenset({429, 500, 502, 503, 504})
POST_RETRYABLE = frozenset({429, 503})
ENTRIES_PAGE = 100  # the most GET /ledger/entries returns at once
DOWNLOAD_CHUNK = 1 << 20  # bytes read and written at a time: memory stays flat whatever the file's size
_MAX_WAIT = 30.0
_USER_AGENT = f"audit-log-client/{__version__}"


@dataclass(frozen=True)
class JsonAnswer:
    """A 2xx answer: its status, decoded JSON body, and headers (names in lower case)."""

    status: int
    body: Any
    headers: Mapping[str, str]


class Client:
    """Reads one organisation's ledger (the token's) from the API at `base_url`
    (e.g. https://….execute-api.….amazonaws.com/v1)."""

    def __init__(
        self, base_url: str, token: str, *, timeout: float = 30.0, retries: int = 3, backoff: float = 0.5
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(f"the API address must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def get_json(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """The JSON answer of GET `path`; ApiError once retries are spent or on any
        answer that is not a 2xx JSON document."""
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: str(v) for k, v in params.items() if v is not None})
        route = path + ("?" + url.split("?", 1)[1] if "?" in url else "")
        return self._send("GET", url, route, None, RETRYABLE, retry_network=True).body

    def post_json(self, path: str, body: Mapping[str, Any]) -> JsonAnswer:
        """POST `body` as JSON to `path`; the 2xx answer with its headers (a 202 names
        what it created in `Location`). Retried on 429 and 503 only (see the module)."""
        data = json.dumps(body).encode()
        return self._send("POST", self.base_url + path, path, data, POST_RETRYABLE, retry_network=False)

    def _send(
        self, method: str, url: str, route: str, data: bytes | None, retryable: frozenset[int], *, retry_network: bool
    ) -> JsonAnswer:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked to be http(s) in __init__)
            url, data=data, method=method, headers=headers
        )
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    payload = response.read()
                    status = response.status
                    answer_headers = {name.lower(): value for name, value in response.headers.items()}
                break
            except urllib.error.HTTPError as exc:
                if exc.code in retryable and attempt < self.retries:
                    self._wait(attempt, exc.headers.get("Retry-After"))
                    attempt += 1
                    continue
                raise ApiError(f"{method} {route} answered {exc.code}: {_error_message(exc)}", status=exc.code) from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if retry_network and attempt < self.retries:
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise ApiError(f"cannot reach {self.base_url} ({method} {route}): {reason}") from exc
        try:
            decoded = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ApiError(f"{method} {route} did not answer JSON") from exc
        return JsonAnswer(status, decoded, answer_headers)

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2**attempt
        if retry_after is not None and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, _MAX_WAIT))

    def _get_object(self, path: str, params: Mapping[str, object] | None = None) -> dict[str, Any]:
        answer = self.get_json(path, params)
        if not isinstance(answer, dict):
            raise ApiError(f"GET {path} did not answer a JSON object")
        return answer

    def latest_checkpoint(self) -> dict[str, Any]:
        return self._get_object("/ledger/checkpoint")

    def public_key(self) -> dict[str, Any]:
        return self._get_object("/ledger/public-key")

    def consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        return self._get_object("/ledger/consistency", {"from": old_size, "to": new_size})

    def proof(self, event_id: str, tree_size: int | None = None) -> dict[str, Any]:
        path = f"/events/{urllib.parse.quote(event_id, safe='')}/proof"
        return self._get_object(path, {"tree_size": tree_size})

    def export(self, export_id: str) -> dict[str, Any]:
        """GET /exports/{export_id}: the export object, with fresh presigned URLs once it
        succeeded."""
        return self._get_object(f"/exports/{urllib.parse.quote(export_id, safe='')}")

    def checkpoints(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every published checkpoint, newest first, following `next_cursor`."""
        cursor: str | None = None
        while True:
            page = self._get_object("/ledger/checkpoints", {"limit": limit, "cursor": cursor})
            items, cursor = page.get("checkpoints"), page.get("next_cursor")
            if not isinstance(items, list) or not (cursor is None or isinstance(cursor, str)):
                raise ApiError("GET /ledger/checkpoints did not answer a page of checkpoints")
            yield from items
            if cursor is None:
                return

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[Any]:
        """The ledger's entries in leaf order from leaf `start`, following `next_start`
        until it is null or `stop` is reached (pages are sized not to fetch past it).
        The entries are yielded as the service sent them: checking their order and
        contents is the auditor's job, not this iterator's."""
        position = start
        while stop is None or position < stop:
            limit = ENTRIES_PAGE if stop is None else min(ENTRIES_PAGE, stop - position)
            page = self._get_object("/ledger/entries", {"start": position, "limit": limit})
            items, next_start = page.get("entries"), page.get("next_start")
            if not isinstance(items, list) or not (next_start is None or type(next_start) is int):
                raise ApiError(f"GET /ledger/entries?start={position} did not answer a page of entries")
            yield from items
            if next_start is None:
                return
            if next_start <= position:
                raise ApiError(f"GET /ledger/entries?start={position} answered next_start {next_start}: no progress")
            position = next_start


def download(
    url: str,
    destination: str | Path,
    *,
    timeout: float = 60.0,
    chunk_size: int = DOWNLOAD_CHUNK,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Fetch `url` (a presigned URL) into `destination`, in chunks; the number of bytes.

    The request carries no Authorization header: a presigned URL is its own credential,
    and the bearer token must never reach the storage host. The body is streamed into a
    temporary file beside `destination`, checked against Content-Length, then renamed:
    `destination` holds the whole file or is left as it was, never half a file. Messages
    name the host only, since a presigned URL's query is a credential too. `on_progress`
    sees (bytes so far, Content-Length or None) after each chunk. ApiError when the
    download fails, InputError when the file cannot be written."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError("the download URL the service gave is not an http(s) URL")
    host = parts.hostname
    target = Path(destination)
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})  # noqa: S310  (checked just above)
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, renamed or removed in `finally`)
            "wb", dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        )
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc}") from exc
    temporary = Path(handle.name)
    finished = False
    try:
        with handle:
            received, total = _stream(request, host, handle, chunk_size, timeout, on_progress, target)
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise InputError(f"cannot write {target}: {exc}") from exc
        if total is not None and received != total:
            raise ApiError(f"the download from {host} broke off after {received} of {total} bytes")
        try:
            temporary.replace(target)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc}") from exc
        finished = True
    finally:
        if not finished:
            temporary.unlink(missing_ok=True)
    return received


def _stream(
    request: urllib.request.Request,
    host: str,
    handle: IO[bytes],
    chunk_size: int,
    timeout: float,
    on_progress: Callable[[int, int | None], None] | None,
    target: Path,
) -> tuple[int, int | None]:
    """Copy the answer to `request` into `handle`: (bytes copied, Content-Length)."""
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310  (http(s) only, checked by the caller)
    except urllib.error.HTTPError as exc:
        exc.close()  # its body (the storage's XML error) is not shown: it may quote the URL's credential
        raise ApiError(f"the download from {host} answered {exc.code} {exc.reason}", status=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ApiError(f"cannot download from {host}: {reason}") from exc
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.strip().isdigit() else None
        received = 0
        if on_progress is not None:
            on_progress(received, total)
        while True:
            try:
                chunk = response.read(chunk_size)
            except (OSError, http.client.HTTPException) as exc:
                raise ApiError(f"the download from {host} broke off after {received} bytes: {exc!r}") from exc
            if not chunk:
                return received, total
            try:
                handle.write(chunk)
            except OSError as exc:
                raise InputError(f"cannot write {target}: {exc}") from exc
            received += len(chunk)
            if on_progress is not None:
                on_progress(received, total)


def _error_message(error: urllib.error.HTTPError) -> str:
    """The API's own `message` when the error body is the contract's JSON, else the
    HTTP reason: what a user needs to fix a token or a parameter."""
    try:
        body = json.loads(error.read(64 * 1024))
    except (ValueError, OSError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:500]
    return str(error.reason)
