"""Schemathesis against the local stack, from the committed openapi.json: at least 600
generated requests per record or log operation (the unit tier sends thousands more
through the handlers, faster), 200 per other read (the ledger's, the
investigation helpers'), 50 per exports operation and 20 per streams operation, valid and invalid, through API
Gateway emulation, the authorizer and the functions in Lambda containers. Every answer must be documented and
conform to its schema, none may be a 5xx, invalid input must be refused, and each read
is tried again without its token, which must be refused.

What `sam local` cannot show is left to the unit tier: it checks no SigV4 on the record
routes (API Gateway refuses unsigned calls with 403), and it answers an authorizer's
"Unauthorized" with 502 where API Gateway answers 401 (1,000 generated Authorization
headers are refused by the authorizer in test_authorizer.py).
"""

import json
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, reject, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

from devtools import local_stack
from devtools.dev_tokens import token
from devtools.openapi import DOCUMENT_PATH
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e

CASES_PER_OPERATION = 600
ORG = "org_fuzz"
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]
BODY_ONLY_CHECKS = [checks.negative_data_rejection]
tried: Counter[str] = Counter()
not_sent: Counter[str] = Counter()
local_table: Counter[str] = Counter()
WRITES_BETWEEN_RESETS = 100
answered: Counter[tuple[str, int]] = Counter()


def local_stack_document() -> dict[str, Any]:
    """openapi.json without its security requirements, which the local stack cannot answer
    as API Gateway does: sam local checks no SigV4, and answers a bad token with 502. The
    test sends the admin token itself, and checks each read without it separately."""
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())
    for operations in document["paths"].values():
        for operation in operations.values():
            del operation["security"]
    return document


# Loaded at collection (schemathesis parametrizes from it); the stack's URL, known only
# once the session fixture has started it, is given to each call.
ADMIN = {"Authorization": f"Bearer {token(ORG, 'admin', 'usr_fuzz')}"}
# The record and log routes get the most cases; the other reads (the ledger's: numbers, a
# cursor and an id; the actors' search) fewer: each costs a round trip through sam local, twice.
LOG_ROUTES = r"^/events(/batch)?$"
LEDGER_CASES_PER_OPERATION = 200
# The exports routes: each accepted POST also starts an export the local worker builds.
EXPORT_ROUTES = r"^/exports"
EXPORT_CASES_PER_OPERATION = 50
# The streams routes: an accepted POST makes a stream (at most 5, then 409), which the
# local delivery then tries to reach; fewer cases keep the tier's time.
STREAM_ROUTES = r"^/streams"
STREAM_CASES_PER_OPERATION = 20


def _schema(cases: int) -> OpenApiSchema:
    loaded = schemathesis.openapi.from_dict(local_stack_document())
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=cases)
    return loaded


log_schema = _schema(CASES_PER_OPERATION).include(path_regex=LOG_ROUTES)
ledger_schema = (
    _schema(LEDGER_CASES_PER_OPERATION)
    .exclude(path_regex=LOG_ROUTES)
    .exclude(path_regex=EXPORT_ROUTES)
    .exclude(path_regex=STREAM_ROUTES)
)
export_schema = _schema(EXPORT_CASES_PER_OPERATION).include(path_regex=EXPORT_ROUTES)
stream_schema = _schema(STREAM_CASES_PER_OPERATION).include(path_regex=STREAM_ROUTES)


@log_schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers_and_no_5xx(case: Any, local_api: LocalApi) -> None:
    check_generated(case, local_api)


