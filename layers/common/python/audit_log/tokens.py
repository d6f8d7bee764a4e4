"""Verifying the identity provider's JWTs for the authorizer.

Kept free of boto3 and pydantic: the authorizer runs on every uncached admin request, and
its cold start is paid by a person waiting for the audit-log page. Its settings are a
plain frozen dataclass for the same reason.
"""

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from audit_log.org_ids import is_org_id

ALGORITHM = "RS256"  # pinned: the token's own `alg` header is never trusted
LEEWAY_SECONDS = 60
_JWKS_TIMEOUT_SECONDS = 3
_JWKS_CACHE_SECONDS = 300
# An unknown kid refetches the JWKS at most this often: a rotated key is picked up within
# seconds, and a stream of made-up kids cannot turn into a stream of fetches.
JWKS_REFRESH_COOLDOWN_SECONDS = 10


# What a key set that is not a usable JWKS raises on the way in: PyJWT's own error for no
# usable key; ValueError for bytes that are not JSON or not UTF-8; TypeError for members
# of the wrong type (`"alg": ["RS256"]`), which PyJWK does not check; RecursionError for
# nesting deeper than the parser follows.
_UNUSABLE_KEY_SET = (jwt.PyJWKSetError, ValueError, TypeError, RecursionError)


class TokenRejected(Exception):
    """The token is missing, malformed, badly signed, expired or lacks a required claim."""


class KeysUnavailable(Exception):
    """The signing keys could not be had; nobody can be let in until they can."""


@dataclass(frozen=True)
class AuthorizerSettings:
    jwks_url: str
    jwks_json: str
    issuer: str
    audience: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "AuthorizerSettings":
        return cls(
            jwks_url=environ.get("JWKS_URL", "").strip(),
            jwks_json=environ.get("JWKS_JSON", "").strip(),
            issuer=environ.get("JWT_ISSUER", ""),
            audience=environ.get("JWT_AUDIENCE", ""),
        )


@dataclass(frozen=True)
class Identity:
    user_id: str
    org_id: str
    role: str
    email: str
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class SigningKeys:
    """The identity provider's RSA public keys by `kid`: inline (JWKS_JSON) or fetched
    from JWKS_URL, cached across invocations and refetched when an unknown `kid` appears.

    A key set that holds no usable RSA signing key (empty, not a JWKS, not JSON, only EC
    or symmetric keys) is KeysUnavailable, like an unreachable one: nobody is let in, and
    the error log says why, rather than an exception API Gateway would answer with 500.
    """

    def __init__(self, settings: AuthorizerSettings) -> None:
        self._inline: dict[str, PyJWK] | None = None
        self._client: PyJWKClient | None = None
        self._problem: str | None = None
        if settings.jwks_json:
            try:
                document = json.loads(settings.jwks_json)
                key_set = PyJWKSet.from_dict(document) if isinstance(document, dict) else None
            except _UNUSABLE_KEY_SET as exc:
                self._problem = f"JWKS_JSON is not a usable JWKS: {type(exc).__name__}"
            else:
                self._inline = _rsa_by_kid(key_set.keys if key_set else [])
                if not self._inline:
                    self._problem = "JWKS_JSON holds no RSA signing key with a kid"
        elif settings.jwks_url:
            self._client = PyJWKClient(
                settings.jwks_url,
                cache_jwk_set=True,
                lifespan=_JWKS_CACHE_SECONDS,
                timeout=_JWKS_TIMEOUT_SECONDS,
                cooldown_duration=JWKS_REFRESH_COOLDOWN_SECONDS,
            )
        else:
            self._problem = "neither JWKS_URL nor JWKS_JSON is set"

    def key_for(self, kid: str) -> PyJWK:
        if self._problem is not None:
            raise KeysUnavailable(self._problem)
        if self._inline is not None:
            key = self._inline.get(kid)
            if key is None:
                raise TokenRejected("unknown kid")
            return key
        assert self._client is not None
        try:
            key = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(f"JWKS_URL could not be fetched: {exc}") from exc
        except _UNUSABLE_KEY_SET as exc:
            raise KeysUnavailable(f"JWKS_URL serves no usable JWKS: {type(exc).__name__}") from exc
        except jwt.PyJWKClientError as exc:  # no such kid, or no signing key at all
            self._require_rsa_keys()
            raise TokenRejected("unknown kid") from exc
        if key.key_type != "RSA":  # an EC or symmetric key in the set cannot verify RS256
            self._require_rsa_keys()
            raise TokenRejected("kid names a key that is not RSA")
        return key

    def _require_rsa_keys(self) -> None:
        """KeysUnavailable unless the (cached) key set from JWKS_URL has an RSA signing key."""
        assert self._client is not None
        try:
            keys = self._client.get_signing_keys()
        except (jwt.PyJWKClientError, *_UNUSABLE_KEY_SET) as exc:
            raise KeysUnavailable(f"JWKS_URL serves no usable JWKS: {type(exc).__name__}") from exc
        if not _rsa_by_kid(keys):
            raise KeysUnavailable("JWKS_URL serves no RSA signing key with a kid")


def _rsa_by_kid(keys: list[PyJWK]) -> dict[str, PyJWK]:
    return {
        key.key_id: key
        for key in keys
        if isinstance(key.key_id, str) and key.key_id and key.key_type == "RSA" and key.public_key_use in ("sig", None)
    }


@lru_cache(maxsize=4)
def signing_keys(settings: AuthorizerSettings) -> SigningKeys:
    """One SigningKeys per configuration: in Lambda, one per container, so the fetched
    JWKS stays cached across invocations."""
    return SigningKeys(settings)


def bearer_token(authorization: object) -> str:
    if not isinstance(authorization, str) or not authorization.startswith("Bearer "):
        raise TokenRejected("no Bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    if not token:
        raise TokenRejected("empty Bearer token")
    return token


def verify(token: str, keys: SigningKeys, settings: AuthorizerSettings) -> Identity:
    """Who the token speaks for, if the identity provider signed it for this API and it
    is current; TokenRejected (or KeysUnavailable) otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected("malformed token") from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("no kid")
    key = keys.key_for(kid)  # only our JWKS: `jku`/`x5u`/`jwk` headers are never followed
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub", "org_id", "org_role"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenRejected(type(exc).__name__) from exc
    # The leeway is for clock skew at issue (nbf, iat); an expired token is expired.
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= time.time():
        raise TokenRejected("ExpiredSignatureError")
    sub, org_id, role = claims["sub"], claims["org_id"], claims["org_role"]
    if not (isinstance(sub, str) and sub and isinstance(role, str) and isinstance(org_id, str)):
        raise TokenRejected("sub, org_id and org_role must be strings")
    if not is_org_id(org_id):
        raise TokenRejected("org_id is not an organisation id")
    return Identity(
        user_id=sub,
        org_id=org_id,
        role=role,
        email=_optional_text(claims, "email"),
        name=_optional_text(claims, "name"),
    )


def _optional_text(claims: dict[str, Any], name: str) -> str:
    """An optional claim as API Gateway context wants it: a string, empty when absent."""
    value = claims.get(name)
    return value if isinstance(value, str) else ""
