"""Settings of the log-streams API, its dispatcher and its delivery (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


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
