"""openapi.json: generated from the code, committed, and agreeing with template.yaml."""

import json
from typing import Any

from devtools.openapi import DOCUMENT_PATH, build_document, render
from devtools.template import load_template


def test_the_committed_document_is_what_the_code_generates() -> None:
    assert DOCUMENT_PATH.read_text() == render(build_document()), "openapi.json is stale: run `make openapi`"


def _template_routes() -> dict[tuple[str, str], str]:
    """(path, method) → authorizer, for every API event of every function."""
    template = load_template()
    default = template["Resources"]["AuditApi"]["Properties"]["Auth"]["DefaultAuthorizer"]
    routes = {}
    for resource in template["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                properties = event["Properties"]
                authorizer = properties.get("Auth", {}).get("Authorizer", default)
                routes[(properties["Path"], properties["Method"].lower())] = authorizer
    return routes


def test_the_document_has_exactly_the_template_routes_with_their_authorization() -> None:
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())
    documented = {
        (path, method): operation["security"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    scheme: dict[str, list[dict[str, list[str]]]] = {
        "AWS_IAM": [{"sigv4": []}],
        "AdminAuthorizer": [{"adminToken": []}],
    }

    assert documented == {route: scheme[authorizer] for route, authorizer in _template_routes().items()}


def test_every_error_status_a_route_documents_has_a_json_body() -> None:
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"400"} <= set(operation["responses"])
            for response in operation["responses"].values():
                assert "application/json" in response["content"]
