"""The TOKEN authorizer: ORG Admins are allowed with the exact context, members get an
explicit Deny, and every invalid token is refused with "Unauthorized"."""

import base64
import fnmatch
import hashlib
import hmac
import http.server
import json
import string
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from audit_log import tokens
from audit_log.tokens import AuthorizerSettings
from devtools.functions import LambdaContext, load_function
from tests.conftest import ROOT

ISSUER = "https://idp.example.com/"
AUDIENCE = "audit-log"
API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
METHOD_ARN = f"{API}/v1/GET/events"

OUR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256", "use": "sig"}


EC_KEY = ec.generate_private_key(ec.SECP256R1())
# Identity providers often publish mixed key sets: only the RSA key may verify RS256.
JWKS = {
    "keys": [
        jwk(OUR_KEY, "key-1"),
        {**json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())), "kid": "ec-1", "alg": "ES256", "use": "sig"},
        {
            "kty": "oct",
            "kid": "hmac-1",
            "alg": "HS256",
            "k": base64.urlsafe_b64encode(b"shared-secret-0123456789abcdef0123").decode().rstrip("="),
        },
    ]
}
SETTINGS = AuthorizerSettings(jwks_url="", jwks_json=json.dumps(JWKS), issuer=ISSUER, audience=AUDIENCE)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr_ada",
        "org_id": "org_acme",
        "org_role": "admin",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not DROP}


DROP = object()


def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey = OUR_KEY, **headers: Any) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "key-1", **headers})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def hs256_with_public_key_as_secret() -> str:
    public_pem = OUR_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = unsigned(claims(), {"alg": "HS256", "typ": "JWT", "kid": "key-1"})
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def altered_after_signing() -> str:
    header, _, signature = sign(claims(org_role="member")).split(".")
    return f"{header}.{b64(json.dumps(claims(org_role='admin')).encode())}.{signature}"


def configure(monkeypatch: pytest.MonkeyPatch, settings: AuthorizerSettings) -> None:
    """Set the authorizer's contract variables, as template.yaml or sam local would."""
    monkeypatch.setenv("JWKS_URL", settings.jwks_url)
    monkeypatch.setenv("JWKS_JSON", settings.jwks_json)
    monkeypatch.setenv("JWT_ISSUER", settings.issuer)
    monkeypatch.setenv("JWT_AUDIENCE", settings.audience)


