"""Development tokens: a local RSA signing key, its JWKS, and tokens signed with it.

The key is generated on first use under `.local/dev-jwt/` (ignored by git, never
committed). The local stack's authorizer gets the matching JWKS through JWKS_JSON, and
the issuer and audience are the template's own defaults, so a token printed here is
accepted by `make local` and by nothing deployed.

Tokens are valid by construction: an organisation id, role or user id the authorizer
would refuse is refused here, saying why, instead of printing a token that fails later
(sam local answers a refused token with 502, which says nothing). Without a user, the
token speaks for the demo organisation's admin (or, for a member token, its second user).

    python -m devtools.dev_tokens token --org org_acme --role admin [--user usr_ada]
    python -m devtools.dev_tokens jwks
"""

import argparse
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from audit_log.org_ids import is_org_id
from devtools.template import load_template

ROOT = Path(__file__).resolve().parents[1]
KEY_PATH = ROOT / ".local" / "dev-jwt" / "private.pem"
KID = "audit-log-dev-1"
ROLES = ("admin", "member")
FALLBACK_USER = "usr_dev"


class InvalidToken(ValueError):
    """A token the local authorizer would refuse: not printed."""


@cache
def template_default(parameter: str) -> str:
    value: str = load_template()["Parameters"][parameter]["Default"]
    return value


def private_key(path: Path = KEY_PATH) -> rsa.RSAPrivateKey:
    """The development signing key, created (mode 600) the first time it is needed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def jwks(path: Path = KEY_PATH) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private_key(path).public_key()))
    return {"keys": [{**public, "kid": KID, "alg": "RS256", "use": "sig"}]}


def default_user(org_id: str, role: str) -> str:
    """The demo organisation's admin for an admin token, its second user for a member's;
    FALLBACK_USER for an organisation the demo data does not have."""
    from devtools.demo_data import ORGS

    users = ORGS.get(org_id)
    if not users:
        return FALLBACK_USER
    return users[0][0] if role == "admin" else users[1][0]


def check_claims(org_id: str, role: str, user_id: str) -> None:
    """InvalidToken unless the authorizer accepts these claims (and the role is one the
    contract names)."""
    if not is_org_id(org_id):
        raise InvalidToken(f"ORG must be 1-128 of A-Z a-z 0-9 _ - . : (got {len(org_id)} characters)")
    if role not in ROLES:
        raise InvalidToken("ROLE must be admin or member")
    if not user_id.strip():
        raise InvalidToken("USER must not be empty")


def token(
    org_id: str,
    role: str,
    user_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 12 * 3600,
    path: Path = KEY_PATH,
) -> str:
    check_claims(org_id, role, user_id)
    now = int(time.time())
    claims = {
        "iss": template_default("JwtIssuer"),
        "aud": template_default("JwtAudience"),
        "sub": user_id,
        "org_id": org_id,
        "org_role": role,
        "email": email or f"{user_id}@example.com",
        "name": name or user_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, private_key(path), algorithm="RS256", headers={"kid": KID})


def authorizer_event(authorization: str) -> dict[str, str]:
    """What API Gateway hands a TOKEN authorizer for `GET /events` on stage v1."""
    return {
        "type": "TOKEN",
        "authorizationToken": authorization,
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/events",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("token", help="print a signed development token")
    make.add_argument("--org", required=True)
    make.add_argument("--role", required=True, choices=ROLES)
    make.add_argument("--user", help="the user id (sub); default: the demo organisation's admin, or its member")
    make.add_argument("--email")
    make.add_argument("--name")
    make.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    commands.add_parser("jwks", help="print the JWKS for JWKS_JSON")
    event = commands.add_parser("authorizer-event", help="print a TOKEN authorizer event, for sam local invoke")
    event.add_argument("--org", required=True)
    event.add_argument("--role", required=True, choices=ROLES)
    event.add_argument("--user")
    args = parser.parse_args()
    try:
        if args.command == "jwks":
            out = json.dumps(jwks(), separators=(",", ":"))
        else:
            user = args.user if args.user is not None else default_user(args.org, args.role)
            if args.command == "token":
                out = token(args.org, args.role, user, email=args.email, name=args.name, ttl_seconds=args.ttl)
            else:
                out = json.dumps(authorizer_event(f"Bearer {token(args.org, args.role, user)}"), indent=2)
    except InvalidToken as invalid:
        parser.exit(2, f"no token: {invalid}\n")
    print(out)


if __name__ == "__main__":
    main()
