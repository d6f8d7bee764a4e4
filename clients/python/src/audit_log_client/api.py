"""A small HTTP client for the Audit Log API, on the standard library's urllib alone so
the verifier installs with nothing but its two pinned dependencies.

It only reads (GET), so it retries what a read may safely retry: network errors,
throttling (429) and the service's transient errors (500, 502, 503, 504), honouring
`Retry-After`. Every other failure is an ApiError naming the route and the status; the
token is sent only in the Authorization header and never appears in a message.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

from audit_log_client import __version__
from audit_log_client.errors import ApiError

RETRYABLE = frozenset({429, 500, 502, 503, 504})
ENTRIES_PAGE = 100  # the most GET /ledger/entries returns at once
_MAX_WAIT = 30.0


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
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked to be http(s) above)
            url,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/json",
                "User-Agent": f"audit-log-client/{__version__}",
            },
        )
        route = path + ("?" + url.split("?", 1)[1] if "?" in url else "")
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    payload = response.read()
                break
            except urllib.error.HTTPError as exc:
                if exc.code in RETRYABLE and attempt < self.retries:
                    self._wait(attempt, exc.headers.get("Retry-After"))
                    attempt += 1
                    continue
                raise ApiError(f"GET {route} answered {exc.code}: {_error_message(exc)}", status=exc.code) from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt < self.retries:
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise ApiError(f"cannot reach {self.base_url} (GET {route}): {reason}") from exc
        try:
            return json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ApiError(f"GET {route} did not answer JSON") from exc

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
