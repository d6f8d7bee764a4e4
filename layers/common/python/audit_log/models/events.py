"""The answers about events: what record_event answers for each recorded event, and the log pages query_log serves."""

from typing import Any, Literal

from pydantic import Field

from audit_log.models import Answer


class Recorded(Answer):
    """What the record endpoints answer for each event."""

    event_id: str
    occurred_at: str
    recorded_at: str


class BatchRecorded(Recorded):
    duplicate: bool


class BatchOut(Answer):
    events: list[BatchRecorded]


class ActorOut(Answer):
    id: str
    type: str
    name: str | None
    email: str | None


class TargetOut(Answer):
    type: str
    id: str
    name: str | None


class ContextOut(Answer):
    ip_address: str | None
    user_agent: str | None


class EventOut(Answer):
    """An event as `GET /events` serves it: every key always present."""

    event_id: str
    event_type: str
    occurred_at: str
    recorded_at: str
    actor: ActorOut
    targets: list[TargetOut]
    context: ContextOut
    details: dict[str, Any]
    signals: list[Literal["new_ip", "new_user_agent"]] = Field(
        default=[],
        description="Derived after recording, never part of the recorded event: for user.login, new_ip (the "
        "actor's first login from this IP address in this organisation) and new_user_agent (likewise); [] "
        "otherwise or until derived",
    )


class LogPage(Answer):
    events: list[EventOut]
    next_cursor: str | None
