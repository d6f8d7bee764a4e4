"""Buffers that send events 25 to a call.

Every event is checked and given its idempotency key when it enters a buffer, so a bad
event is refused at the line that made it, and a call that fails is sent again later
with the same events and the same keys: the service records each once, whichever
attempt's answer was lost. An event without `occurred_at` is given the time it entered
the buffer: the service would otherwise stamp it with the time the call reached it,
seconds (or, after an outage, hours) later. An event leaves a buffer only when the service recorded it,
or refused it for good (400/422: the buffer cannot make it acceptable).

- `Batch` / `AsyncBatch` send in the caller's own flow of control: on the 25th event,
  when an event finds the oldest one waiting longer than `max_wait`, and when the
  block ends. A failure is raised to the caller, the events stay buffered.
- `BackgroundRecorder` sends from a thread of its own, for long-running processes:
  `record` only appends (held up `max_block` seconds at most when the buffer is full),
  so the caller's request path never waits on the network.
"""

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from audit_log_client.calls import Recorded
from audit_log_client.errors import ApiError, AuditLogError, BufferFull, InvalidEvent
from audit_log_client.events import MAX_BATCH, Event, as_event
from audit_log_client.timestamps import format_utc_ms, utc_now

if TYPE_CHECKING:
    from audit_log_client.client import AsyncAuditLog, AuditLog

logger = logging.getLogger("audit_log_client")
FailureHandler = Callable[[AuditLogError, Sequence[Event]], None]
RETRY_PAUSE = 1.0  # the background recorder's first pause after a failed call, doubling
MAX_RETRY_PAUSE = 30.0


def buffered(event: Event) -> Event:
    """`event` as a buffer keeps it: with its time of occurrence fixed now."""
    if event.occurred_at is not None:
        return event
    return event.model_copy(update={"occurred_at": format_utc_ms(utc_now())})


def refused_for_good(error: AuditLogError) -> bool:
    """Whether sending the same events again can never succeed: the service found them
    invalid, or too large. Anything else (no answer, throttling, 5xx, even 401/403, which
    a credential refresh or a fixed policy can cure) is worth another try."""
    return isinstance(error, InvalidEvent) or (isinstance(error, ApiError) and error.status == 413)


class _Buffer:
    """The events waiting, oldest first, and when the oldest arrived."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.events: deque[Event] = deque()
        self.oldest_at: float | None = None

    def add(self, event: Event) -> None:
        if not self.events:
            self.oldest_at = self.clock()
        self.events.append(event)

    def chunk(self) -> list[Event]:
        return [self.events[i] for i in range(min(MAX_BATCH, len(self.events)))]

    def drop(self, count: int) -> None:
        for _ in range(count):
            self.events.popleft()
        self.oldest_at = self.clock() if self.events else None

    def waited(self) -> float:
        return 0.0 if self.oldest_at is None else self.clock() - self.oldest_at


class Batch:
    """See the module. `recorded` holds every result so far, in order."""

    def __init__(self, log: "AuditLog", *, max_wait: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._log = log
        self._buffer = _Buffer(clock)
        self.max_wait = max_wait
        self.recorded: list[Recorded] = []

    @property
    def pending(self) -> tuple[Event, ...]:
        return tuple(self._buffer.events)

    def record(self, event_type: str, actor: Any, **fields: Any) -> Event:
        """Buffer one event (the arguments of AuditLog.record); the checked event."""
        return self.add(self._log.event(event_type, actor, **fields))

    def add(self, event: Event | Mapping[str, Any]) -> Event:
        checked = buffered(as_event(self._log._with_org(event)))
        self._buffer.add(checked)
        if len(self._buffer.events) >= MAX_BATCH or (
            self.max_wait is not None and self._buffer.waited() >= self.max_wait
        ):
            self.flush()
        return checked

    def flush(self) -> list[Recorded]:
        """Send everything buffered, 25 to a call; the results. On failure the error is
        raised and the unsent events stay, keys and all, for the next flush."""
        sent: list[Recorded] = []
        while self._buffer.events:
            chunk = self._buffer.chunk()
            results = self._log.send_chunk(chunk)
            self._buffer.drop(len(chunk))
            sent += results
            self.recorded += results
        return sent

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The events describe what already happened, so they are sent even when the block
        # raised; a failure to send is raised on top (the block's error is its context).
        self.flush()


class AsyncBatch:
    """Batch for AsyncAuditLog: `await b.record(...)`, flushed at the end of `async with`."""

    def __init__(
        self, log: "AsyncAuditLog", *, max_wait: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self._log = log
        self._buffer = _Buffer(clock)
        self.max_wait = max_wait
        self.recorded: list[Recorded] = []

    @property
    def pending(self) -> tuple[Event, ...]:
        return tuple(self._buffer.events)

    async def record(self, event_type: str, actor: Any, **fields: Any) -> Event:
        return await self.add(self._log.event(event_type, actor, **fields))

    async def add(self, event: Event | Mapping[str, Any]) -> Event:
        checked = buffered(as_event(self._log._with_org(event)))
        self._buffer.add(checked)
        if len(self._buffer.events) >= MAX_BATCH or (
            self.max_wait is not None and self._buffer.waited() >= self.max_wait
        ):
            await self.flush()
        return checked

    async def flush(self) -> list[Recorded]:
        sent: list[Recorded] = []
        while self._buffer.events:
            chunk = self._buffer.chunk()
            results = await self._log.send_chunk(chunk)
            self._buffer.drop(len(chunk))
            sent += results
            self.recorded += results
        return sent

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.flush()


def _log_failure(error: AuditLogError, events: Sequence[Event]) -> None:
    """The default for events refused for good: an error line with the count and the
    service's words (never the events, which hold personal data)."""
    logger.error("audit log: %d events refused and dropped: %s", len(events), error.message)


