"""The API's answer bodies (the request bodies, and every rule of a valid event, are in
event_rules): the error body every function answers with here, each function's own in
the modules beside it.

Each function answers with a few of these models, and imports only the module of its
own; pydantic builds a model's validator and serializer when it is first used, not when
its module is imported (`defer_build`), so no cold start pays for the models of the
other functions' routes.
"""

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """What every answer model is: built on first use."""

    model_config = ConfigDict(defer_build=True)


class FieldError(Answer):
    field: str
    message: str


class ErrorBody(Answer):
    """Every error the functions answer: a summary and the fields at fault, if any."""

    message: str
    errors: list[FieldError]
