"""The API's OpenAPI 3 document, generated from the functions' own routes and models.

Each function has its own Powertools resolver, so each produces the part of the document
for its routes; this joins them and adds what only the deployment knows (the stage URL,
the two ways of authenticating). `openapi.json` at the repository root is its output,
committed; a unit test fails when the code and the file drift apart.

    python -m devtools.openapi          # rewrite openapi.json
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer, Server, ServerVariable

from devtools.functions import ROOT, load_function

DOCUMENT_PATH = ROOT / "openapi.json"
HTTP_FUNCTIONS = ("record_event", "query_log", "read_ledger", "exports", "streams")

TITLE = "Audit Log"
VERSION = "1"
DESCRIPTION = (
    "Platform backends record what happens in each organisation; each organisation's ORG Admins read "
    "their own organisation's log, newest first. Nothing can edit or delete a recorded event, and each "
    "organisation's signed ledger (RFC 9162) lets anyone check that offline."
)
SERVERS = [
    Server(
        url="https://{api_id}.execute-api.{region}.amazonaws.com/v1",
        description="Deployed stage v1 (stack output ApiUrl)",
        variables={
            "api_id": ServerVariable(default="abcdef1234", description="The REST API's id"),
            "region": ServerVariable(default="us-east-1", description="The stack's region"),
        },
    ),
    Server(url="http://127.0.0.1:3000", description="make local"),
]
SECURITY_SCHEMES = {
    # API Gateway's AWS_IAM authorization: a SigV4 signature of the backend's IAM credentials.
    "sigv4": APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description="AWS Signature Version 4 (API Gateway AWS_IAM authorization)",
    ),
    "adminToken": HTTPBearer(bearerFormat="JWT", description="An ORG Admin's RS256 token (DESIGN.md token rules)"),
}


def _referenced(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)
    return found


def _drop_default_validation_error(responses: dict[str, Any]) -> None:
    """Powertools documents a 422 in its own error format on every validated route; our
    routes document the errors they really answer (ErrorBody; 400 for query parameters)."""
    for status, response in list(responses.items()):
        if _referenced(response, set()) == {"HTTPValidationError"}:
            del responses[status]


def build_document() -> dict[str, Any]:
    """The whole API's document: every function's routes, the schemas they use, security."""
    document: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for name in HTTP_FUNCTIONS:
        part = load_function(name).app.get_openapi_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            servers=SERVERS,
            security_schemes=SECURITY_SCHEMES,
        )
        part_dict = json.loads(part.model_dump_json(by_alias=True, exclude_none=True))
        document = document or part_dict
        for path, operations in part_dict["paths"].items():
            for operation in operations.values():
                _drop_default_validation_error(operation["responses"])
            clash = set(paths.get(path, {})) & set(operations)
            assert not clash, f"{path} {clash} is routed by two functions"
            paths.setdefault(path, {}).update(operations)
        for schema_name, schema in part_dict["components"]["schemas"].items():
            assert schemas.get(schema_name, schema) == schema, f"two different schemas named {schema_name}"
            schemas[schema_name] = schema
    used: set[str] = _referenced(paths, set())
    while True:
        more = _referenced([schemas[name] for name in used], set(used))
        if more == used:
            break
        used = more
    document["paths"] = {path: paths[path] for path in sorted(paths)}
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    DOCUMENT_PATH.write_text(render(build_document()))
    print(f"wrote {DOCUMENT_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
