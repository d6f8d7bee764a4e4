"""Settings of read_ledger (see audit_log.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class LedgerReadSettings(BaseModel):
    """What the ledger's read routes need: the ledger and the events its entries show
    (with their signals), the key (its public half, and signing the size-0 checkpoint of
    an organisation with nothing sealed yet), the cursor key, and the admin UI's origin."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    TABLE_NAME: str = Field(min_length=1)
    LEDGER_TABLE_NAME: str = Field(min_length=1)
    INVESTIGATION_TABLE_NAME: str = Field(min_length=1)
    SIGNING_KEY_ID: str = Field(min_length=1)
    LEDGER_ORIGIN: str = Field(min_length=1, pattern=r"^[!-*,-~]+$")
    CURSOR_SECRET: str = Field(min_length=1, repr=False)
    ADMIN_ORIGIN: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$")
