"""Environment of each function, read into typed settings once.

`current(Model)` parses on first use and then answers from a cache keyed by the values of
the model's variables: in Lambda, where the environment never changes, that is one parse
per container; a process whose environment does change (a test, a tool) gets settings
that follow it. Nothing is read at import, so importing a function needs no environment.

The models are plain pydantic models validated from the variables (as the Powertools
parser does with `os.environ`): pydantic-settings would add ~27 ms to every cold start
for sources (dotenv, CLI, secrets files) that a Lambda function does not use. Each model
is built when first parsed (`defer_build`), so a function builds only its own.
"""

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

_Settings = TypeVar("_Settings", bound=BaseModel)


def current(model: type[_Settings]) -> _Settings:
    """`model` as the environment defines it now (a missing or malformed variable raises)."""
    settings: _Settings = _parse(model, tuple(os.environ.get(name) for name in model.model_fields))
    return settings


@cache
def _parse(model: type[_Settings], values: tuple[str | None, ...]) -> _Settings:
    set_ = {name: value for name, value in zip(model.model_fields, values, strict=True) if value is not None}
    return model.model_validate(set_)


class RecordSettings(BaseModel):
    """What record_event needs: where to write, and how long events live."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)


class QuerySettings(BaseModel):
    """What query_log needs: where to read (the log, and what is derived from it), the
    key that signs page cursors, and the one browser origin (the admin UI) its answers
    may be read from."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
    # Empty: no CORS headers. Never "*" (template.yaml's AllowedPattern refuses it too).
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")


class SealSettings(BaseModel):
    """What seal_log needs: the events it seals, the ledger it appends to, the key that
    signs checkpoints, the bucket that keeps their locked copies, the queue that calls it
    back when a checkpoint falls due, and how often one may be published."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    SIGNING_KEY_ID: str = Field(min_length=1)
    CHECKPOINT_BUCKET: str = Field(min_length=1)
    CHECKPOINT_QUEUE_URL: str = Field(min_length=1)
    CHECKPOINT_INTERVAL_SECONDS: int = Field(default=10, ge=0, le=900)  # SQS delays reach 15 minutes
    LEDGER_ORIGIN: str = Field(min_length=1, pattern=r"^[!-*,-~]+$")  # printable, no space or '+'


class LedgerReadSettings(BaseModel):
    """What the ledger's read routes need: the ledger and the events its entries show
    (with their signals), the key (its public half, and signing the size-0 checkpoint of
    an organisation with nothing sealed yet), the cursor key, and the admin UI's origin."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)
    SIGNING_KEY_ID: str = Field(min_length=1)
    LEDGER_ORIGIN: str = Field(min_length=1, pattern=r"^[!-*,-~]+$")
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")


class IndexSettings(BaseModel):
    """What index_events needs: the investigation table it keeps up to date."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)


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


class StreamSettings(BaseModel):
    """What the streams routes need: the log they record each change in (and its
    retention), the streams table, the key that encrypts destination secrets, the queue
    that wakes delivery, the ledger (a new stream starts at its size), whether private
    and plain-HTTP destinations are allowed (local development only), and the admin UI's
    origin."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    STREAMS_TABLE_NAME: str = Field(min_length=1)
    STREAMS_KEY_ID: str = Field(min_length=1)
    STREAM_QUEUE_URL: str = Field(min_length=1)
    ALLOW_PRIVATE_DESTINATIONS: bool = False
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")


class StreamDeliverySettings(BaseModel):
    """What delivery needs: the events it sends and the log it records a pause in, the
    ledger whose order it follows, the streams table, the key of the secrets, its own
    queue (retries and continuations), and whether private destinations are allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    STREAMS_TABLE_NAME: str = Field(min_length=1)
    STREAM_QUEUE_URL: str = Field(min_length=1)
    ALLOW_PRIVATE_DESTINATIONS: bool = False


class StreamDispatchSettings(BaseModel):
    """What the dispatcher needs: the streams table and the queue it wakes them on."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    STREAMS_TABLE_NAME: str = Field(min_length=1)
    STREAM_QUEUE_URL: str = Field(min_length=1)
