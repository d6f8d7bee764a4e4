"""The seeded dataset the read and write sections share: organisations, actors and event
types with the skew real audit logs have (a few busy users, logins dominating), spread
evenly over 90 days. A fixed random seed makes every run read the same log, so the counts
are comparable from run to run."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from audit_log.event_rules import EventIn
from audit_log.recording import event_item
from audit_log.timestamps import format_utc_ms, parse_rfc3339

ORGS = {"org_acme": 0.55, "org_globex": 0.3, "org_initech": 0.15}
# Twelve types, most common first; weights fall off as 1/rank (Zipf), so user.login is
# about a third of a log and billing.plan_changed about 3 %.
EVENT_TYPES = [
    "user.login",
    "organisation.settings_updated",
    "member.invited",
    "api_key.rotated",
    "user.logout",
    "member.role_changed",
    "user.password_changed",
    "api_key.created",
    "member.removed",
    "user.mfa_enabled",
    "api_key.revoked",
    "billing.plan_changed",
]
ACTORS = [f"usr_{n:02d}" for n in range(50)]  # per organisation; Zipf-weighted too
DAYS = 90
# The window ends at a fixed moment in the past, so the dataset is the same on every run.
END = datetime(2026, 11, 1, tzinfo=UTC)
START = END - timedelta(days=DAYS)
RECORDED_AT = format_utc_ms(END)
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
IPS = ["203.0.113.7", "203.0.113.42", "198.51.100.23", "192.0.2.14", "2001:db8::7"]


def _zipf(count: int) -> list[float]:
    return [1 / rank for rank in range(1, count + 1)]


def event_bodies(count: int, seed: int = 7, org_id: str | None = None) -> list[dict[str, Any]]:
    """`count` request bodies as a platform backend would send them (POST /events), all
    for `org_id` if given, else spread over ORGS."""
    rng = random.Random(seed)
    orgs = rng.choices(list(ORGS), weights=list(ORGS.values()), k=count)
    if org_id is not None:
        orgs = [org_id] * count
    types = rng.choices(EVENT_TYPES, weights=_zipf(len(EVENT_TYPES)), k=count)
    actors = rng.choices(ACTORS, weights=_zipf(len(ACTORS)), k=count)
    bodies = []
    for org, event_type, actor in zip(orgs, types, actors, strict=True):
        occurred = START + timedelta(milliseconds=rng.randrange(DAYS * 86_400_000))
        target = f"usr_{rng.randrange(50):02d}" if event_type.startswith("member.") else f"key_{rng.randrange(99)}"
        bodies.append(
            {
                "org_id": org,
                "event_type": event_type,
                "actor": {"id": actor, "name": f"User {actor[4:]}", "email": f"{actor}@{org[4:]}.example"},
                "occurred_at": format_utc_ms(occurred),
                "targets": [] if event_type.startswith("user.") else [{"type": event_type.split(".")[0], "id": target}],
                "context": {"ip_address": rng.choice(IPS), "user_agent": rng.choice(USER_AGENTS)},
                "details": {"source": rng.choice(["web", "api", "sso"]), "request": f"req_{rng.getrandbits(48):012x}"},
            }
        )
    return bodies


def events(count: int, seed: int = 7, org_id: str | None = None) -> list[EventIn]:
    """The bodies validated into EventIn, as the record handler would have them."""
    return [EventIn.model_validate(body) for body in event_bodies(count, seed, org_id)]


def stored_items(count: int, seed: int = 7, org_id: str | None = None) -> list[dict[str, Any]]:
    """The same events in their stored form (recording.event_item), each with a ULID of
    its own occurred_at, as record_events would have stored them."""
    items = []
    for event in events(count, seed, org_id):
        assert event.occurred_at is not None
        event_id = str(ULID.from_datetime(parse_rfc3339(event.occurred_at)))
        items.append(event_item(event, event_id, event.occurred_at, RECORDED_AT, 0))
    return items
