"""Environment of each function, read into typed settings once.

`current(Model)` parses on first use and then answers from a cache keyed by the values of
the model's variables: in Lambda, where the environment never changes, that is one parse
per container; a process whose environment does change (a test, a tool) gets settings
that follow it. Nothing is read at import, so importing a function needs no environment.

The models are plain pydantic models validated from the variables (as the Powertools
parser does with `os.environ`): pydantic-settings would add ~27 ms to every cold start
for sources (dotenv, CLI, secrets files) that a Lambda function does not use.
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

    model_config = ConfigDict(extra="forbid", frozen=True)

    TABLE_NAME: str = Field(min_length=1)
    RETENTION_DAYS: int = Field(default=0, ge=0)


class QuerySettings(BaseModel):
    """What query_log needs: where to read, the key that signs page cursors, and the one
    browser origin (the admin UI) its answers may be read from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TABLE_NAME: str = Field(min_length=1)
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
    # Empty: no CORS headers. Never "*" (template.yaml's AllowedPattern refuses it too).
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")
