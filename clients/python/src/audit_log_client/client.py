"""The client a platform backend (and an admin tool) holds: `AuditLog`, blocking, and
`AsyncAuditLog`, for asyncio. Both run the same flows (calls.py) through one pooled
HTTP client each; only the driver differs (exchange.run / exchange.arun).

    audit_log = AuditLog("https://abc123.execute-api.eu-west-1.amazonaws.com/v1")
    audit_log.record("user.login", {"id": "usr_1"}, org_id="org_7f3a",
                     context={"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"})
"""

import asyncio
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import botocore.session
import httpx
from botocore.credentials import Credentials

from audit_log_client import api, audit, exports
from audit_log_client.batching import AsyncBatch, BackgroundRecorder, Batch, FailureHandler
from audit_log_client.calls import Recorded, get_page, page_items, record, record_batch
from audit_log_client.checkpoints import PublicKey
from audit_log_client.errors import ApiError, FieldError, InvalidEvent
from audit_log_client.events import MAX_BATCH, ActorLike, Event, TargetLike, as_event, new_event
from audit_log_client.exchange import Flow, RetryPolicy, arun, run
from audit_log_client.signing import Signer

DEFAULT_TIMEOUT = 10.0  # seconds, for each of connecting, reading and writing
MAX_CONNECTIONS = 20
H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def _base_url(api_url: str) -> str:
    parts = urllib.parse.urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the API address must be an http(s) URL such as https://…/v1, not {api_url!r}")
    return api_url.rstrip("/")


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)


