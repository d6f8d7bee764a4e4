"""Every copy-paste example shows something under `make local`: each curl command of the
README, of docs/ and of `make local`'s welcome text, and each query sample in events/, is
run against `make local`'s demo data (written by devtools.demo_data, times relative to
now) through the functions, with the authorizer's context for the token it names.

Records must be recorded (201, or 200 for a repeated key), an admin's reads must answer
at least one event, a member's read must be refused.
"""

import io
import json
import re
import shlex
import subprocess
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from devtools import demo_data, local_stack
from devtools.functions import LambdaContext, load_function
from tests.conftest import ROOT, TEST_ENV, admin_context, api_event

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEMO_ORG = "org_acme"
_DATE = re.compile(r"\$\(date -u -d '([^']+)' \+%FT%TZ\)")


@dataclass(frozen=True)
class Example:
    where: str
    command: str


def shell_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks of `text`: continued lines (a trailing
    backslash, or a single-quoted argument left open) joined, comments dropped."""
    commands: list[str] = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\"):
                pending = pending[:-1]
                continue
            if pending.count("'") % 2 == 0:
                commands.append(pending.strip())
                pending = ""
    return commands


def curl_examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        for command in shell_commands(document.read_text()):
            if "curl " in command:
                found.append(Example(document.relative_to(ROOT).as_posix(), command))
    welcome = io.StringIO()
    with redirect_stdout(welcome):
        receiver = local_stack.WebhookReceiver(None, "http://172.17.0.1:8765", Path("secrets"), Path("received"))  # type: ignore[arg-type]
        local_stack.print_welcome(
            "http://127.0.0.1:3000", "http://127.0.0.1:8080/settings/audit-log", receiver, "http://127.0.0.1:5000"
        )
    text = "\n".join(line.strip() for line in welcome.getvalue().splitlines())
    for command in shell_commands(f"```bash\n{text}\n```"):
        if command.startswith(("curl ", "NEXT=$(curl ")) and "$API" in command:  # not the receiver's control
            found.append(Example("make local's welcome", command))
    return found


# A read without a token is refused by API Gateway before any function runs (401): that
# is the authorizer's and the e2e tier's to show, not something to run here.
EXAMPLES = [e for e in curl_examples() if "Authorization:" in e.command or " -X POST " in e.command]


def expand(text: str, variables: dict[str, str]) -> str:
    """The shell's expansions these examples use: `$(date -u -d '…' +%FT%TZ)` and
    variables."""
    text = _DATE.sub(
        lambda match: subprocess.run(
            ["date", "-u", "-d", match.group(1), "+%FT%TZ"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        text,
    )
    return re.sub(r"\$([A-Z_]+)", lambda match: variables.get(match.group(1), match.group(0)), text)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str | None


def parse_curl(command: str, variables: dict[str, str]) -> Request:
    words = shlex.split(command.removeprefix("NEXT=$(").split(" | ")[0])
    assert words[0] == "curl", command
    method, url, headers, body = "GET", None, {}, None
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = expand(value.strip(), variables)
        elif word in ("-d", "--data"):
            body = next(rest)
            method = "POST" if method == "GET" else method
        elif word.startswith("$API"):
            url = expand(word, variables)
    assert url is not None, f"no $API URL in {command}"
    split = urlsplit(url)
    return Request(method, split.path, dict(parse_qsl(split.query, keep_blank_values=True)), headers, body)


@pytest.fixture(scope="module")
def demo_log() -> Any:
    """The demo data, sealed into the ledger (by a reconciliation pass: the same sealing
    as from the stream, without moto's slow stream reads) and indexed from the stream
    (actors, event types, target histories, signals: nothing else derives them)."""
    from devtools.stream_poller import stream_source
    from tests.conftest import (
        FullTimeContext,
        Indexer,
        exports_resources_in_mock,
        fresh_tables,
        ledger_resources_in_mock,
        streams_resources_in_mock,
    )

    with fresh_tables() as client, ledger_resources_in_mock(), exports_resources_in_mock(), streams_resources_in_mock():
        demo_data.main(TEST_ENV["TABLE_NAME"])
        load_function("seal_log").lambda_handler({"reconcile": {}}, FullTimeContext())
        index_events = load_function("index_events")
        Indexer(
            stream_source(dynamodb_endpoint=None, table_name=TEST_ENV["TABLE_NAME"]),
            lambda batch: index_events.lambda_handler(batch, LambdaContext()),
        ).run()
        yield client


def function_for(request: Request) -> str:
    if request.path.startswith("/exports"):
        return "exports"
    if request.path.startswith("/streams"):
        return "streams"
    if request.method == "POST":
        return "record_event"
    if request.path.startswith("/ledger/") or request.path.endswith("/proof"):
        return "read_ledger"
    return "query_log"


def call(request: Request, role: str | None) -> tuple[int, Any]:
    function = function_for(request)
    authorizer = None if role is None else {**admin_context(DEMO_ORG), "role": role}
    event = api_event(
        request.method,
        request.path,
        headers=request.headers,
        raw_body=request.body,
        query=request.query or None,
        authorizer=authorizer,
    )
    response = load_function(function).lambda_handler(event, LambdaContext())
    return int(response["statusCode"]), json.loads(response["body"])


def test_the_docs_have_examples_of_every_route() -> None:
    commands = " ".join(example.command for example in EXAMPLES)
    assert len(EXAMPLES) >= 10
    for needed in ('"$API/events"', '"$API/events/batch"', "$API/events?", "cursor=$NEXT", "$MEMBER_TOKEN"):
        assert needed in commands, needed


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: f"{example.where}: {example.command[:90]}")
def test_each_example_shows_something_on_the_demo_data(demo_log: Any, example: Example) -> None:
    variables: dict[str, str] = {"API": ""}
    if "$NEXT" in example.command:  # the cursor of the page this example's NEXT= line fetched
        first = parse_curl(re.sub(r"&cursor=\$NEXT", "", example.command), variables)
        status, page = call(first, "admin")
        assert status == 200 and page["next_cursor"], (status, page)
        variables["NEXT"] = page["next_cursor"]
    request = parse_curl(example.command, variables)
    authorization = request.headers.get("Authorization", "")
    role = "member" if "$MEMBER_TOKEN" in authorization else ("admin" if authorization else None)

    status, answer = call(request, role)

    if function_for(request) == "exports":  # an admin's: the organisation is the token's
        assert role == "admin", example
        assert status == (202 if request.method == "POST" else 200), answer
        assert answer.get("export_id") or "exports" in answer, answer
    elif function_for(request) == "streams":
        assert role == "admin", example
        assert status == (201 if request.method == "POST" else 200), answer
        assert answer.get("stream_id") or "streams" in answer, answer
    elif request.method == "POST":
        assert status in (200, 201), answer
        assert "org_acme" in (request.body or ""), "records into the demo organisation"
    elif role == "member":
        assert status == 403, answer
    else:
        assert role == "admin", example
        assert status == 200, answer
        if function_for(request) == "read_ledger":  # the demo data is sealed
            shown = answer.get("public_key_pem") or answer.get("entries") or answer.get("tree_size", 0) > 0
            assert shown, f"{example.where}: {str(answer)[:200]}"
        else:
            shown = answer.get("events") or answer.get("actors") or answer.get("event_types")
            assert shown, f"{example.where}: nothing in the demo data for {request.path} {request.query}"


@pytest.mark.parametrize("path", sorted((ROOT / "events").glob("query_*.json")), ids=lambda path: path.name)
def test_each_query_sample_serves_demo_events(demo_log: Any, path: Path) -> None:
    sample = json.loads(path.read_text())

    response = load_function("query_log").lambda_handler(sample, LambdaContext())

    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["events"], f"{path.name} finds nothing in the demo data"
