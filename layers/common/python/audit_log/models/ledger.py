"""read_ledger's answers: checkpoints, the public key, entries and RFC 9162 proofs."""

from pydantic import ConfigDict, Field

from audit_log.models import Answer
from audit_log.models.events import EventOut


class CheckpointOut(Answer):
    """A signed tree head: `body` is the C2SP tlog-checkpoint text the signature covers;
    the other fields repeat what it states (trust the body, not them)."""

    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 RFC 9162 root hash")
    timestamp: str
    key_id: str = Field(description="hex SHA-256 of the signing key's DER SubjectPublicKeyInfo")
    body: str
    signature: str = Field(description="base64 DER ECDSA P-256 / SHA-256 signature of the UTF-8 body")


class CheckpointPage(Answer):
    checkpoints: list[CheckpointOut]
    next_cursor: str | None


class PublicKeyOut(Answer):
    key_id: str
    algorithm: str
    public_key_pem: str


class ConsistencyOut(Answer):
    from_: int = Field(alias="from", serialization_alias="from")
    to: int
    proof: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.4")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class EntryOut(Answer):
    leaf_index: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || entry)")
    event: EventOut | None = Field(description="null only for an event removed by retention")


class EntriesPage(Answer):
    entries: list[EntryOut]
    next_start: int | None


class InclusionProofOut(Answer):
    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    inclusion_path: list[str] = Field(description="base64 hashes, RFC 9162 §2.1.3, from the leaf's sibling up")
    checkpoint: CheckpointOut
