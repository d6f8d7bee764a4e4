"""Settings of record_event (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class RecordSettings(BaseModel):
    """What record_event needs: where to write, and how long events live."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)
