"""Realistic demo data for the local stack: two organisations, a dozen users, 400 events
over the last 30 days, written through the service's own write path.

    python -m devtools.demo_data TABLE_NAME   (with AWS_ENDPOINT_URL_DYNAMODB set)

Most events are random (seeded, so the same every run, their times relative to now, in
working hours). Each user signs in from one usual address and browser, so the login signals (`new_ip`,
`new_user_agent`) mark only what is new for them. On top of that, org_acme holds a short
story an admin can investigate on the admin page (`story_events`), in DEMO_TIMEZONE:

- Katherine Johnson (`usr_katherine`) signs in between 09:00 and 09:30 on weekdays from her usual
  address and iPhone, and once, two days ago, at 03:00 from an address and a device she
  never used before;
- the "Billing API key" (`api_key` `key_billing`), created by Ada Lovelace twelve days
  ago, is rotated by Ada five days ago and by Barbara Liskov (an ORG Admin too) yesterday;
- Ada invites Mary Jackson (`usr_mary`) three days ago.

Events are recorded oldest first, so "first seen" means first in time, whatever order a
stream consumer reads them in.
"""

import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from audit_log.event_rules import EventIn
from audit_log.recording import record_events
from audit_log.timestamps import format_utc_ms

# Where the demo organisations work: the story's times ("09:00", "03:00") are local here.
# It is the browser tests' timezone too, so their screenshots show the story's hours.
DEMO_TIMEZONE = ZoneInfo("Asia/Kolkata")
TOTAL_EVENTS = 400
# organisation → users (id, name); the first of each is its ORG Admin.
ORGS: dict[str, list[tuple[str, str]]] = {
    "org_acme": [
        ("usr_ada", "Ada Lovelace"),
        ("usr_grace", "Grace Hopper"),
        ("usr_alan", "Alan Turing"),
        ("usr_katherine", "Katherine Johnson"),
        ("usr_edsger", "Edsger Dijkstra"),
        ("usr_barbara", "Barbara Liskov"),
    ],
    "org_globex": [
        ("usr_hank", "Hank Scorpio"),
        ("usr_homer", "Homer Simpson"),
        ("usr_lenny", "Lenny Leonard"),
        ("usr_carl", "Carl Carlson"),
        ("usr_mindy", "Mindy Simmons"),
        ("usr_frank", "Frank Grimes"),
    ],
}
STORY_ORG = "org_acme"
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
]
# Documentation address ranges (RFC 5737, RFC 3849): realistic, never anyone's.
IPS = ["203.0.113.7", "203.0.113.42", "198.51.100.23", "198.51.100.88", "192.0.2.14", "2001:db8::7", "2001:db8:1::20"]
# Katherine's night-time sign-in: an address and a browser nobody in the demo used before.
UNUSUAL_IP = "192.0.2.201"
UNUSUAL_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)
BILLING_KEY = {"type": "api_key", "id": "key_billing", "name": "Billing API key"}
INVITEE = {"type": "user", "id": "usr_mary", "name": "Mary Jackson"}


def email_of(user_id: str, org: str = STORY_ORG) -> str:
    """`usr_katherine` of org_acme signs in as katherine@acme.example."""
    return f"{user_id.removeprefix('usr_')}@{org.removeprefix('org_')}.example"


def user_actor(org: str, user_id: str) -> dict[str, str]:
    name = dict(ORGS[org])[user_id]
    return {"id": user_id, "name": name, "email": email_of(user_id, org)}


def usual_context(org: str, user_id: str) -> dict[str, str]:
    """The one address and browser a user signs in from (the demo's ordinary days)."""
    number = [user for user, _ in ORGS[org]].index(user_id)
    return {"ip_address": IPS[number % len(IPS)], "user_agent": USER_AGENTS[number % len(USER_AGENTS)]}


def at(day: date, hour: int, minute: int) -> str:
    """`hour:minute` on `day` in DEMO_TIMEZONE, as the API's UTC timestamp."""
    return format_utc_ms(datetime.combine(day, time(hour, minute), tzinfo=DEMO_TIMEZONE).astimezone(UTC))


