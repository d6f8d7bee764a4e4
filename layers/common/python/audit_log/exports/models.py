"""The exports routes' request and response bodies."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audit_log.event_rules import EventType, Identifier, Rfc3339, TargetType

ExportFormat = Literal["csv", "ndjson"]
ExportState = Literal["queued", "running", "succeeded", "failed"]


class _Body(BaseModel):
    """Every body here is built when first validated or served (`defer_build`): a cold
    start builds none, and a request builds only the ones its route uses."""

    model_config = ConfigDict(defer_build=True)


class ExportIn(_Body):
    """`POST /exports`: a format and the filters of `GET /events` (unknown fields are an
    error, as everywhere: a misspelt filter must not export the whole log)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: ExportFormat
    event_type: EventType | None = None
    actor_id: Identifier | None = None
    since: Rfc3339 | None = None
    until: Rfc3339 | None = None
    target_type: TargetType | None = None
    target_id: Identifier | None = None


class ExportFilters(_Body):
    """The filters an export was made with, as given (every key present, null if unset)."""

    event_type: str | None
    actor_id: str | None
    since: str | None
    until: str | None
    target_type: str | None
    target_id: str | None


class RequestedBy(_Body):
    id: str
    email: str | None
    name: str | None


class ExportOut(_Body):
    """An export as the routes answer it; `download_url` (and `proof_url` for NDJSON) are
    fresh presigned URLs, valid until `download_expires_at`, once it succeeded."""

    export_id: str
    format: ExportFormat
    filters: ExportFilters
    state: ExportState
    events: int = Field(description="events written so far (all of them once succeeded)")
    created_at: str
    completed_at: str | None
    requested_by: RequestedBy
    download_url: str | None
    proof_url: str | None = Field(description="NDJSON only: the proof that every exported event is in the ledger")
    download_expires_at: str | None
    error: str | None = Field(description="why a failed export failed")


class ExportsPage(_Body):
    exports: list[ExportOut]
    next_cursor: str | None