class _Common(Generic[H]):
    """What both clients hold: the API's address, the signer (made on first use, so
    an admin tool that only reads needs no AWS credentials), the retry policy, the
    default organisation and the pooled HTTP client (`H`: blocking or asyncio)."""

    def __init__(
        self,
        api_url: str,
        region: str | None = None,
        *,
        org_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        session: botocore.session.Session | None = None,
        credentials: Credentials | None = None,
        signer: Signer | None = None,
        http: H | None = None,
    ) -> None:
        self.api_url = _base_url(api_url)
        self.org_id = org_id
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._region = region
        self._session = session
        self._credentials = credentials
        self._signer = signer
        self._http: H = http if http is not None else self._new_http(timeout)

    def _new_http(self, timeout: float) -> H:
        raise NotImplementedError  # each client names its own

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer(self._region, session=self._session, credentials=self._credentials)
        return self._signer

    def _signer_for(self, flow_signs: bool) -> Signer | None:
        return self.signer if flow_signs else None

    def event(
        self,
        event_type: str,
        actor: ActorLike,
        *,
        org_id: str | None = None,
        targets: Sequence[TargetLike] | None = None,
        context: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        occurred_at: str | datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Event:
        """A checked event of `org_id` (default: the client's), its key fixed."""
        return new_event(
            event_type,
            actor,
            org_id=org_id if org_id is not None else self.org_id,
            targets=targets,
            context=context,
            details=details,
            occurred_at=occurred_at,
            idempotency_key=idempotency_key,
        )

    def _checked_all(self, events: Iterable[Event | Mapping[str, Any]]) -> list[Event]:
        """Every event checked before any is sent, errors indexed as the service indexes
        them (`events[3].event_type`, counting from the first event given)."""
        checked: list[Event] = []
        errors: list[FieldError] = []
        for index, event in enumerate(events):
            try:
                checked.append(as_event(self._with_org(event), ("events", index)))
            except InvalidEvent as exc:
                errors.extend(exc.errors)
        if errors:
            raise InvalidEvent("the batch breaks the service's rules (nothing sent)", tuple(errors))
        return checked

    def _with_org(self, event: Event | Mapping[str, Any]) -> Event | Mapping[str, Any]:
        if isinstance(event, Mapping) and "org_id" not in event and self.org_id is not None:
            return {**event, "org_id": self.org_id}
        return event

    def _events_flow(self, token: str, filters: Mapping[str, Any]) -> Callable[[str | None], Flow[Any]]:
        def page(cursor: str | None) -> Flow[Any]:
            return get_page(self.api_url, "/events", token, {**filters, "cursor": cursor}, self.retry)

        return page

    def reader(self, token: str) -> api.Client:
        """The ledger reader the verifier and exports use, on this client's API and token."""
        return api.Client(self.api_url, token, timeout=max(self.timeout, 30.0))


def _filters(
    event_type: str | None,
    actor_id: str | None,
    since: str | datetime | None,
    until: str | datetime | None,
    target_type: str | None,
    target_id: str | None,
    page_size: int,
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "actor_id": actor_id,
        "since": since,
        "until": until,
        "target_type": target_type,
        "target_id": target_id,
        "limit": page_size,
    }


class AuditLog(_Common[httpx.Client]):
    """The blocking client. Thread-safe: one per process, shared by every request
    handler, keeps its connections open between calls."""

    def _new_http(self, timeout: float) -> httpx.Client:
        return httpx.Client(timeout=timeout, limits=_limits())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, flow: Flow[Any], *, signs: bool) -> Any:
        return run(flow, self._http, self._signer_for(signs))

    # --- recording ---------------------------------------------------------------

    def record(
        self,
        event_type: str,
        actor: ActorLike,
        *,
        org_id: str | None = None,
        targets: Sequence[TargetLike] | None = None,
        context: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        occurred_at: str | datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Recorded:
        """Record one event (POST /events); its ids. Checked first (InvalidEvent, nothing
        sent); retried on 429, 5xx and network errors with the one key made here, so it
        is recorded once however often it is sent; Unavailable when every attempt failed,
        InvalidEvent (400/422, with the service's field errors), AccessDenied (401/403)."""
        event = self.event(
            event_type,
            actor,
            org_id=org_id,
            targets=targets,
            context=context,
            details=details,
            occurred_at=occurred_at,
            idempotency_key=idempotency_key,
        )
        return self.record_event(event)

    def record_event(self, event: Event | Mapping[str, Any]) -> Recorded:
        """Record an event built beforehand (by `event`, a typed helper, or as JSON)."""
        checked = as_event(self._with_org(event))
        result: Recorded = self._run(record(self.api_url, checked, self.retry), signs=True)
        return result

    def record_batch(self, events: Iterable[Event | Mapping[str, Any]]) -> list[Recorded]:
        """Record events through POST /events/batch, 25 to a call, in order; a result
        per event. Every event is checked before the first call. When a call fails its
        error is raised and the calls before it stay recorded: send Events (whose keys
        are fixed) again, and those already recorded come back as duplicates."""
        checked = self._checked_all(events)
        results: list[Recorded] = []
        for start in range(0, len(checked), MAX_BATCH):
            results += self.send_chunk(checked[start : start + MAX_BATCH])
        return results

    def send_chunk(self, events: Sequence[Event]) -> list[Recorded]:
        """One POST /events/batch of at most 25 checked events (what the buffers call)."""
        chunk: list[Recorded] = self._run(record_batch(self.api_url, events, self.retry), signs=True)
        return chunk

    def batch(self, *, max_wait: float | None = None) -> Batch:
        """A buffer in the caller's thread: `with audit_log.batch() as b: b.record(...)`
        sends every 25 events, when an event finds the oldest waiting `max_wait` s, and
        at the end of the block."""
        return Batch(self, max_wait=max_wait)

    def background(
        self,
        *,
        flush_interval: float = 1.0,
        max_buffered: int = 10_000,
        max_block: float = 0.05,
        on_failure: FailureHandler | None = None,
    ) -> BackgroundRecorder:
        """A buffer sent by a thread of its own, for long-running processes: `record`
        returns at once (held up `max_block` s at most, when `max_buffered` events are
        waiting: BufferFull); events go 25 to a call, within `flush_interval` s, and at
        `close()` or interpreter exit. See BackgroundRecorder."""
        return BackgroundRecorder(
            self, flush_interval=flush_interval, max_buffered=max_buffered, max_block=max_block, on_failure=on_failure
        )

    # --- reading (ORG Admins' tokens) ---------------------------------------------

    def iter_events(
        self,
        token: str,
        *,
        event_type: str | None = None,
        actor_id: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Every event of the token's organisation matching the filters, newest first,
        following `next_cursor` page by page (memory: one page)."""
        page = self._events_flow(token, _filters(event_type, actor_id, since, until, target_type, target_id, page_size))
        cursor: str | None = None
        while True:
            items, cursor = page_items(self._run(page(cursor), signs=False), "events", "/events")
            yield from items
            if cursor is None:
                return

    def actors(self, token: str, q: str | None = None, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """The actors seen in the organisation's events, most recently seen first; `q`
        matches the start of a word of the name, of the email or of the id."""
        cursor: str | None = None
        while True:
            flow = get_page(self.api_url, "/actors", token, {"q": q, "limit": page_size, "cursor": cursor}, self.retry)
            items, cursor = page_items(self._run(flow, signs=False), "actors", "/actors")
            yield from items
            if cursor is None:
                return

    def event_types(self, token: str) -> list[dict[str, Any]]:
        """Every event type recorded in the organisation, with when it was last seen."""
        page = self._run(get_page(self.api_url, "/event-types", token, {}, self.retry), signs=False)
        types = page.get("event_types")
        if not isinstance(types, list):
            raise ApiError("GET /event-types did not answer a list of event types")
        return types

    def export(
        self,
        token: str,
        export_format: str,
        *,
        output: str | Path | None = None,
        proof_output: str | Path | None = None,
        timeout: float = exports.DEFAULT_TIMEOUT,
        **filters: str | None,
    ) -> exports.DownloadedExport:
        """Start an export (the filters of `iter_events`), wait for it and download its
        file (and an NDJSON export's proof); `verify_export` checks them offline."""
        return exports.run_export(
            self.reader(token), export_format, filters, output=output, proof_output=proof_output, timeout=timeout
        )

    def audit(self, token: str, key: PublicKey, kept_checkpoint: object = None) -> audit.AuditReport:
        """Recompute the organisation's whole ledger and check it against the latest
        signed checkpoint (and against `kept_checkpoint`, one kept from an earlier audit);
        VerificationFailed on any mismatch. `audit-log audit` runs this."""
        return audit.audit(self.reader(token), key, kept_checkpoint)


class AsyncAuditLog(_Common[httpx.AsyncClient]):
    """The asyncio client: the same calls as AuditLog, awaited, on httpx.AsyncClient.
    Exports and audits, long and mostly waiting on files, run the blocking code in a
    worker thread."""

    def _new_http(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout, limits=_limits())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, flow: Flow[Any], *, signs: bool) -> Any:
        return await arun(flow, self._http, self._signer_for(signs))

    async def record(
        self,
        event_type: str,
        actor: ActorLike,
        *,
        org_id: str | None = None,
        targets: Sequence[TargetLike] | None = None,
        context: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        occurred_at: str | datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Recorded:
        """AuditLog.record, awaited."""
        event = self.event(
            event_type,
            actor,
            org_id=org_id,
            targets=targets,
            context=context,
            details=details,
            occurred_at=occurred_at,
            idempotency_key=idempotency_key,
        )
        return await self.record_event(event)

    async def record_event(self, event: Event | Mapping[str, Any]) -> Recorded:
        checked = as_event(self._with_org(event))
        result: Recorded = await self._run(record(self.api_url, checked, self.retry), signs=True)
        return result

    async def record_batch(self, events: Iterable[Event | Mapping[str, Any]]) -> list[Recorded]:
        """AuditLog.record_batch, awaited (the calls go one after another, in order)."""
        checked = self._checked_all(events)
        results: list[Recorded] = []
        for start in range(0, len(checked), MAX_BATCH):
            results += await self.send_chunk(checked[start : start + MAX_BATCH])
        return results

    async def send_chunk(self, events: Sequence[Event]) -> list[Recorded]:
        chunk: list[Recorded] = await self._run(record_batch(self.api_url, events, self.retry), signs=True)
        return chunk

    def batch(self, *, max_wait: float | None = None) -> AsyncBatch:
        """`async with audit_log.batch() as b: await b.record(...)`: AuditLog.batch."""
        return AsyncBatch(self, max_wait=max_wait)

    async def iter_events(
        self,
        token: str,
        *,
        event_type: str | None = None,
        actor_id: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        page = self._events_flow(token, _filters(event_type, actor_id, since, until, target_type, target_id, page_size))
        cursor: str | None = None
        while True:
            items, cursor = page_items(await self._run(page(cursor), signs=False), "events", "/events")
            for item in items:
                yield item
            if cursor is None:
                return

    async def actors(self, token: str, q: str | None = None, *, page_size: int = 100) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            flow = get_page(self.api_url, "/actors", token, {"q": q, "limit": page_size, "cursor": cursor}, self.retry)
            items, cursor = page_items(await self._run(flow, signs=False), "actors", "/actors")
            for item in items:
                yield item
            if cursor is None:
                return

    async def event_types(self, token: str) -> list[dict[str, Any]]:
        page = await self._run(get_page(self.api_url, "/event-types", token, {}, self.retry), signs=False)
        types = page.get("event_types")
        if not isinstance(types, list):
            raise ApiError("GET /event-types did not answer a list of event types")
        return types

    async def export(
        self,
        token: str,
        export_format: str,
        *,
        output: str | Path | None = None,
        proof_output: str | Path | None = None,
        timeout: float = exports.DEFAULT_TIMEOUT,
        **filters: str | None,
    ) -> exports.DownloadedExport:
        return await asyncio.to_thread(
            exports.run_export,
            self.reader(token),
            export_format,
            filters,
            output=output,
            proof_output=proof_output,
            timeout=timeout,
        )

    async def audit(self, token: str, key: PublicKey, kept_checkpoint: object = None) -> audit.AuditReport:
        return await asyncio.to_thread(audit.audit, self.reader(token), key, kept_checkpoint)