class BackgroundRecorder:
    """See the module. Thread-safe; one per process is enough.

    A call that fails is retried after a pause (1 s, doubling to 30 s) with the same
    events, for as long as the recorder runs; `close` makes a last attempt within its
    timeout and returns what it could not send. Events refused for good go to
    `on_failure(error, events)` (default: an error log line, counts only)."""

    def __init__(
        self,
        log: "AuditLog",
        *,
        flush_interval: float = 1.0,
        max_buffered: int = 10_000,
        max_block: float = 0.05,
        on_failure: FailureHandler | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_buffered < 1:
            raise ValueError("max_buffered must be at least 1")
        self._log = log
        self.flush_interval = flush_interval
        self.max_buffered = max_buffered
        self.max_block = max_block
        self._on_failure = on_failure or _log_failure
        self._clock = clock
        self._buffer = _Buffer(clock)
        self._changed = threading.Condition()
        self._closing = False
        self._deadline = 0.0
        self._flush_wanted = False
        self._accepted = 0  # events taken so far
        self._settled = 0  # events that left the buffer (recorded, or refused for good)
        self.sent = 0
        self.refused = 0
        self.failed_calls = 0
        self._thread = threading.Thread(target=self._send_loop, name="audit-log-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(self, event_type: str, actor: Any, **fields: Any) -> Event:
        """Buffer one event (the arguments of AuditLog.record); the checked event, with
        its key. InvalidEvent at once for a bad one; BufferFull after `max_block` s."""
        return self.add(self._log.event(event_type, actor, **fields))

    def add(self, event: Event | Mapping[str, Any]) -> Event:
        checked = buffered(as_event(self._log._with_org(event)))
        with self._changed:
            if self._closing:
                raise BufferFull("the recorder is closed: the event was not taken")
            if not self._changed.wait_for(lambda: len(self._buffer.events) < self.max_buffered, self.max_block):
                raise BufferFull(
                    f"{self.max_buffered} events are waiting to be sent (the service has not taken any for a "
                    f"while): the event was not taken"
                )
            self._buffer.add(checked)
            self._accepted += 1
            if len(self._buffer.events) >= MAX_BATCH:
                self._changed.notify_all()
        return checked

    @property
    def pending(self) -> int:
        with self._changed:
            return len(self._buffer.events)

    def flush(self, timeout: float | None = None) -> bool:
        """Send now what is buffered; whether everything taken before this call left the
        buffer within `timeout` s."""
        with self._changed:
            target = self._accepted
            self._flush_wanted = self._settled < target
            self._changed.notify_all()
            return self._changed.wait_for(lambda: self._settled >= target, timeout)

    def close(self, timeout: float = 10.0) -> list[Event]:
        """Stop taking events, send what is buffered (within `timeout` s) and stop; the
        events that could not be sent (none, normally). Called at interpreter exit too."""
        atexit.unregister(self.close)
        with self._changed:
            self._closing = True
            self._deadline = self._clock() + timeout
            self._changed.notify_all()
        self._thread.join(timeout + 1.0)
        with self._changed:
            left = list(self._buffer.events)
        if left:
            logger.warning("audit log: %d events could not be sent before the recorder closed", len(left))
        return left

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ready(self) -> bool:
        events = len(self._buffer.events)
        return events > 0 and (
            events >= MAX_BATCH or self._flush_wanted or self._closing or self._buffer.waited() >= self.flush_interval
        )

    def _send_loop(self) -> None:
        pause = RETRY_PAUSE
        while True:
            with self._changed:
                while not self._ready():
                    if self._closing:
                        return
                    wait = self.flush_interval - self._buffer.waited() if self._buffer.events else None
                    self._changed.wait(wait)
                chunk = self._buffer.chunk()
            try:
                results = self._log.send_chunk(chunk)
            except AuditLogError as error:  # a failure the client names (NoCredentials too): the thread goes on
                if refused_for_good(error):
                    self._settle(len(chunk), refused=True)
                    self._on_failure(error, chunk)
                    continue
                self.failed_calls += 1
                logger.warning("audit log: sending %d events failed, retrying in %.0f s: %s", len(chunk), pause, error)
                with self._changed:
                    if self._closing:  # the last attempts, within close's timeout
                        remaining = self._deadline - self._clock()
                        if remaining <= 0:
                            return
                        self._changed.wait(min(pause, remaining))
                    else:  # close() cuts the pause short
                        self._changed.wait_for(lambda: self._closing, pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE)
                continue
            pause = RETRY_PAUSE
            self.sent += len(results)
            self._settle(len(chunk), refused=False)

    def _settle(self, count: int, *, refused: bool) -> None:
        with self._changed:
            self._buffer.drop(count)
            self._settled += count
            if refused:
                self.refused += count
            if not self._buffer.events:
                self._flush_wanted = False
            self._changed.notify_all()
