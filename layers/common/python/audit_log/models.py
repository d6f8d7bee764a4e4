"""The API's answer bodies (the request bodies, and every rule of a valid event, are in
event_rules).

Each function answers with a few of these models; pydantic builds a model's validator and
serializer when it is first used, not when this module is imported (`defer_build`), so
no cold start pays for the models of the other functions' routes.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Recorded(_Answer):
    """What the record endpoints answer for each event."""

    event_id: str
    occurred_at: str
    recorded_at: str


class BatchRecorded(Recorded):
    duplicate: bool


class BatchOut(_Answer):
    events: list[BatchRecorded]


class ActorOut(_Answer):
    id: str
    type: str
    name: str | None
    email: str | None


class TargetOut(_Answer):
    type: str
    id: str
    name: str | None


class ContextOut(_Answer):
    ip_address: str | None
    user_agent: str | None


class EventOut(_Answer):
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


class LogPage(_Answer):
    events: list[EventOut]
    next_cursor: str | None


class ActorSeen(_Answer):
    """An actor of the organisation's events, named as in its most recent one."""

    id: str
    type: str
    name: str | None
    email: str | None
    last_seen_at: str = Field(description="the latest occurred_at among the actor's events")


class ActorsPage(_Answer):
    actors: list[ActorSeen]
    next_cursor: str | None


class EventTypeSeen(_Answer):
    event_type: str
    last_seen_at: str = Field(description="the latest occurred_at among the events of this type")


class EventTypesPage(_Answer):
    event_types: list[EventTypeSeen]


class FieldError(_Answer):
    field: str
    message: str


class ErrorBody(_Answer):
    """Every error the functions answer: a summary and the fields at fault, if any."""

    message: str
    errors: list[FieldError]


class CheckpointOut(_Answer):
    """A signed tree head: `body` is the C2SP tlog-checkpoint text the signature covers;
    the other fields repeat what it states (trust the body, not them)."""

    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 RFC 9162 root hash")
    timestamp: str
    key_id: str = Field(description="hex SHA-256 of the signing key's DER SubjectPublicKeyInfo")
    body: str
    signature: str = Field(description="base64 DER ECDSA P-256 / SHA-256 signature of the UTF-8 body")


class CheckpointPage(_Answer):
    checkpoints: list[CheckpointOut]
    next_cursor: str | None


class PublicKeyOut(_Answer):
    key_id: str
    algorithm: str
    public_key_pem: str


class ConsistencyOut(_Answer):
    from_: int = Field(alias="from", serialization_alias="from")
    to: int
    proof: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.4")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class EntryOut(_Answer):
    leaf_index: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || entry)")
    event: EventOut | None = Field(description="null only for an event removed by retention")


class EntriesPage(_Answer):
    entries: list[EntryOut]
    next_start: int | None


class InclusionProofOut(_Answer):
    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    inclusion_path: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.3, from the leaf's sibling up")
    checkpoint: CheckpointOut
