"""Development tokens are valid by construction: every token `make token` prints is one
the local authorizer accepts (an admin's Allow, a member's Deny), with or without USER,
and what it would refuse is refused there, with exit code 2 and a reason."""

import base64
import json
import os
import subprocess
from typing import Any

import pytest

from devtools import dev_tokens
from devtools.functions import LambdaContext, load_function
from tests.conftest import ROOT

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/events"


def make_token(*args: str, login_user: str | None = "root") -> subprocess.CompletedProcess[str]:
    """`make -s token ARGS` as a developer types it; the login name is in USER (or not)."""
    env = {k: v for k, v in os.environ.items() if k != "USER"}
    if login_user is not None:
        env["USER"] = login_user
    return subprocess.run(["make", "-s", "token", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def authorize(monkeypatch: pytest.MonkeyPatch, token: str) -> dict[str, Any]:
    monkeypatch.setenv("JWKS_URL", "")
    monkeypatch.setenv("JWKS_JSON", json.dumps(dev_tokens.jwks()))
    monkeypatch.setenv("JWT_ISSUER", dev_tokens.template_default("JwtIssuer"))
    monkeypatch.setenv("JWT_AUDIENCE", dev_tokens.template_default("JwtAudience"))
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
    result: dict[str, Any] = load_function("authorizer").lambda_handler(event, LambdaContext())
    return result


@pytest.mark.parametrize(
    ("args", "login_user", "sub", "effect"),
    [
        (["ORG=org_acme", "ROLE=admin"], "root", "usr_ada", "Allow"),  # the page's sign-in hint
        (["ORG=org_acme", "ROLE=admin"], None, "usr_ada", "Allow"),
        (["ORG=org_acme", "ROLE=member"], "root", "usr_grace", "Deny"),
        (["ORG=org_globex", "ROLE=admin"], "root", "usr_hank", "Allow"),
        (["ORG=org_new", "ROLE=admin"], "root", "usr_dev", "Allow"),
        (["ORG=org_acme", "ROLE=admin", "USER=usr_alan"], "root", "usr_alan", "Allow"),
    ],
)
def test_make_token_prints_a_token_the_authorizer_accepts(
    monkeypatch: pytest.MonkeyPatch, args: list[str], login_user: str | None, sub: str, effect: str
) -> None:
    made = make_token(*args, login_user=login_user)

    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert claims_of(token)["sub"] == sub
    policy = authorize(monkeypatch, token)
    assert policy["principalId"] == sub
    assert {statement["Effect"] for statement in policy["policyDocument"]["Statement"]} == {effect}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["ORG=org#acme", "ROLE=admin"], "ORG must be"),
        (["ORG=org_acme", "ROLE=admin", "USER="], "USER must not be empty"),
        (["ORG=org_acme", "ROLE=owner"], "invalid choice"),
        (["ORG=org_acme"], "usage: make token"),
    ],
)
def test_make_token_refuses_what_the_authorizer_would_refuse(args: list[str], reason: str) -> None:
    made = make_token(*args)

    assert made.returncode == 2
    assert reason in made.stderr
    assert made.stdout.strip() == ""


def test_the_token_function_refuses_invalid_claims() -> None:
    with pytest.raises(dev_tokens.InvalidToken):
        dev_tokens.token("org_acme", "admin", "")
