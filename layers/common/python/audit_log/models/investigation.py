"""The investigation helpers' answers: the actors and the event types an organisation's log has seen."""

from pydantic import Field

from audit_log.models import Answer


class ActorSeen(Answer):
    """An actor of the organisation's events, named as in its most recent one."""

    id: str
    type: str
    name: str | None
    email: str | None
    last_seen_at: str = Field(description="the latest occurred_at among the actor's events")


class ActorsPage(Answer):
    actors: list[ActorSeen]
    next_cursor: str | None


class EventTypeSeen(Answer):
    event_type: str
    last_seen_at: str = Field(description="the latest occurred_at among the events of this type")


class EventTypesPage(Answer):
    event_types: list[EventTypeSeen]