@pytest.fixture
def authorize(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Run the authorizer as API Gateway would, with our JWKS inline."""
    authorizer = load_function("authorizer")
    configure(monkeypatch, SETTINGS)

    def call(authorization: str | None, method_arn: str = METHOD_ARN) -> dict[str, Any]:
        event = {"type": "TOKEN", "authorizationToken": authorization, "methodArn": method_arn}
        result: dict[str, Any] = authorizer.lambda_handler(event, LambdaContext())
        return result

    return call


@pytest.fixture(autouse=True)
def no_outside_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `jku`/`x5u` header must never make the authorizer fetch anything."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"unexpected fetch: {args[0] if args else kwargs}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def now() -> int:
    return int(time.time())


def bearer(token: str) -> str:
    return f"Bearer {token}"


# Each case builds the whole Authorization header.
REFUSED: dict[str, Callable[[], str | None]] = {
    "alg none": lambda: bearer(unsigned(claims(), {"alg": "none", "typ": "JWT", "kid": "key-1"}) + "."),
    "alg none, no kid": lambda: bearer(unsigned(claims(), {"alg": "none", "typ": "JWT"}) + "."),
    "HS256 with the public key as secret": lambda: bearer(hs256_with_public_key_as_secret()),
    "key not in the JWKS (our kid)": lambda: bearer(sign(claims(), key=OTHER_KEY)),
    "unknown kid": lambda: bearer(sign(claims(), key=OTHER_KEY, kid="key-2")),
    "no kid": lambda: bearer(jwt.encode(claims(), OUR_KEY, algorithm="RS256")),
    "expired": lambda: bearer(sign(claims(exp=now() - 66))),
    "expired 90 s ago": lambda: bearer(sign(claims(iat=now() - 1000, nbf=now() - 1000, exp=now() - 90))),
    "nbf in the future beyond leeway": lambda: bearer(sign(claims(nbf=now() + 120))),
    "iat in the future beyond leeway": lambda: bearer(sign(claims(iat=now() + 120))),
    "wrong iss": lambda: bearer(sign(claims(iss="https://evil.example.com/"))),
    "wrong aud": lambda: bearer(sign(claims(aud="another-api"))),
    "missing exp": lambda: bearer(sign(claims(exp=DROP))),
    "missing iss": lambda: bearer(sign(claims(iss=DROP))),
    "missing aud": lambda: bearer(sign(claims(aud=DROP))),
    "missing sub": lambda: bearer(sign(claims(sub=DROP))),
    "missing org_id": lambda: bearer(sign(claims(org_id=DROP))),
    "missing org_role": lambda: bearer(sign(claims(org_role=DROP))),
    "empty sub": lambda: bearer(sign(claims(sub=""))),
    "org_id not a string": lambda: bearer(sign(claims(org_id=42))),
    "org_id that is not an organisation id": lambda: bearer(sign(claims(org_id="org#x"))),
    "payload altered after signing": lambda: bearer(altered_after_signing()),
    "signature stripped": lambda: bearer(sign(claims()).rsplit(".", 1)[0] + "."),
    "malformed token": lambda: "Bearer not.a.jwt",
    "garbage": lambda: "Bearer !!!",
    "no Bearer prefix": lambda: sign(claims()),
    "other scheme": lambda: "Basic " + sign(claims()),
    "lower-case bearer": lambda: "bearer " + sign(claims()),
    "Bearer and nothing": lambda: "Bearer ",
    "empty header": lambda: "",
    "no header": lambda: None,
    "jku pointing elsewhere": lambda: bearer(
        sign(claims(), key=OTHER_KEY, kid="attacker-key", jku="https://attacker.example.com/jwks.json")
    ),
    "x5u pointing elsewhere, our kid": lambda: bearer(
        sign(claims(), key=OTHER_KEY, x5u="https://attacker.example.com/cert.pem")
    ),
    "embedded jwk header": lambda: bearer(sign(claims(), key=OTHER_KEY, jwk=jwk(OTHER_KEY, "key-1"))),
    "kid of a symmetric key in the JWKS": lambda: bearer(
        jwt.encode(claims(), "shared-secret-0123456789abcdef0123", algorithm="HS256", headers={"kid": "hmac-1"})
    ),
    "kid of an EC key in the JWKS": lambda: bearer(
        jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    ),
    "exp not a number": lambda: bearer(sign(claims(exp="tomorrow"))),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_invalid_tokens_are_unauthorized(authorize: Callable[..., dict[str, Any]], case: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(REFUSED[case]())


def test_an_admin_is_allowed_with_the_exact_context(authorize: Callable[..., dict[str, Any]]) -> None:
    result = authorize(f"Bearer {sign(claims())}")

    assert result["principalId"] == "usr_ada"
    assert result["context"] == {
        "orgId": "org_acme",
        "userId": "usr_ada",
        "role": "admin",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
    }
    assert all(isinstance(value, str) for value in result["context"].values())
    (statement,) = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"


def test_nbf_and_iat_have_60_seconds_of_leeway(authorize: Callable[..., dict[str, Any]]) -> None:
    token = sign(claims(nbf=now() + 50, iat=now() + 50))

    assert authorize(f"Bearer {token}")["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_an_expired_token_gets_no_leeway(authorize: Callable[..., dict[str, Any]]) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(f"Bearer {sign(claims(exp=now() - 5))}")


def test_optional_email_and_name_become_empty_strings(authorize: Callable[..., dict[str, Any]]) -> None:
    result = authorize(f"Bearer {sign(claims(email=DROP, name=DROP))}")

    assert result["context"]["email"] == ""
    assert result["context"]["name"] == ""


def resources_allowed(result: dict[str, Any]) -> list[str]:
    return [
        resource
        for statement in result["policyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for resource in statement["Resource"]
    ]


def allows(result: dict[str, Any], arn: str) -> bool:
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources_allowed(result))


def test_the_cached_allow_covers_the_admin_read_routes_of_the_stage(authorize: Callable[..., dict[str, Any]]) -> None:
    result = authorize(f"Bearer {sign(claims())}", method_arn=f"{API}/v1/GET/events")

    assert allows(result, f"{API}/v1/GET/events")
    assert allows(result, f"{API}/v1/GET/events/01KB0000000000000000000000")
    for path in (
        "events/01KB0000000000000000000000/proof",
        "ledger/checkpoint",
        "ledger/checkpoints",
        "ledger/public-key",
        "ledger/consistency",
        "ledger/entries",
    ):
        assert allows(result, f"{API}/v1/GET/{path}"), f"one cached Allow covers GET /{path}"
    assert not allows(result, f"{API}/v1/POST/events"), "record routes are not an admin's"
    assert not allows(result, f"{API}/v1/POST/events/batch"), "record routes are not an admin's"
    assert not allows(result, f"{API}/v2/GET/events"), "only this stage"
    assert not allows(result, "arn:aws:execute-api:eu-west-1:123456789012:otherapi/v1/GET/events")


def test_a_member_gets_an_explicit_deny_not_an_error(authorize: Callable[..., dict[str, Any]]) -> None:
    result = authorize(f"Bearer {sign(claims(org_role='member', sub='usr_grace'))}")

    assert result["principalId"] == "usr_grace"
    statements = result["policyDocument"]["Statement"]
    assert statements and all(statement["Effect"] == "Deny" for statement in statements)
    assert any(fnmatch.fnmatchcase(METHOD_ARN, r) for s in statements for r in s["Resource"])


@pytest.mark.parametrize("role", ["owner", "ADMIN", "", "superadmin"])
def test_any_role_but_admin_is_denied(authorize: Callable[..., dict[str, Any]], role: str) -> None:
    result = authorize(f"Bearer {sign(claims(org_role=role))}")

    assert {statement["Effect"] for statement in result["policyDocument"]["Statement"]} == {"Deny"}


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the authorizer logged, structured fields included."""
    return "\n".join(json.dumps(vars(record), default=str) for record in caplog.records)


def test_the_token_is_never_logged(authorize: Callable[..., dict[str, Any]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    allowed, refused = sign(claims()), sign(claims(aud="x"))
    authorize(f"Bearer {allowed}")
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(f"Bearer {refused}")

    text = logged(caplog)
    assert "Token verified" in text
    assert "InvalidAudienceError" in text, "the reason for a refusal is logged"
    for token in (allowed, refused):
        assert token.split(".")[1] not in text
        assert token.split(".")[2] not in text


# --- JWKS from a URL ---------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set can change, counting fetches."""

    def __init__(self, jwks: Any) -> None:
        self.jwks = jwks  # a JSON value, or bytes served as they are
        self.fetches = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = owner.jwks if isinstance(owner.jwks, bytes) else json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def jwks_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JwksServer]:
    monkeypatch.undo()  # allow real fetches, to this loopback server only
    server = JwksServer(JWKS)
    yield server
    server.server.shutdown()


def url_authorizer(monkeypatch: pytest.MonkeyPatch, url: str) -> Callable[[str], dict[str, Any]]:
    authorizer = load_function("authorizer")
    configure(monkeypatch, AuthorizerSettings(jwks_url=url, jwks_json="", issuer=ISSUER, audience=AUDIENCE))

    def call(authorization: str) -> dict[str, Any]:
        event = {"type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN}
        result: dict[str, Any] = authorizer.lambda_handler(event, LambdaContext())
        return result

    return call


def test_keys_from_jwks_url_are_cached_across_invocations(
    jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    authorize = url_authorizer(monkeypatch, jwks_server.url)

    for _ in range(3):
        assert authorize(f"Bearer {sign(claims())}")["policyDocument"]["Statement"][0]["Effect"] == "Allow"

    assert jwks_server.fetches == 1


def test_an_unknown_kid_refreshes_the_jwks_once(jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "JWKS_REFRESH_COOLDOWN_SECONDS", 0)  # the last fetch is not "just now"
    authorize = url_authorizer(monkeypatch, jwks_server.url)
    authorize(f"Bearer {sign(claims())}")
    jwks_server.jwks = {"keys": [jwk(OUR_KEY, "key-1"), jwk(OTHER_KEY, "key-2")]}  # the IdP rotates

    result = authorize(f"Bearer {sign(claims(), key=OTHER_KEY, kid='key-2')}")

    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert jwks_server.fetches == 2


def test_an_unreachable_jwks_url_refuses_everyone_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.undo()
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there now: connection refused
    authorize = url_authorizer(monkeypatch, f"http://127.0.0.1:{port}/jwks.json")

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(f"Bearer {sign(claims())}")

    assert "JWKS_URL could not be fetched" in logged(caplog)


EC_JWK = JWKS["keys"][1]
OCT_JWK = JWKS["keys"][2]
# Key sets with no key that can verify RS256, as a misconfigured identity provider (or
# JWKS_URL pointing at the wrong document) serves them.
UNUSABLE_KEY_SETS: dict[str, Any] = {
    "no keys": {"keys": []},
    "empty object": {},
    "only EC keys": {"keys": [EC_JWK]},
    "only symmetric keys": {"keys": [OCT_JWK]},
    "EC and symmetric keys": {"keys": [EC_JWK, OCT_JWK]},
    "an RSA key without n and e": {"keys": [{"kty": "RSA", "kid": "key-1", "alg": "RS256"}]},
    "an RSA key without kid": {"keys": [{k: v for k, v in jwk(OUR_KEY, "key-1").items() if k != "kid"}]},
    "an RSA encryption key": {"keys": [{**jwk(OUR_KEY, "key-1"), "use": "enc"}]},
    "keys not a list": {"keys": "key-1"},
    "keys of the wrong type": {"keys": [1, "two", None]},
    "a list": [jwk(OUR_KEY, "key-1")],
    "a string": "keys",
    "null": None,
    "not JSON": b"<html>Sign in</html>",
    "not UTF-8": b"\xff\xfe{",
    "a kid that is not a string": {"keys": [{**jwk(OUR_KEY, "key-1"), "kid": ["key-1"]}]},
    "an alg that is not a string": {"keys": [{**jwk(OUR_KEY, "key-1"), "alg": ["RS256"]}]},
    "nested deeper than the parser follows": b'{"keys": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("key_set", UNUSABLE_KEY_SETS, ids=list(UNUSABLE_KEY_SETS))
def test_a_jwks_url_without_a_usable_key_refuses_everyone_and_says_why(
    jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, key_set: str
) -> None:
    jwks_server.jwks = UNUSABLE_KEY_SETS[key_set]
    authorize = url_authorizer(monkeypatch, jwks_server.url)

    for kid in ("key-1", "ec-1", "hmac-1", "unknown"):
        with pytest.raises(Exception, match=r"^Unauthorized$"):  # never another exception: a 500
            authorize(f"Bearer {sign(claims(), kid=kid)}")

    assert "Signing keys unavailable" in logged(caplog)
    assert "JWKS_URL serves no" in logged(caplog)


@pytest.mark.parametrize("key_set", UNUSABLE_KEY_SETS, ids=list(UNUSABLE_KEY_SETS))
def test_an_inline_jwks_without_a_usable_key_refuses_everyone_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, key_set: str
) -> None:
    document = UNUSABLE_KEY_SETS[key_set]
    inline = document.decode("utf-8", "replace") if isinstance(document, bytes) else json.dumps(document)
    authorizer = load_function("authorizer")
    configure(monkeypatch, AuthorizerSettings(jwks_url="", jwks_json=inline, issuer=ISSUER, audience=AUDIENCE))

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.lambda_handler(
            {"type": "TOKEN", "authorizationToken": f"Bearer {sign(claims())}", "methodArn": METHOD_ARN},
            LambdaContext(),
        )
    assert "Signing keys unavailable" in logged(caplog)
    assert "JWKS_JSON" in logged(caplog)


def test_without_any_jwks_nobody_is_let_in(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    authorizer = load_function("authorizer")
    configure(monkeypatch, AuthorizerSettings(jwks_url="", jwks_json="", issuer=ISSUER, audience=AUDIENCE))

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.lambda_handler(
            {"type": "TOKEN", "authorizationToken": f"Bearer {sign(claims())}", "methodArn": METHOD_ARN},
            LambdaContext(),
        )
    assert "neither JWKS_URL nor JWKS_JSON is set" in logged(caplog)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "TOKEN", "methodArn": METHOD_ARN},
        {"type": "TOKEN", "authorizationToken": None, "methodArn": METHOD_ARN},
        {"type": "TOKEN", "authorizationToken": 5, "methodArn": METHOD_ARN},
        {"type": "TOKEN", "authorizationToken": ["Bearer x"], "methodArn": METHOD_ARN},
        {"type": "TOKEN", "authorizationToken": "Bearer x"},
        {"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": None},
        {"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": 5},
        {},
    ],
)
def test_an_event_of_any_other_shape_is_unauthorized(monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]) -> None:
    configure(monkeypatch, SETTINGS)
    if "authorizationToken" in event and event["authorizationToken"] == "Bearer x":
        event = {**event, "authorizationToken": f"Bearer {sign(claims())}"}  # a valid token: the ARN is at fault

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        load_function("authorizer").lambda_handler(event, LambdaContext())


@pytest.mark.parametrize("method_arn", ["", "not-an-arn", "arn:aws:execute-api:eu-west-1"])
def test_a_malformed_method_arn_is_unauthorized(authorize: Callable[..., dict[str, Any]], method_arn: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(f"Bearer {sign(claims())}", method_arn=method_arn)


def test_configuration_follows_the_environment(
    authorize: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = f"Bearer {sign(claims())}"
    assert authorize(token)["principalId"] == "usr_ada"

    monkeypatch.setenv("JWT_AUDIENCE", "another-api")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token)


def test_settings_come_from_the_contract_variables() -> None:
    settings = AuthorizerSettings.from_environ(
        {"JWKS_URL": " https://idp/jwks ", "JWKS_JSON": "", "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"}
    )

    assert settings == AuthorizerSettings(jwks_url="https://idp/jwks", jwks_json="", issuer="i", audience="a")


# --- a light cold start ------------------------------------------------------------


def test_the_authorizer_imports_neither_boto3_nor_pydantic() -> None:
    # Powertools imports the bare `botocore` package (for its user-agent hook); the SDK
    # machinery itself (sessions, clients) must stay unloaded.
    unwanted = ("boto3", "botocore.session", "botocore.client", "pydantic", "aws_xray_sdk")
    app_path = str(ROOT / "functions/authorizer/app.py")
    code = (
        "import importlib.util, sys;"
        f"spec = importlib.util.spec_from_file_location('authorizer_app', {app_path!r});"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
        f"print(sorted(m for m in {unwanted!r} if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(ROOT / "layers/common/python"), "JWKS_JSON": json.dumps(JWKS), "PATH": "/usr/bin:/bin"}

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


# --- Generated headers -------------------------------------------------------------

TOKEN_CASES = 1000
BASE64URL = string.ascii_letters + string.digits + "-_"


def test_generated_authorization_headers_are_refused_cleanly(authorize: Callable[..., dict[str, Any]]) -> None:
    """Whatever the header, the authorizer answers Unauthorized (API Gateway's 401); it
    never fails another way (which API Gateway would turn into a 500)."""
    tried: list[str | None] = []

    @settings(max_examples=TOKEN_CASES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        header=st.none()
        | st.text(max_size=200)
        | st.builds(lambda token: f"Bearer {token}", st.text(max_size=200))
        | st.builds(
            lambda parts: "Bearer " + ".".join(parts),
            st.lists(st.text(alphabet=BASE64URL + "=", max_size=60), min_size=3, max_size=3),
        )
    )
    def check(header: str | None) -> None:
        tried.append(header)
        with pytest.raises(Exception, match=r"^Unauthorized$"):  # API Gateway's contract: this exact exception
            authorize(header)

    check()
    assert len(tried) == TOKEN_CASES


def test_the_cached_allow_covers_every_route_the_template_puts_behind_the_authorizer(
    authorize: Callable[..., dict[str, Any]],
) -> None:
    from devtools.template import load_template

    routes = [
        (source["Properties"]["Method"].upper(), source["Properties"]["Path"])
        for function in load_template()["Resources"].values()
        if function["Type"] == "AWS::Serverless::Function"
        for source in function["Properties"].get("Events", {}).values()
        if source["Type"] == "Api" and source["Properties"].get("Auth", {}).get("Authorizer") == "AdminAuthorizer"
    ]
    result = authorize(f"Bearer {sign(claims())}", method_arn=f"{API}/v1/GET/events")

    assert ("POST", "/exports") in routes and ("GET", "/exports/{export_id}") in routes
    for method, path in routes:
        concrete = path.replace("{event_id}", "01KB0000000000000000000000").replace("{export_id}", "exp_01KB")
        assert allows(result, f"{API}/v1/{method}{concrete}"), f"one cached Allow covers {method} {path}"
