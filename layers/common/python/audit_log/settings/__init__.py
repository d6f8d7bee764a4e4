"""Environment of each function, read into typed settings once.

`current(Model)` parses on first use and then answers from a cache keyed by the values of
the model's variables: in Lambda, where the environment never changes, that is one parse
per container; a process whose environment does change (a test, a tool) gets settings
that follow it. Nothing is read at import, so importing a function needs no environment.

The models are plain pydantic models validated from the variables (as the Powertools
parser does with `os.environ`): pydantic-settings would add ~27 ms to every cold start
for sources (dotenv, CLI, secrets files) that a Lambda function does not use. Each model
is built when first parsed (`defer_build`), and each function's models are in their own
module here, so a function imports and builds only its own.
"""

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel

_Settings = TypeVar("_Settings", bound=BaseModel)


def current(model: type[_Settings]) -> _Settings:
    """`model` as the environment defines it now (a missing or malformed variable raises)."""
    settings: _Settings = _parse(model, tuple(os.environ.get(name) for name in model.model_fields))
    return settings


@cache
def _parse(model: type[_Settings], values: tuple[str | None, ...]) -> _Settings:
    set_ = {name: value for name, value in zip(model.model_fields, values, strict=True) if value is not None}
    return model.model_validate(set_)
