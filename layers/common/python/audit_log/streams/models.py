"""The streams routes' request and response bodies."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from audit_log.event_rules import EventType

StreamType = Literal["webhook", "splunk_hec", "datadog", "s3"]
StreamState = Literal["active", "failing", "paused"]
# Datadog's sites; the logs intake of each is `http-intake.logs.<site>`.
DatadogSite = Literal[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
]
MAX_STREAMS = 5
MAX_URL = 2048
# What each type takes (besides type, event_types and start_leaf), and which of it is secret.
FIELDS: dict[str, tuple[str, ...]] = {
    "webhook": ("url",),
    "splunk_hec": ("url", "token"),
    "datadog": ("site", "api_key"),
    "s3": ("bucket", "role_arn"),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {"s3": ("prefix",)}

Secret = Annotated[SecretStr, Field(min_length=1, max_length=512)]
BucketName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
Prefix = Annotated[str, StringConstraints(max_length=512, pattern=r"^[!-~]*$")]
RoleArn = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
]


class _Body(BaseModel):
    """Every body here is built when first validated or served (`defer_build`): a cold
    start builds none, and a request builds only the ones its route uses."""

    model_config = ConfigDict(defer_build=True)


class StreamIn(_Body):
    """`POST /streams`: a destination of one type, and what to deliver. Which fields a
    type needs (and refuses) is checked by the service, so each error names its field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: StreamType
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)] | None = None
    token: Secret | None = Field(default=None, description="splunk_hec: the HTTP Event Collector token")
    site: DatadogSite | None = None
    api_key: Secret | None = Field(default=None, description="datadog: the API key")
    bucket: BucketName | None = None
    prefix: Prefix | None = Field(default=None, description="s3: put before every object key")
    role_arn: RoleArn | None = Field(
        default=None, description="s3: the role delivery assumes to write (ExternalId: your organisation id)"
    )
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=50)] | None = Field(
        default=None, description="deliver only these event types (default: every event)"
    )
    start_leaf: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        default=None, description="the leaf index to start from (default: the ledger's size now)"
    )


class CreatedBy(_Body):
    id: str
    email: str | None
    name: str | None


class StreamOut(_Body):
    """A stream as the routes answer it: the destination without its secret, and health."""

    stream_id: str
    type: StreamType
    url: str | None = None
    site: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    role_arn: str | None = None
    event_types: list[str] | None
    start_leaf: int
    created_at: str
    created_by: CreatedBy
    state: StreamState
    delivered_up_to: int = Field(description="the leaf index of the first event not yet delivered")
    lag_events: int = Field(description="events in the ledger not yet delivered")
    last_delivery_at: str | None
    last_error: str | None
    consecutive_failures: int
    paused_at: str | None


class StreamCreated(StreamOut):
    secret: str | None = Field(
        description="webhook: the Standard Webhooks signing secret (whsec_…), shown only in this answer"
    )


class StreamsList(_Body):
    streams: list[StreamOut]


class DestinationAnswer(_Body):
    """What the destination said to one test message."""

    delivered: bool
    status_code: int | None
    response: str | None = Field(description="the start of the destination's answer (at most 1 KiB)")
    error: str | None
