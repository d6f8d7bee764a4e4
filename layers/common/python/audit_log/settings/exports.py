"""Settings of the exports API and its worker (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class ExportSettings(BaseModel):
    """What the exports routes need: the log they record each request in (and its
    retention, as record_event applies it), the exports table, bucket and work queue,
    the cursor key and the admin UI's origin."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    EXPORTS_TABLE_NAME: str = Field(min_length=1)
    EXPORT_BUCKET: str = Field(min_length=1)
    EXPORT_QUEUE_URL: str = Field(min_length=1)
    EXPORT_RETENTION_DAYS: int = Field(default=7, ge=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")


class ExportWorkerSettings(BaseModel):
    """What the export worker needs: the log and what is derived from it (the same reads
    as GET /events), the ledger (for NDJSON proofs), the exports table, bucket and queue,
    and the size of each part of a file (S3's least is 5 MiB)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    EXPORTS_TABLE_NAME: str = Field(min_length=1)
    EXPORT_BUCKET: str = Field(min_length=1)
    EXPORT_QUEUE_URL: str = Field(min_length=1)
    EXPORT_PART_BYTES: int = Field(default=8 * 1024 * 1024, ge=1)
