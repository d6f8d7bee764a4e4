"""What one batch of the events table's stream changes in the investigation table.

Everything here is derived after recording, so the record path gains no read or write,
and everything is idempotent, so a redelivered or retried batch changes nothing:

- actors and event types move forward only (conditional updates on the newest event
  applied), so name changes take the newest and an older event never undoes them;
- each event is copied under each of its targets (the same item each time);
- a `user.login` claims "first login of this actor with this IP / user agent" only if no
  earlier-occurring login holds it; an event it displaces (recorded first, occurred
  later) loses the signal.

A batch is applied per organisation; when one fails, its first record is reported and
Lambda retries from there (the other organisations' work is found done again).
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError

from audit_log.errors import StoreUnavailable
from audit_log.investigation import storage
from audit_log.investigation.terms import actor_terms, term_key
from audit_log.observability import logger
from audit_log.stream_records import is_new_event

# What makes one organisation's indexing fail this time; its records are retried.
INDEXING_FAILURES = (StoreUnavailable, ClientError, BotoCoreError)
LOGIN = "user.login"
# The signal each context value of a login gives when it is the actor's first.
FIRST_LOGIN_SIGNALS = {"ip_address": "new_ip", "user_agent": "new_user_agent"}
# Index keys of the events table: a copy is not in any index of the investigation table.
_NOT_COPIED = ("pk", "type_pk", "actor_pk")


@dataclass(frozen=True)
class RecordedEvent:
    """A new event as its stream record holds it: `image` deserialised, `wire` as
    DynamoDB stores it (what is copied under each target)."""

    sequence: str
    org_id: str
    image: dict[str, Any]
    wire: dict[str, Any]

    @property
    def sort_key(self) -> str:
        return str(self.image["sk"])

    @property
    def expires_at(self) -> int | None:
        value = self.image.get("expires_at")
        return int(value) if value is not None else None


@dataclass
class IndexOutcome:
    orgs: int = 0
    events: int = 0
    skipped: int = 0  # markers and removals: not events
    malformed: int = 0
    failed_sequence_numbers: list[str] = field(default_factory=list)


def recorded_event(record: DynamoDBRecord) -> RecordedEvent | None:
    """The event a record holds, or None for a record that claims to be one but is not
    (logged; the sealer reports it, the indexes go on without it)."""
    wire = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    image = record.dynamodb.new_image if record.dynamodb else {}
    sequence = (record.dynamodb.sequence_number if record.dynamodb else None) or ""
    try:
        actor, sort_key = image["actor"], image["sk"]
        valid = (
            isinstance(actor, dict)
            and isinstance(actor.get("id"), str)
            and isinstance(sort_key, str)
            and isinstance(image["event_type"], str)
            and isinstance(image["occurred_at"], str)
            and isinstance(image.get("targets", []), list)
            and isinstance(image.get("context", {}), dict)
        )
    except (KeyError, TypeError):
        valid = False
    if not valid:
        logger.error("Stream record is not an event; not indexed", extra={"sequence": sequence})
        return None
    return RecordedEvent(sequence, str(image["pk"]).removeprefix("org#"), image, wire)


def index_records(records: Iterable[DynamoDBRecord], table_name: str) -> IndexOutcome:
    outcome = IndexOutcome()
    by_org: dict[str, list[RecordedEvent]] = {}
    for record in records:
        if not is_new_event(record):
            outcome.skipped += 1
            continue
        event = recorded_event(record)
        if event is None:
            outcome.malformed += 1
            continue
        by_org.setdefault(event.org_id, []).append(event)
    for org_id, events in by_org.items():
        try:
            index_events(table_name, org_id, events)
        except INDEXING_FAILURES as exc:
            logger.error("Indexing failed; the batch will be retried", extra={"org_id": org_id, "reason": repr(exc)})
            outcome.failed_sequence_numbers.append(events[0].sequence)
            continue
        outcome.orgs += 1
        outcome.events += len(events)
    return outcome


def index_events(table_name: str, org_id: str, events: list[RecordedEvent]) -> None:
    """Apply one organisation's new events, in any order and any number of times."""
    storage.put_copies(table_name, [copy for event in events for copy in target_copies(org_id, event)])
    newest_of_actor: dict[str, RecordedEvent] = {}
    newest_of_type: dict[str, str] = {}
    for event in events:
        actor_id = event.image["actor"]["id"]
        if actor_id not in newest_of_actor or newest_of_actor[actor_id].sort_key < event.sort_key:
            newest_of_actor[actor_id] = event
        event_type, occurred_at = event.image["event_type"], event.image["occurred_at"]
        newest_of_type[event_type] = max(newest_of_type.get(event_type, ""), occurred_at)
    for event in newest_of_actor.values():
        advance_actor(table_name, org_id, event)
    for event_type, last_seen in newest_of_type.items():
        storage.advance_event_type(table_name, org_id, event_type, last_seen)
    derive_login_signals(table_name, org_id, [event for event in events if event.image["event_type"] == LOGIN])


