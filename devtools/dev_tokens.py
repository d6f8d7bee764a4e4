"""Development tokens: a local RSA signing key, its JWKS, and tokens signed with it.

The key is generated on first use under `.local/dev-jwt/` (ignored by git, never
committed). The local stack's authorizer gets the matching JWKS through JWKS_JSON, and
the issuer and audience are the template's own defaults, so a token printed here is
accepted by `make local` and by nothing deployed.

    python -m devtools.dev_tokens token --org org_acme --role admin --user usr_ada
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

from devtools.template import load_template

ROOT = Path(__file__).resolve().parents[1]
KEY_PATH = ROOT / ".local" / "dev-jwt" / "private.pem"
KID = "audit-log-dev-1"


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
    make.add_argument("--role", required=True, choices=["admin", "member"])
    make.add_argument("--user", required=True)
    make.add_argument("--email")
    make.add_argument("--name")
    make.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    commands.add_parser("jwks", help="print the JWKS for JWKS_JSON")
    event = commands.add_parser("authorizer-event", help="print a TOKEN authorizer event, for sam local invoke")
    event.add_argument("--org", required=True)
    event.add_argument("--role", required=True, choices=["admin", "member"])
    event.add_argument("--user", required=True)
    args = parser.parse_args()
    if args.command == "token":
        out = token(args.org, args.role, args.user, email=args.email, name=args.name, ttl_seconds=args.ttl)
    elif args.command == "authorizer-event":
        out = json.dumps(authorizer_event(f"Bearer {token(args.org, args.role, args.user)}"), indent=2)
    else:
        out = json.dumps(jwks(), separators=(",", ":"))
    print(out)


if __name__ == "__main__":
    main()
