"""The four destinations behind one interface: `deliver` a batch, `send_test` one
message, and `checked` to accept a new stream's destination (or refuse it, naming the
field)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from audit_log.errors import StreamRefused
from audit_log.streams import datadog, s3, splunk_hec, webhook
from audit_log.streams.addresses import check_url
from audit_log.streams.formats import LeafEvent, Outcome, Stream
from audit_log.streams.models import FIELDS, OPTIONAL_FIELDS, StreamIn
from audit_log.streams.transport import Answer

SECRET_FIELDS = {"splunk_hec": "token", "datadog": "api_key"}
_ALL_FIELDS = ("url", "token", "site", "api_key", "bucket", "prefix", "role_arn")


class Destination(Protocol):
    def deliver(
        self, stream: Stream, events: Sequence[LeafEvent], *, allow_private: bool, now: datetime
    ) -> Outcome: ...

    def send_test(self, stream: Stream, *, allow_private: bool, now: datetime, test_id: str) -> Answer: ...


# Each module is a Destination (mypy checks modules against protocols).
DESTINATIONS: dict[str, Destination] = {"webhook": webhook, "splunk_hec": splunk_hec, "datadog": datadog, "s3": s3}


def checked(body: StreamIn, *, allow_private: bool) -> tuple[dict[str, Any], str | None]:
    """(the destination's fields to store, its secret as given or None). Every field the
    type needs must be there and nothing of another type may be; a URL must pass the
    address checks now (and passes them again at every delivery)."""
    wanted, optional = FIELDS[body.type], OPTIONAL_FIELDS.get(body.type, ())
    for name in _ALL_FIELDS:
        given = getattr(body, name) is not None
        if name in wanted and not given:
            raise StreamRefused(name, f"is required for a {body.type} stream")
        if given and name not in wanted and name not in optional:
            raise StreamRefused(name, f"is not a field of a {body.type} stream")
    if "url" in wanted:
        assert body.url is not None
        check_url(body.url, allow_private=allow_private)
    secret_field = SECRET_FIELDS.get(body.type)
    secret = getattr(body, secret_field).get_secret_value() if secret_field else None
    fields = {
        name: getattr(body, name)
        for name in (*wanted, *optional)
        if name != secret_field and getattr(body, name) is not None
    }
    return fields, secret