def story_events(now: datetime, org: str = STORY_ORG) -> list[dict[str, Any]]:
    """The story of the module docstring, in `org` (the browser tests replay it in an
    organisation of their own), every event before `now`."""
    today = now.astimezone(DEMO_TIMEZONE).date()
    katherine = user_actor(STORY_ORG, "usr_katherine")
    ada = user_actor(STORY_ORG, "usr_ada")
    barbara = user_actor(STORY_ORG, "usr_barbara")
    usual = usual_context(STORY_ORG, "usr_katherine")
    events: list[dict[str, Any]] = []
    for back in range(13, 0, -1):  # two weeks of ordinary mornings, weekdays only
        day = today - timedelta(days=back)
        if day.weekday() < 5:
            events.append(
                {
                    "event_type": "user.login",
                    "actor": katherine,
                    "occurred_at": at(day, 9, (back * 7) % 30),
                    "context": usual,
                    "details": {"method": "sso", "mfa": True},
                }
            )
    events.append(
        {
            "event_type": "user.login",
            "actor": katherine,
            "occurred_at": at(today - timedelta(days=2), 3, 0),
            "context": {"ip_address": UNUSUAL_IP, "user_agent": UNUSUAL_USER_AGENT},
            "details": {"method": "password", "mfa": False},
        }
    )
    admin_context = usual_context(STORY_ORG, "usr_ada")
    events += [
        {
            "event_type": "api_key.created",
            "actor": ada,
            "occurred_at": at(today - timedelta(days=12), 11, 20),
            "targets": [BILLING_KEY],
            "context": admin_context,
            "details": {"scopes": ["invoices:read", "invoices:write"]},
        },
        {
            "event_type": "api_key.rotated",
            "actor": ada,
            "occurred_at": at(today - timedelta(days=5), 10, 12),
            "targets": [BILLING_KEY],
            "context": admin_context,
            "details": {"reason": "scheduled rotation"},
        },
        {
            "event_type": "member.invited",
            "actor": ada,
            "occurred_at": at(today - timedelta(days=3), 15, 30),
            "targets": [INVITEE],
            "context": admin_context,
            "details": {"role": "member", "invitee_email": email_of(INVITEE["id"])},
        },
        {
            "event_type": "api_key.rotated",
            "actor": barbara,
            "occurred_at": at(today - timedelta(days=1), 16, 40),
            "targets": [BILLING_KEY],
            "context": usual_context(STORY_ORG, "usr_barbara"),
            "details": {"reason": "precaution"},
        },
    ]
    return [{"org_id": org, **event} for event in events]


def working_hours(now: datetime, offset: float) -> datetime:
    """The moment `offset` seconds into the 30 days before `now`, moved into that day's
    working hours (08:00 to 19:00 in DEMO_TIMEZONE) and kept in the past: ordinary days
    are in office hours, so a night-time sign-in stands out."""
    first_day = (now - timedelta(days=29)).astimezone(DEMO_TIMEZONE).date()
    day = first_day + timedelta(days=int(offset // 86400))
    into_day = timedelta(hours=11) * ((offset % 86400) / 86400)
    moment = datetime.combine(day, time(8), tzinfo=DEMO_TIMEZONE) + into_day
    while moment > now - timedelta(minutes=1):
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


def random_events(now: datetime, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` events over the 30 days before `now`; in the story's week Katherine's
    share goes to the next user, so her week is the story's alone."""
    rng = random.Random(seed)
    story_week = now - timedelta(days=8)
    events = []
    for n in range(count):
        org = "org_acme" if n % 5 < 3 else "org_globex"
        users = ORGS[org]
        admin_id = users[0][0]
        user_id, _ = rng.choice(users)
        occurred = working_hours(now, rng.uniform(0, 30 * 86400 - 60))
        if user_id == "usr_katherine" and occurred > story_week:
            user_id = users[([user for user, _ in users].index(user_id) + 1) % len(users)][0]
        context = {"ip_address": rng.choice(IPS), "user_agent": rng.choice(USER_AGENTS)}
        roll = rng.random()
        if roll < 0.6:
            event: dict[str, Any] = {
                "event_type": "user.login",
                "actor": user_actor(org, user_id),
                "details": {"method": rng.choice(["password", "sso", "passkey"]), "mfa": rng.random() < 0.7},
            }
            context = usual_context(org, user_id)
        elif roll < 0.75:
            key = rng.randint(10, 99)
            event = {
                "event_type": "organisation.settings_updated",
                "actor": user_actor(org, admin_id),
                "targets": [{"type": "api_key", "id": f"key_live_{key}", "name": f"Live key {key}"}],
                "details": {"changed": rng.sample(["api_keys", "sso", "session_timeout", "ip_allowlist"], 2)},
            }
        elif roll < 0.87:
            invitee = f"usr_new_{n}"
            event = {
                "event_type": "member.invited",
                "actor": user_actor(org, admin_id),
                "targets": [{"type": "user", "id": invitee}],
                "details": {"role": "member", "invitee_email": f"{invitee}@example.com"},
            }
        elif roll < 0.94:
            event = {
                "event_type": "api_key.rotated",
                "actor": {"id": "svc_key_rotator", "type": "system"},
                "targets": [{"type": "api_key", "id": f"key_live_{rng.randint(10, 99)}"}],
            }
        else:
            event = {
                "event_type": rng.choice(["member.removed", "user.password_reset", "user.mfa_enabled"]),
                "actor": user_actor(org, user_id),
            }
        events.append({"org_id": org, "occurred_at": format_utc_ms(occurred), "context": context, **event})
    return events


def demo_events(now: datetime) -> list[dict[str, Any]]:
    """All TOTAL_EVENTS of both organisations, oldest first."""
    story = story_events(now)
    events = random_events(now, TOTAL_EVENTS - len(story)) + story
    return sorted(events, key=lambda event: str(event["occurred_at"]))


def main(table_name: str) -> None:
    events = [EventIn.model_validate(event) for event in demo_events(datetime.now(UTC))]
    for start in range(0, len(events), 25):
        record_events([(event, None) for event in events[start : start + 25]], table_name=table_name, retention_days=0)


if __name__ == "__main__":
    main(sys.argv[1])
