"""Settings of seal_log (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class SealSettings(BaseModel):
    """What seal_log needs: the events it seals, the ledger it appends to, the key that
    signs checkpoints, the bucket that keeps their locked copies, the queue that calls it
    back when a checkpoint falls due, and how often one may be published."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    SIGNING_KEY_ID: str = Field(min_length=1)
    CHECKPOINT_BUCKET: str = Field(min_length=1)
    CHECKPOINT_QUEUE_URL: str = Field(min_length=1)
    CHECKPOINT_INTERVAL_SECONDS: int = Field(default=10, ge=0, le=900)  # SQS delays reach 15 minutes
    LEDGER_ORIGIN: str = Field(min_length=1, pattern=r"^[!-*,-~]+$")  # printable, no space or '+'
