"""The log records its own use: requesting an export and changing a log stream are
events in the organisation's own log, with the ORG Admin (or, for what the service does
by itself, the service) as the actor."""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from audit_log.errors import InvalidParameter
from audit_log.event_rules import EventIn

MAX_ACTOR_ID = 128
MAX_USER_AGENT = 1024
SERVICE_ACTOR = {"id": "audit-log", "type": "system", "name": "Audit Log"}


@dataclass(frozen=True)
class Requester:
    """The ORG Admin asking, as the authorizer vouched for them, and where from."""

    org_id: str
    user_id: str
    email: str | None
    name: str | None
    ip_address: str | None
    user_agent: str | None


def admin_event(requester: Requester, event_type: str, target: dict[str, str], details: dict[str, Any]) -> EventIn:
    """`event_type` with the admin as actor. A name or email the log's own rules refuse
    (the identity provider's claims are not checked against them) is left out rather
    than failing the request; an IP address likewise."""
    if len(requester.user_id) > MAX_ACTOR_ID:
        raise InvalidParameter(
            "Authorization", f"the token's sub is longer than an actor id's {MAX_ACTOR_ID} characters"
        )
    event: dict[str, Any] = {
        "org_id": requester.org_id,
        "event_type": event_type,
        "actor": {"id": requester.user_id, "type": "user", "name": requester.name, "email": requester.email},
        "targets": [target],
        "context": {
            "ip_address": requester.ip_address,
            "user_agent": requester.user_agent[:MAX_USER_AGENT] if requester.user_agent else None,
        },
        "details": details,
    }
    try:
        return EventIn.model_validate(event)
    except ValidationError as invalid:
        for error in invalid.errors():
            location = error["loc"]
            if location[:1] in (("actor",), ("context",)) and len(location) > 1:
                event[str(location[0])][str(location[1])] = None
        return EventIn.model_validate(event)


def service_event(org_id: str, event_type: str, target: dict[str, str], details: dict[str, Any]) -> EventIn:
    """`event_type` with the service itself as actor (a stream paused after failing)."""
    return EventIn.model_validate(
        {"org_id": org_id, "event_type": event_type, "actor": SERVICE_ACTOR, "targets": [target], "details": details}
    )
