"""Environment of each function, read once into typed settings.

Functions build their settings at import time, so a missing or malformed variable fails
the cold start loudly instead of the first request quietly.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RecordSettings(BaseSettings):
    """What record_event needs: where to write, and how long events live."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)


class QuerySettings(BaseSettings):
    """What query_log needs: where to read, and the key that signs page cursors."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    TABLE_NAME: str = Field(min_length=1)
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
