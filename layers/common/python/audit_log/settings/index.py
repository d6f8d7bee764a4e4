"""Settings of index_events (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class IndexSettings(BaseModel):
    """What index_events needs: the investigation table it keeps up to date."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)
