"""Audit Log client: record events from a platform backend (SigV4-signed, retried with
one idempotency key, batched 25 to a call), read and export an organisation's log, and
verify its ledger offline (checkpoints, inclusion and consistency proofs) or audit it
whole against the API.

The verifier depends on nothing of the service's code: it reimplements the public
contract (RFC 9162 hashing, RFC 8785 entries, C2SP checkpoints, ECDSA P-256 signatures)
so that whoever runs it trusts only the published key. Events, by contrast, are checked
by the service's own rules (event_rules.py is the service's file), so that the client
and the service cannot disagree on what a valid event is.
"""

__version__ = "0.2.0"

import importlib
from typing import TYPE_CHECKING, Any

# The recording client's names, importable from the package. Loaded on first use, so the
# verifier's command line does not import httpx, botocore and pydantic it has no use for.
_EXPORTS = {
    "AsyncBatch": "batching",
    "BackgroundRecorder": "batching",
    "Batch": "batching",
    "Recorded": "calls",
    "AsyncAuditLog": "client",
    "AuditLog": "client",
    "AccessDenied": "errors",
    "ApiError": "errors",
    "AuditLogError": "errors",
    "BufferFull": "errors",
    "FieldError": "errors",
    "InvalidEvent": "errors",
    "NoCredentials": "errors",
    "Unavailable": "errors",
    "Event": "events",
    "member_invited": "events",
    "new_event": "events",
    "settings_updated": "events",
    "user_login": "events",
    "RetryPolicy": "exchange",
}
__all__ = [
    "AccessDenied",
    "ApiError",
    "AsyncAuditLog",
    "AsyncBatch",
    "AuditLog",
    "AuditLogError",
    "BackgroundRecorder",
    "Batch",
    "BufferFull",
    "Event",
    "FieldError",
    "InvalidEvent",
    "NoCredentials",
    "Recorded",
    "RetryPolicy",
    "Unavailable",
    "__version__",
    "member_invited",
    "new_event",
    "settings_updated",
    "user_login",
]

if TYPE_CHECKING:
    from audit_log_client.batching import AsyncBatch, BackgroundRecorder, Batch
    from audit_log_client.calls import Recorded
    from audit_log_client.client import AsyncAuditLog, AuditLog
    from audit_log_client.errors import (
        AccessDenied,
        ApiError,
        AuditLogError,
        BufferFull,
        FieldError,
        InvalidEvent,
        NoCredentials,
        Unavailable,
    )
    from audit_log_client.events import Event, member_invited, new_event, settings_updated, user_login
    from audit_log_client.exchange import RetryPolicy


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'audit_log_client' has no attribute {name!r}")
    return getattr(importlib.import_module(f"audit_log_client.{module}"), name)
