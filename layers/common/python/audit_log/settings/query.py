"""Settings of query_log (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


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
