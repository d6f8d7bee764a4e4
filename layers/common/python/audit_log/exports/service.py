"""What the exports routes do: start an export (recorded in the log it exports), show
one with fresh download links, list the organisation's exports."""

import re
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit_log.cursors import decode_cursor, encode_cursor
from audit_log.errors import ExportNotFound, StoreUnavailable
from audit_log.event_rules import EventIn
from audit_log.exports import objects, storage
from audit_log.exports.models import ExportFilters, ExportIn, ExportOut, ExportsPage, RequestedBy
from audit_log.exports.worker import WorkMessage, queue_step
from audit_log.own_use import Requester, admin_event
from audit_log.querying import Filters
from audit_log.recording import record_events
from audit_log.settings.exports import ExportSettings
from audit_log.timestamps import format_utc_ms, utc_now

EXPORTED = "audit_log.exported"
_EXPORT_ID = re.compile(r"exp_[0-9A-HJKMNP-TV-Z]{26}")
_LIST_DIGEST = "exports"  # what a list cursor is bound to: there are no filters


def _exported_event(requester: Requester, export_id: str, body: ExportIn) -> EventIn:
    filters = body.model_dump(exclude={"format"}, exclude_none=True)
    return admin_event(
        requester, EXPORTED, {"type": "export", "id": export_id}, {"format": body.format, "filters": filters}
    )


def start_export(requester: Requester, body: ExportIn, settings: ExportSettings) -> ExportOut:
    """Record the request in the log, store the export and queue its first step.

    The log comes first: an export never exists without its `audit_log.exported` event
    (the event's idempotency key is the export id, so it is written once)."""
    # Refused as GET /events refuses them (a range backwards, half a target); the worker
    # makes the same Filters from what is stored.
    Filters.from_query(body.event_type, body.actor_id, body.since, body.until, body.target_type, body.target_id)
    export_id = storage.new_export_id()
    event = _exported_event(requester, export_id, body)
    record_events([(event, export_id)], table_name=settings.TABLE_NAME, retention_days=settings.RETENTION_DAYS)
    now = utc_now()
    item = {
        "pk": storage.exports_pk(requester.org_id),
        "sk": export_id,
        "export_id": export_id,
        "org_id": requester.org_id,
        "format": body.format,
        "filters": body.model_dump(exclude={"format"}),
        "state": "queued",
        "events": 0,
        "created_at": format_utc_ms(now),
        "requested_by": {"id": requester.user_id, "email": requester.email, "name": requester.name},
        "step": 0,
        "phase": "write",
        "expires_at": int((now + timedelta(days=settings.EXPORT_RETENTION_DAYS)).timestamp()),
    }
    storage.put_new(settings.EXPORTS_TABLE_NAME, item)
    try:
        queue_step(settings.EXPORT_QUEUE_URL, WorkMessage(requester.org_id, export_id, 0))
    except (ClientError, BotoCoreError) as error:
        reason = "the export could not be queued; request it again"
        storage.fail(settings.EXPORTS_TABLE_NAME, requester.org_id, export_id, reason, format_utc_ms(utc_now()))
        raise StoreUnavailable(f"SQS: {type(error).__name__}") from error
    return export_out(item, settings.EXPORT_BUCKET)


def get_export(org_id: str, export_id: str, settings: ExportSettings) -> ExportOut:
    if not _EXPORT_ID.fullmatch(export_id):
        raise ExportNotFound(export_id)
    item = storage.get(settings.EXPORTS_TABLE_NAME, org_id, export_id)
    if item is None:
        raise ExportNotFound(export_id)
    return export_out(item, settings.EXPORT_BUCKET)


def list_exports(org_id: str, limit: int, cursor: str | None, settings: ExportSettings) -> ExportsPage:
    """The organisation's exports, newest first; links only in `GET /exports/{id}`, so a
    list never presigns a page of URLs nobody asked for."""
    after = decode_cursor(settings.CURSOR_SECRET, org_id, _LIST_DIGEST, cursor) if cursor is not None else None
    found = storage.newest_first(settings.EXPORTS_TABLE_NAME, org_id, after, limit)
    next_cursor = (
        encode_cursor(settings.CURSOR_SECRET, org_id, _LIST_DIGEST, found.last_key) if found.last_key else None
    )
    return ExportsPage(exports=[export_out(item, None) for item in found.items], next_cursor=next_cursor)


def export_out(item: dict[str, Any], bucket: str | None) -> ExportOut:
    """The export as served; with `bucket`, a succeeded one carries fresh presigned links."""
    download_url = proof_url = expires_at = None
    export_id, file_format, org_id = item["export_id"], item["format"], item["org_id"]
    # DynamoDB's TTL deletes an expired export up to a few days late; its file is gone
    # by then, so no link is made for it.
    expired = "expires_at" in item and int(item["expires_at"]) <= int(utc_now().timestamp())
    if bucket is not None and item["state"] == "succeeded" and not expired:
        expires_at = format_utc_ms(utc_now() + objects.DOWNLOAD_VALIDITY)
        download_url = objects.presigned_download(
            bucket,
            objects.file_key(org_id, export_id, file_format),
            f"{export_id}.{file_format}",
            objects.CONTENT_TYPES[file_format],
        )
        if file_format == "ndjson":
            proof_url = objects.presigned_download(
                bucket, objects.proof_key(org_id, export_id), f"{export_id}.proof.json", "application/json"
            )
    given = item["filters"]
    return ExportOut(
        export_id=export_id,
        format=file_format,
        filters=ExportFilters(**{name: given.get(name) for name in ExportFilters.model_fields}),
        state=item["state"],
        events=int(item.get("events", 0)),
        created_at=item["created_at"],
        completed_at=item.get("completed_at"),
        requested_by=RequestedBy(**item["requested_by"]),
        download_url=download_url,
        proof_url=proof_url,
        download_expires_at=expires_at,
        error=item.get("error"),
    )
