"""Import a function's handler module (`functions/<name>/app.py`) outside Lambda: for the
tests, the OpenAPI generator and the benchmarks. Every function's module is `app.py`, so
each is imported under a name of its own."""

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_function(name: str, container: str = "") -> ModuleType:
    """functions/<name>/app.py as module `<name>_app<container>`, imported once.

    A distinct `container` gives a separate copy, as each concurrent Lambda container has
    its own: one handler serves one invocation at a time, so threads must not share one.
    """
    module_name = f"{name}_app{container}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class LambdaContext:
    """What Powertools reads of the Lambda context object, for calling a handler outside
    Lambda (tests, benchmarks)."""

    function_name: str = "audit-log-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:audit-log-local"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as API Gateway hands it to Lambda."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
        "body": text,
        "isBase64Encoded": False,
    }
