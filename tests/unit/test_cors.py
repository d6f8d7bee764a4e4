"""The admin page reads the log from another origin: the query function's answers name
that one origin (ADMIN_ORIGIN) and no other, and the template configures API Gateway's
side (preflight, the authorizer's 401/403) for the same origin, never for "*"."""

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError
from samtranslator.translator.transform import transform

from audit_log.settings import current
from audit_log.settings.query import QuerySettings
from devtools.functions import LambdaContext, load_function
from devtools.template import load_template, resource
from tests.conftest import admin_context, api_event

ADMIN_UI = "https://admin.example.com"


def query(headers: dict[str, str], params: dict[str, str] | None = None) -> dict[str, Any]:
    event = api_event("GET", "/events", query=params, headers=headers, authorizer=admin_context("org_a"))
    response: dict[str, Any] = load_function("query_log").lambda_handler(event, LambdaContext())
    return response


def cors_headers(response: dict[str, Any]) -> dict[str, str]:
    headers = {**response.get("headers", {}), **{k: v[-1] for k, v in response.get("multiValueHeaders", {}).items()}}
    return {name: value for name, value in headers.items() if name.startswith("Access-Control-") or name == "Vary"}


@pytest.fixture
def admin_origin(monkeypatch: pytest.MonkeyPatch, ddb: Any) -> str:
    monkeypatch.setenv("ADMIN_ORIGIN", ADMIN_UI)
    return ADMIN_UI


def test_the_admin_origin_may_read_the_answer(admin_origin: str) -> None:
    response = query({"Origin": admin_origin})

    assert response["statusCode"] == 200
    headers = cors_headers(response)
    assert headers["Access-Control-Allow-Origin"] == admin_origin
    assert "Authorization" in headers["Access-Control-Allow-Headers"].split(",")
    assert headers["Vary"] == "Origin"


def test_error_answers_name_the_admin_origin_too(admin_origin: str) -> None:
    response = query({"Origin": admin_origin}, {"limit": "0"})

    assert response["statusCode"] == 400
    assert cors_headers(response)["Access-Control-Allow-Origin"] == admin_origin


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "https://admin.example.com.evil.example", "http://admin.example.com", "null", ""],
)
def test_any_other_origin_gets_no_cors_headers(admin_origin: str, origin: str) -> None:
    response = query({"Origin": origin} if origin else {})

    assert response["statusCode"] == 200
    assert cors_headers(response) == {}


def test_without_an_admin_origin_no_answer_carries_cors_headers(monkeypatch: pytest.MonkeyPatch, ddb: Any) -> None:
    monkeypatch.delenv("ADMIN_ORIGIN", raising=False)

    assert cors_headers(query({"Origin": ADMIN_UI})) == {}


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "https://admin.example.com/", "admin.example.com"])
def test_a_wildcard_or_malformed_admin_origin_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ADMIN_ORIGIN", value)

    with pytest.raises(ValidationError):
        current(QuerySettings)


# --- template ----------------------------------------------------------------------

TEMPLATE = load_template()
API = resource(TEMPLATE, "AuditApi")["Properties"]
PARAMETER = TEMPLATE["Parameters"]["AdminOrigin"]


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("https://admin.example.com", True),
        ("http://127.0.0.1:8080", True),
        ("*", False),
        ("https://*.example.com", False),
        ("https://admin.example.com/settings", False),
        ("'*'", False),
    ],
)
def test_each_stage_names_one_origin_and_never_a_wildcard(origin: str, accepted: bool) -> None:
    assert bool(re.fullmatch(PARAMETER["AllowedPattern"], origin)) is accepted
    assert bool(re.fullmatch(QuerySettings.model_fields["ADMIN_ORIGIN"].metadata[0].pattern, origin)) is accepted


def test_the_api_the_function_and_the_gateway_responses_use_that_one_origin() -> None:
    origin = {"Fn::Sub": "'${AdminOrigin}'"}
    assert API["Cors"]["AllowOrigin"] == origin
    assert "Authorization" in API["Cors"]["AllowHeaders"].strip("'").split(",")
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):  # the authorizer's 401 and 403 among them
        headers = API["GatewayResponses"][response_type]["ResponseParameters"]["Headers"]
        assert headers["Access-Control-Allow-Origin"] == origin
    variables = resource(TEMPLATE, "QueryLogFunction")["Properties"]["Environment"]["Variables"]
    assert variables["ADMIN_ORIGIN"] == {"Ref": "AdminOrigin"}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def test_the_browser_preflight_needs_no_credentials_and_get_keeps_its_authorizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What SAM turns the template into: a preflight with AWS_IAM on it would be refused
    (browsers send no credentials with it), so the page could never call GET."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = json.loads(json.dumps(TEMPLATE))
    for definition in template["Resources"].values():  # the translator wants uploaded code
        if definition["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            key = "CodeUri" if "CodeUri" in definition["Properties"] else "ContentUri"
            definition["Properties"][key] = "s3://bucket/code.zip"
    translated = transform(template, {}, _NoManagedPolicies())
    body = translated["Resources"]["AuditApi"]["Properties"]["Body"]
    events = body["paths"]["/events"]

    assert "security" not in events["options"] or events["options"]["security"] == []
    assert events["options"]["x-amazon-apigateway-integration"]["type"] == "mock"
    assert events["get"]["security"] == [{"AdminAuthorizer": []}]
    assert set(body["x-amazon-apigateway-gateway-responses"]) == {"DEFAULT_4XX", "DEFAULT_5XX"}
