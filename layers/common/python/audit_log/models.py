"""The API's answer bodies (the request bodies, and every rule of a valid event, are in
event_rules)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Recorded(BaseModel):
    """What the record endpoints answer for each event."""

    event_id: str
    occurred_at: str
    recorded_at: str


class BatchRecorded(Recorded):
    duplicate: bool


class BatchOut(BaseModel):
    events: list[BatchRecorded]


class ActorOut(BaseModel):
    id: str
    type: str
    name: str | None
    email: str | None


class TargetOut(BaseModel):
    type: str
    id: str
    name: str | None


class ContextOut(BaseModel):
    ip_address: str | None
    user_agent: str | None


class EventOut(BaseModel):
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


class LogPage(BaseModel):
    events: list[EventOut]
    next_cursor: str | None


class ActorSeen(BaseModel):
    """An actor of the organisation's events, named as in its most recent one."""

    id: str
    type: str
    name: str | None
    email: str | None
    last_seen_at: str = Field(description="the latest occurred_at among the actor's events")


class ActorsPage(BaseModel):
    actors: list[ActorSeen]
    next_cursor: str | None


class EventTypeSeen(BaseModel):
    event_type: str
    last_seen_at: str = Field(description="the latest occurred_at among the events of this type")


class EventTypesPage(BaseModel):
    event_types: list[EventTypeSeen]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error the functions answer: a summary and the fields at fault, if any."""

    message: str
    errors: list[FieldError]


class CheckpointOut(BaseModel):
    """A signed tree head: `body` is the C2SP tlog-checkpoint text the signature covers;
    the other fields repeat what it states (trust the body, not them)."""

    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 RFC 9162 root hash")
    timestamp: str
    key_id: str = Field(description="hex SHA-256 of the signing key's DER SubjectPublicKeyInfo")
    body: str
    signature: str = Field(description="base64 DER ECDSA P-256 / SHA-256 signature of the UTF-8 body")


class CheckpointPage(BaseModel):
    checkpoints: list[CheckpointOut]
    next_cursor: str | None


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: str
    public_key_pem: str


class ConsistencyOut(BaseModel):
    from_: int = Field(alias="from", serialization_alias="from")
    to: int
    proof: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.4")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class EntryOut(BaseModel):
    leaf_index: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || entry)")
    event: EventOut | None = Field(description="null only for an event removed by retention")


class EntriesPage(BaseModel):
    entries: list[EntryOut]
    next_start: int | None


class InclusionProofOut(BaseModel):
    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    inclusion_path: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.3, from the leaf's sibling up")
    checkpoint: CheckpointOut