def target_copies(org_id: str, event: RecordedEvent) -> list[dict[str, Any]]:
    copies = []
    for target in event.image.get("targets") or []:
        if not (isinstance(target, dict) and isinstance(target.get("type"), str) and isinstance(target.get("id"), str)):
            continue
        copy = {name: value for name, value in event.wire.items() if name not in _NOT_COPIED}
        copy["pk"] = {"S": storage.target_pk(org_id, target["type"], target["id"])}
        copies.append(copy)
    return copies


def advance_actor(table_name: str, org_id: str, event: RecordedEvent) -> None:
    actor = event.image["actor"]
    terms = actor_terms(actor["id"], actor.get("name"), actor.get("email"))
    advanced, before = storage.advance_actor(
        table_name, org_id, actor, event.sort_key, event.image["occurred_at"], terms
    )
    keys = [term_key(term) for term in terms]
    if advanced:
        old_keys = [term_key(term) for term in (before or {}).get("terms", [])]
        storage.put_terms(table_name, org_id, actor["id"], [k for k in keys if k not in old_keys], event.sort_key)
        storage.remove_terms(table_name, org_id, actor["id"], [k for k in old_keys if k not in keys], event.sort_key)
    elif before is not None and before.get("newest") == event.sort_key:
        # Applied before, perhaps cut short before its terms: write them (again).
        storage.put_terms(table_name, org_id, actor["id"], keys, event.sort_key)


def derive_login_signals(table_name: str, org_id: str, logins: list[RecordedEvent]) -> None:
    """Claim each login's values in occurrence order; a value whose first login is known
    to occur earlier is read, not written."""
    claims: list[tuple[RecordedEvent, str, dict[str, str]]] = []
    for event in sorted(logins, key=lambda event: event.sort_key):
        context = event.image.get("context") or {}
        for field_name, signal in FIRST_LOGIN_SIGNALS.items():
            value = context.get(field_name)
            if isinstance(value, str) and value:
                if field_name == "ip_address":
                    value = _canonical_ip(value)
                key = storage.first_login_key(org_id, field_name, event.image["actor"]["id"], value)
                claims.append((event, signal, key))
    held = storage.first_logins(table_name, [key for _, _, key in claims])
    for event, signal, key in claims:
        first = held.get(key["sk"])
        if first is not None and first < event.sort_key:
            continue
        if first != event.sort_key:
            claim = storage.claim_first_login(table_name, key, event.sort_key)
            if not claim.first:
                held[key["sk"]] = ""  # another sealer of this organisation got there first
                continue
            held[key["sk"]] = event.sort_key
            if claim.displaced is not None and claim.displaced != event.sort_key:
                storage.change_signal(table_name, org_id, claim.displaced, signal, add=False, expires_at=None)
        # First (again, for a batch retried after its claim): the signal is on the event.
        storage.change_signal(table_name, org_id, event.sort_key, signal, add=True, expires_at=event.expires_at)


def _canonical_ip(value: str) -> str:
    """One spelling per address (2001:0db8::7 is 2001:db8::7), so it is not new twice."""
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return value
