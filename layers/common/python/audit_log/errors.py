"""Domain exceptions. `audit_log.http` maps each to one HTTP answer, in one place."""

from typing import Any


class AuditLogError(Exception):
    """Base of every error the functions turn into an HTTP answer."""


class EventAlreadyExists(AuditLogError):
    """A put found an item at the event's key: it was refused, the stored item untouched."""


class KeysAlreadyUsed(AuditLogError):
    """Some idempotency keys of a write already name recorded events.

    `markers` maps each such marker's key to its stored attributes, so the caller can
    answer with the original events without another read.
    """

    def __init__(self, markers: dict[str, dict[str, Any]]) -> None:
        super().__init__(f"{len(markers)} idempotency key(s) already used")
        self.markers = markers


class NotAnAdmin(AuditLogError):
    """A read arrived without an ORG Admin's authorizer context (no organisation, or a
    role other than admin): refused, never served. The authorizer already denies such
    callers; this holds if a route is ever wired without it."""


class InvalidParameter(AuditLogError):
    """A query parameter that passed its own rule but cannot be served (400)."""

    title = "Invalid query parameters"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidCursor(InvalidParameter):
    """A page cursor that was altered, or issued to another organisation or filter set."""

    title = "Invalid cursor"

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)


class WriteContention(AuditLogError):
    """Concurrent writes kept cancelling ours; nothing was written and a retry is safe."""


class StoreUnavailable(AuditLogError):
    """DynamoDB stayed throttled, failing or unreachable through every retry.

    A write either landed whole or not at all (one item or one transaction); a keyed single
    event may have left its marker, from which a retry with the same key writes it. Either
    way a retry with the same idempotency key records the event exactly once.
    """


class EventNotFound(AuditLogError):
    """No event of that id in the caller's organisation (whether or not one exists in
    another: the answer must not tell)."""


class NotYetInCheckpoint(AuditLogError):
    """The event is recorded but no published checkpoint covers it yet; `retry_after`
    seconds is when one should."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("not yet in a published checkpoint")
        self.retry_after = retry_after


class ExportNotFound(AuditLogError):
    """No export of that id in the caller's organisation (whether or not one exists in
    another: the answer must not tell)."""


class StreamNotFound(AuditLogError):
    """No log stream of that id in the caller's organisation (whether or not one exists
    in another: the answer must not tell)."""


class TooManyStreams(AuditLogError):
    """The organisation already has the most log streams it may have."""


class StreamNotPaused(AuditLogError):
    """Resume was asked of a stream that is delivering: there is nothing to resume."""


class StreamRefused(AuditLogError):
    """A new stream is not one we can deliver: a malformed or non-HTTPS URL, a
    host that resolves to a non-public address, a field its type does not take. The
    request is well formed, so 422, with the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
