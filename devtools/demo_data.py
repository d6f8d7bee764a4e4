"""Realistic demo data for the local stack: two organisations, a dozen users, 400 events
over the last 30 days, written through the service's own write path.

    python -m devtools.demo_data TABLE_NAME   (with AWS_ENDPOINT_URL_DYNAMODB set)
"""

import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from audit_log.models import EventIn
from audit_log.recording import record_events
from audit_log.timestamps import format_utc_ms

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
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
]
# Documentation address ranges (RFC 5737, RFC 3849): realistic, never anyone's.
IPS = ["203.0.113.7", "203.0.113.42", "198.51.100.23", "198.51.100.88", "192.0.2.14", "2001:db8::7", "2001:db8:1::20"]


def demo_events(now: datetime, count: int = 400, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for n in range(count):
        org = "org_acme" if n % 5 < 3 else "org_globex"
        users = ORGS[org]
        admin_id, admin_name = users[0]
        user_id, user_name = rng.choice(users)
        occurred = now - timedelta(days=30) + timedelta(seconds=rng.uniform(0, 30 * 86400 - 60))
        context = {"ip_address": rng.choice(IPS), "user_agent": rng.choice(USER_AGENTS)}
        roll = rng.random()
        if roll < 0.6:
            event: dict[str, Any] = {
                "event_type": "user.login",
                "actor": {"id": user_id, "name": user_name, "email": f"{user_id[4:]}@{org[4:]}.example"},
                "details": {"method": rng.choice(["password", "sso", "passkey"]), "mfa": rng.random() < 0.7},
            }
        elif roll < 0.75:
            event = {
                "event_type": "organisation.settings_updated",
                "actor": {"id": admin_id, "name": admin_name},
                "targets": [
                    {"type": "api_key", "id": f"key_live_{rng.randint(10, 99)}", "name": "Billing integration"}
                ],
                "details": {"changed": rng.sample(["api_keys", "sso", "session_timeout", "ip_allowlist"], 2)},
            }
        elif roll < 0.87:
            invitee = f"usr_new_{n}"
            event = {
                "event_type": "member.invited",
                "actor": {"id": admin_id, "name": admin_name},
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
                "actor": {"id": user_id, "name": user_name},
            }
        events.append({"org_id": org, "occurred_at": format_utc_ms(occurred), "context": context, **event})
    return events


def main(table_name: str) -> None:
    events = [EventIn.model_validate(event) for event in demo_events(datetime.now(UTC))]
    for start in range(0, len(events), 25):
        record_events([(event, None) for event in events[start : start + 25]], table_name=table_name, retention_days=0)


if __name__ == "__main__":
    main(sys.argv[1])