@ledger_schema.parametrize()
@settings(
    max_examples=LEDGER_CASES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_generated_ledger_reads_get_documented_answers_and_no_5xx(case: Any, local_api: LocalApi) -> None:
    check_generated(case, local_api)


@export_schema.parametrize()
@settings(
    max_examples=EXPORT_CASES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_generated_export_requests_get_documented_answers_and_no_5xx(case: Any, local_api: LocalApi) -> None:
    check_generated(case, local_api)


@stream_schema.parametrize()
@settings(
    max_examples=STREAM_CASES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_generated_stream_requests_get_documented_answers_and_no_5xx(case: Any, local_api: LocalApi) -> None:
    check_generated(case, local_api)


def check_generated(case: Any, local_api: LocalApi) -> None:
    label = f"{case.method} {case.path}"
    if _not_utf8(case.body):
        # sam local's own front end fails to decode such a body and answers 502 before any
        # function runs; API Gateway hands functions text, which the unit tier fuzzes.
        not_sent[label] += 1
        reject()
    with requests.Session() as session:
        if local_table["writes since reset"] >= WRITES_BETWEEN_RESETS:
            empty_local_table(local_api, session)
        response = case.call(base_url=local_api.base, session=session, headers=ADMIN, timeout=60)
        tried[label] += 1
        answered[(label, response.status_code)] += 1
        if case.method == "POST" and response.status_code < 300:
            local_table["writes since reset"] += 1
        assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}\n{case.as_curl_command()}"
        # Query values are text on the wire: a "negative" non-string value can serialise to
        # a valid one, so reads skip that one check (the unit tier fuzzes query strings).
        reads = case.operation.method.upper() == "GET"
        case.validate_response(response, checks=[c for c in CHECKS if not (reads and c in BODY_ONLY_CHECKS)])
        if reads and case.method == "GET":
            kwargs = case.as_transport_kwargs(base_url=local_api.base)
            kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
            refused = session.request(**kwargs, timeout=60)
            tried[f"{label} without a token"] += 1
            assert refused.status_code == 401, refused.text[:500]


def empty_local_table(local_api: LocalApi, session: requests.Session) -> None:
    """Give moto server the template's tables afresh, empty.

    moto copies every table for each transaction (measured: 0.5 ms per stored item, 2.8 s
    per batch at 6,000 items); DynamoDB does not. Without this, the fuzz's own thousands of
    events would make moto slower than the functions' DynamoDB timeouts, a 503 that says
    nothing about the API. The fuzz runs last in the e2e session, so no other test's data
    is lost.
    """
    local_stack.recreate_tables(local_api.dynamodb)
    local_table["resets"] += 1
    local_table["writes since reset"] = 0


def _not_utf8(body: Any) -> bool:
    if not isinstance(body, bytes):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_zz_each_operation_got_its_generated_requests(local_api: LocalApi) -> None:
    """Runs after the generated tests (file order). Writes the figures the docs quote to
    .local/openapi-fuzz.json. It needs the local stack like the generated tests: without
    an engine it skips with them (and fails with them under AUDIT_LOG_REQUIRE_E2E=1)."""
    figures = {
        "requests": dict(tried),
        "answers": {f"{label} {status}": count for (label, status), count in sorted(answered.items())},
        "not sent (not UTF-8)": dict(not_sent),
        "local table emptied": local_table["resets"],
    }
    local_stack.LOCAL.mkdir(exist_ok=True)
    (local_stack.LOCAL / "openapi-fuzz.json").write_text(json.dumps(figures, indent=2) + "\n")
    for operation in ("POST /events", "POST /events/batch", "GET /events", "GET /events without a token"):
        assert tried[operation] >= CASES_PER_OPERATION, dict(tried)
    assert tried["POST /exports"] >= EXPORT_CASES_PER_OPERATION * 0.9, dict(tried)
    for operation in ("POST /streams", "POST /streams/{stream_id}/test", "DELETE /streams/{stream_id}"):
        assert tried[operation] >= STREAM_CASES_PER_OPERATION * 0.9, dict(tried)
    # Another read with parameters gets its cases; one without (the latest checkpoint, the
    # public key, the event types) has nothing to vary: schemathesis sends it a few times.
    for path, operations in json.loads(DOCUMENT_PATH.read_text())["paths"].items():
        if path in ("/events", "/events/batch"):
            continue
        if "get" not in operations:
            continue
        cases = LEDGER_CASES_PER_OPERATION
        if path.startswith("/exports"):
            cases = EXPORT_CASES_PER_OPERATION
        elif path.startswith("/streams"):
            cases = STREAM_CASES_PER_OPERATION
        wanted = cases * 0.9 if operations["get"].get("parameters") else 1
        for operation in (f"GET {path}", f"GET {path} without a token"):
            assert tried[operation] >= wanted, dict(tried)
