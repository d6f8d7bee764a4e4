"""Events as a backend builds them, checked before they are sent.

An `Event` is the service's own model of one event of `POST /events/batch`
(event_rules.py is the service's file, linked into this package): every rule of
DESIGN.md (lengths, patterns, the email and address checks, the 16 KiB and exact-number
rules of `details`, `occurred_at` at most 5 minutes ahead) is checked here by the same
code that checks it there, and a refusal names the same field paths in the same words.

The typed helpers build the platform's three standard events with the fields each
should carry, so that every backend records them alike (and the log's investigation
helpers, which read `context` of logins, find what they need).
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from audit_log_client.errors import FieldError, InvalidEvent
from audit_log_client.event_rules import BatchEventIn, field_errors
from audit_log_client.timestamps import format_utc_ms

Event = BatchEventIn
ActorLike = str | Mapping[str, Any]
TargetLike = Mapping[str, Any]

MAX_BATCH = 25  # events per POST /events/batch (DESIGN.md)


def new_event(
    event_type: str,
    actor: ActorLike,
    *,
    org_id: str | None,
    targets: Sequence[TargetLike] | None = None,
    context: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    occurred_at: str | datetime | None = None,
    idempotency_key: str | None = None,
) -> Event:
    """A checked event; InvalidEvent (with `status` None: nothing was sent) naming each
    field the service would refuse. `actor` may be a user id alone. A datetime for
    `occurred_at` must be timezone-aware. An idempotency key is made when none is given:
    it is what keeps a retried event from being recorded twice, so it is fixed here,
    once, before the first attempt."""
    body: dict[str, Any] = {
        "org_id": org_id,
        "event_type": event_type,
        "actor": {"id": actor} if isinstance(actor, str) else dict(actor),
        "idempotency_key": idempotency_key if idempotency_key is not None else new_idempotency_key(),
    }
    if targets is not None:
        body["targets"] = [dict(target) for target in targets]
    if context is not None:
        body["context"] = dict(context)
    if details is not None:
        body["details"] = dict(details)
    if occurred_at is not None:
        body["occurred_at"] = _timestamp(occurred_at)
    return checked(body)


def checked(body: Mapping[str, Any], within: Sequence[str | int] = ()) -> Event:
    """`body` (one event as JSON would carry it) validated by the service's rules."""
    if body.get("org_id") is None:
        body = {key: value for key, value in body.items() if key != "org_id"}
    try:
        event = Event.model_validate(body)
    except ValidationError as exc:
        errors = tuple(FieldError(path, message) for path, message in field_errors(exc, within))
        raise InvalidEvent("the event breaks the service's rules (not sent)", errors) from exc
    if event.idempotency_key is None:
        event = event.model_copy(update={"idempotency_key": new_idempotency_key()})
    return event


def as_event(event: Event | Mapping[str, Any], within: Sequence[str | int] = ()) -> Event:
    """An Event as it is; a mapping (a JSON event) checked, with a key made if it has none."""
    return event if isinstance(event, Event) and event.idempotency_key is not None else checked(_json(event), within)


def _json(event: Event | Mapping[str, Any]) -> Mapping[str, Any]:
    return event.model_dump(exclude_unset=True) if isinstance(event, Event) else event


def new_idempotency_key() -> str:
    return f"alc-{uuid.uuid4()}"


def wire(event: Event, *, with_key: bool) -> dict[str, Any]:
    """The JSON the service is sent: only the fields given (the service fills the
    defaults itself), the key inside only for a batch (a single POST sends it as the
    `Idempotency-Key` header)."""
    body = event.model_dump(mode="json", exclude_unset=True, exclude={"idempotency_key"})
    if with_key:
        body["idempotency_key"] = event.idempotency_key
    return body


def _timestamp(value: str | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidEvent(
                "the event breaks the service's rules (not sent)",
                (FieldError("occurred_at", "must be timezone-aware (a naive datetime names no instant)"),),
            )
        return format_utc_ms(value)
    return value


def _context(ip_address: str | None, user_agent: str | None) -> dict[str, str] | None:
    context = {name: value for name, value in (("ip_address", ip_address), ("user_agent", user_agent)) if value}
    return context or None


# --- the platform's standard events ---------------------------------------------------


def user_login(
    org_id: str,
    user: ActorLike,
    *,
    ip_address: str,
    user_agent: str,
    method: str | None = None,
    mfa: bool | None = None,
    occurred_at: str | datetime | None = None,
    idempotency_key: str | None = None,
) -> Event:
    """`user.login`: a user authenticated. The address and user agent are required: the
    log marks a login from a new one (`signals`), which is what admins look for. `method`
    (`password`, `sso`, `passkey`, …) and `mfa` go into `details` when given."""
    details: dict[str, Any] = {}
    if method is not None:
        details["method"] = method
    if mfa is not None:
        details["mfa"] = mfa
    return new_event(
        "user.login",
        user,
        org_id=org_id,
        context=_context(ip_address, user_agent) or {},
        details=details or None,
        occurred_at=occurred_at,
        idempotency_key=idempotency_key,
    )


def settings_updated(
    org_id: str,
    admin: ActorLike,
    *,
    changed: Sequence[str],
    targets: Sequence[TargetLike] = (),
    ip_address: str | None = None,
    user_agent: str | None = None,
    occurred_at: str | datetime | None = None,
    idempotency_key: str | None = None,
) -> Event:
    """`organisation.settings_updated`: an ORG Admin saved settings. `changed` names the
    settings saved (`api_keys`, `sso`, …; at least one), `targets` what they touched (an
    API key: `{"type": "api_key", "id": …}`), so the history of one key can be read."""
    if isinstance(changed, str) or not changed:
        raise InvalidEvent(
            "the event breaks the service's rules (not sent)",
            (FieldError("details.changed", "must list the settings saved, at least one"),),
        )
    return new_event(
        "organisation.settings_updated",
        admin,
        org_id=org_id,
        targets=targets,
        context=_context(ip_address, user_agent),
        details={"changed": list(changed)},
        occurred_at=occurred_at,
        idempotency_key=idempotency_key,
    )


def member_invited(
    org_id: str,
    admin: ActorLike,
    *,
    invitee_id: str,
    invitee_email: str,
    invitee_name: str | None = None,
    role: str = "member",
    ip_address: str | None = None,
    user_agent: str | None = None,
    occurred_at: str | datetime | None = None,
    idempotency_key: str | None = None,
) -> Event:
    """`member.invited`: a new user was added to the organisation. The invitee is the
    target (so their history starts here); their email and role are in `details`."""
    target: dict[str, Any] = {"type": "user", "id": invitee_id}
    if invitee_name is not None:
        target["name"] = invitee_name
    return new_event(
        "member.invited",
        admin,
        org_id=org_id,
        targets=[target],
        context=_context(ip_address, user_agent),
        details={"role": role, "invitee_email": invitee_email},
        occurred_at=occurred_at,
        idempotency_key=idempotency_key,
    )
