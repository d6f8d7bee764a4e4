"""devtools.webhook_receiver: Standard Webhooks messages checked against the secret on
file for their path (re-read for every message), recorded, failed on demand, and the
secret never shown."""

import base64
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from devtools.webhook_receiver import MAX_BODY, ReceiverServer, main, remember, serve

ROOT = Path(__file__).resolve().parents[2]

EVENT = {
    "event_id": "01KB7Z3Q9D6V0S8M2N4P6R8T0V",
    "occurred_at": "2026-11-26T09:15:02.120Z",
    "recorded_at": "2026-11-26T09:15:02.120Z",
    "event_type": "member.invited",
    "actor": {"id": "usr_ada", "type": "user", "name": "Ada Lovelace", "email": "ada@acme.example"},
    "targets": [{"type": "user", "id": "usr_margaret", "name": "Margaret Hamilton"}],
    "context": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"},
    "details": {"role": "member"},
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def event_body(event: dict[str, Any] = EVENT) -> bytes:
    return json.dumps({"type": "audit_log.event", "timestamp": event["recorded_at"], "data": event}).encode()


def signed(secret: str, body: bytes, msg_id: str = str(EVENT["event_id"])) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
        "Content-Type": "application/json",
    }


@dataclass
class Client:
    url: str
    received: Path

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status), bytes(answer.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    def records(self) -> list[dict[str, Any]]:
        if not self.received.exists():
            return []
        return [json.loads(line) for line in self.received.read_text().splitlines()]


@dataclass
class Receiver(Client):
    server: ReceiverServer
    secrets: Path


def start(tmp_path: Path, fail_first: int = 0) -> tuple[Receiver, threading.Thread]:
    secrets, received = tmp_path / "secrets.json", tmp_path / "received.ndjson"
    server = serve("127.0.0.1", 0, secrets, received, fail_first=fail_first)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return Receiver(f"http://127.0.0.1:{server.server_address[1]}", received, server, secrets), thread


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    running, thread = start(tmp_path)
    yield running
    running.server.shutdown()
    running.server.server_close()
    thread.join(5)


@pytest.fixture
def secret(receiver: Receiver) -> str:
    value = new_secret()
    remember(receiver.secrets, "/demo", value)
    return value


def test_a_signed_event_is_accepted_recorded_and_shown(
    receiver: Receiver, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = event_body()
    assert receiver.post("/demo", body, signed(secret, body)) == (204, b"")

    [record] = receiver.records()
    assert record["path"] == "/demo"
    assert record["webhook_id"] == EVENT["event_id"]
    assert record["valid"] is True
    assert record["status"] == 204
    assert record["body"] == json.loads(body)
    assert record["received_at"].endswith("Z")
    [line] = capsys.readouterr().out.splitlines()
    for shown in ("/demo", EVENT["event_id"], "audit_log.event", "member.invited", "usr_ada", EVENT["occurred_at"]):
        assert str(shown) in line
    assert line.endswith("signature OK")


def test_a_test_message_and_a_query_string(receiver: Receiver, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps({"type": "audit_log.test", "timestamp": "2026-11-26T09:15:02Z", "data": {}}).encode()
    assert receiver.post("/demo?stream=1", body, signed(secret, body, "msg_test_1"))[0] == 204
    assert receiver.records()[0]["path"] == "/demo"
    assert "msg_test_1 audit_log.test signature OK" in capsys.readouterr().out


def test_a_tampered_body_is_refused(receiver: Receiver, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    headers = signed(secret, event_body())
    tampered = event_body({**EVENT, "event_type": "member.removed"})
    status, answer = receiver.post("/demo", tampered, headers)
    assert status == 401
    assert "signature INVALID" in json.loads(answer)["error"]

    [record] = receiver.records()
    assert (record["valid"], record["status"]) == (False, 401)
    assert record["body"]["data"]["event_type"] == "member.removed"  # recorded as it arrived
    assert "signature INVALID (No matching signature found)" in capsys.readouterr().out


def test_a_wrong_secret_or_an_old_timestamp_is_refused(receiver: Receiver, secret: str) -> None:
    body = event_body()
    assert receiver.post("/demo", body, signed(new_secret(), body))[0] == 401
    stale = {**signed(secret, body), "webhook-timestamp": str(int(datetime.now(UTC).timestamp()) - 3600)}
    assert receiver.post("/demo", body, stale)[0] == 401
    assert [record["valid"] for record in receiver.records()] == [False, False]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"webhook-id": "x", "webhook-timestamp": "now", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1"},
    ],
    ids=["unsigned", "bad-timestamp", "no-comma"],
)
def test_malformed_headers_are_refused_not_crashed_on(
    receiver: Receiver, secret: str, headers: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    if headers.get("webhook-timestamp") == "1":
        headers = {**headers, "webhook-timestamp": str(int(datetime.now(UTC).timestamp()))}
    assert receiver.post("/demo", event_body(), headers)[0] == 401
    assert "signature INVALID (" in capsys.readouterr().out
    assert receiver.records()[0]["valid"] is False


def test_a_body_that_is_not_json_or_not_utf8(receiver: Receiver, secret: str) -> None:
    body = b"not json"
    assert receiver.post("/demo", body, signed(secret, body))[0] == 204  # signed is signed
    assert receiver.records()[0]["body"] is None
    assert receiver.post("/demo", b"\xff\xfe", {**signed(secret, body)})[0] == 401


def test_a_path_without_a_secret_is_refused(receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    body = event_body()
    assert not receiver.secrets.exists()  # a missing file is no secrets
    assert receiver.post("/nobody", body, signed(new_secret(), body))[0] == 401
    remember(receiver.secrets, "/demo", new_secret())
    assert receiver.post("/nobody", body, signed(new_secret(), body))[0] == 401
    out = capsys.readouterr().out
    assert out.count("no secret for /nobody") == 2
    assert [(record["path"], record["valid"]) for record in receiver.records()] == [("/nobody", False)] * 2


def test_an_unreadable_secrets_file_is_no_secrets(receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    receiver.secrets.write_text("{not json")
    body = event_body()
    assert receiver.post("/demo", body, signed(new_secret(), body))[0] == 401
    out = capsys.readouterr().out
    assert "cannot read" in out
    assert "no secret for /demo" in out


def test_the_secrets_file_is_read_again_for_every_message(receiver: Receiver) -> None:
    later = new_secret()
    body = event_body()
    assert receiver.post("/later", body, signed(later, body))[0] == 401
    assert main(["--remember", "/later", later, "--secrets", str(receiver.secrets)]) == 0
    assert receiver.post("/later", body, signed(later, body))[0] == 204
    replaced = new_secret()
    receiver.secrets.write_text(json.dumps({"/later": replaced}))
    assert receiver.post("/later", body, signed(later, body))[0] == 401
    assert receiver.post("/later", body, signed(replaced, body))[0] == 204


def test_remember_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = tmp_path / "nested" / "secrets.json"
    first, second = new_secret(), new_secret()
    assert main(["--remember", "/mine", first, "--secrets", str(secrets)]) == 0
    assert main(["--remember", "theirs", second, "--secrets", str(secrets)]) == 0  # the leading / is added
    assert json.loads(secrets.read_text()) == {"/mine": first, "/theirs": second}
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert list(secrets.parent.iterdir()) == [secrets]  # no temporary file left behind
    third = new_secret()
    assert main(["--remember", "/mine", third, "--secrets", str(secrets)]) == 0
    assert json.loads(secrets.read_text())["/mine"] == third
    out, err = capsys.readouterr()
    assert "remembered the secret for /mine" in out
    for value in (first, second, third):
        assert value not in out + err
        assert value.removeprefix("whsec_") not in out + err


@pytest.mark.parametrize("bad", ["not-a-secret", "whsec_===", "whsec_%%%%", "whsec_abcde"])
def test_remember_refuses_an_unusable_secret_without_echoing_it(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "secrets.json"
    assert main(["--remember", "/mine", bad, "--secrets", str(secrets)]) == 2
    assert not secrets.exists()
    out, err = capsys.readouterr()
    assert "not remembered" in err
    assert bad not in out + err


def test_remember_reads_the_secret_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    secrets = tmp_path / "secrets.json"
    assert main(["--remember", "/mine", "-", "--secrets", str(secrets)]) == 0
    assert json.loads(secrets.read_text()) == {"/mine": secret}


def test_fail_first_answers_503_to_the_first_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    running, thread = start(tmp_path, fail_first=2)
    try:
        secret = new_secret()
        remember(running.secrets, "/demo", secret)
        body = event_body()
        statuses = [running.post("/demo", body, signed(secret, body))[0] for _ in range(3)]
        unsigned = running.post("/other", b"{}")[0]
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(5)
    assert statuses == [503, 503, 204]
    assert unsigned == 401
    assert [(record["status"], record["valid"]) for record in running.records()] == [
        (503, True),
        (503, True),
        (204, True),
        (401, False),
    ]
    assert capsys.readouterr().out.count("signature OK -> 503 (simulated failure") == 2


def test_the_control_paths_fail_and_recover(receiver: Receiver, secret: str) -> None:
    body = event_body()
    assert receiver.post("/_control/fail", b'{"count": 2}') == (200, b'{"failing": 2}')
    assert receiver.post("/demo", body, signed(secret, body))[0] == 503
    assert receiver.post("/nobody", b"whatever")[0] == 503  # whatever it is
    assert receiver.post("/demo", body, signed(secret, body))[0] == 204

    assert receiver.post("/_control/fail", b'{"count": 5}')[0] == 200
    assert receiver.post("/demo", body, signed(secret, body))[0] == 503
    with urllib.request.urlopen(receiver.url + "/", timeout=10) as state:  # GET never fails
        assert json.loads(state.read()) == {"receiver": "webhook", "failing": 4}
    assert receiver.post("/_control/ok", b"") == (200, b'{"failing": 0}')
    assert receiver.post("/demo", body, signed(secret, body))[0] == 204
    # Control requests are neither failed nor recorded.
    assert [record["status"] for record in receiver.records()] == [503, 503, 204, 503, 204]


@pytest.mark.parametrize("body", [b'{"count": -1}', b'{"count": "2"}', b'{"count": true}', b"[2]", b"nope"])
def test_the_fail_control_wants_a_count(receiver: Receiver, body: bytes) -> None:
    assert receiver.post("/_control/fail", body)[0] == 400
    assert receiver.post("/_control/nothing", b"")[0] == 404
    assert receiver.server.failing == 0


def test_a_body_over_a_mebibyte_is_refused_unread(receiver: Receiver, secret: str) -> None:
    host, port = receiver.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        connection.putrequest("POST", "/demo")
        connection.putheader("Content-Length", str(MAX_BODY + 1))
        connection.endheaders()  # and no body: the receiver must answer without reading one
        answer = connection.getresponse()
        assert answer.status == 413
    finally:
        connection.close()
    [record] = receiver.records()
    assert (record["status"], record["valid"], record["body"]) == (413, False, None)
    body = b"x" * MAX_BODY  # exactly the limit is fine
    assert receiver.post("/demo", body, signed(secret, body))[0] == 204


def test_the_secret_never_appears_in_stdout_or_the_records(
    receiver: Receiver, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = event_body()
    receiver.post("/demo", body, signed(secret, body))
    receiver.post("/demo", event_body({**EVENT, "event_type": "x"}), signed(secret, body))
    receiver.post("/demo", body, signed(new_secret(), body))
    receiver.secrets.write_text(json.dumps({"/demo": secret, "/broken": "whsec_%%%"}))
    receiver.post("/broken", body, signed(secret, body))
    main(["--remember", "/again", secret, "--secrets", str(receiver.secrets)])
    out, err = capsys.readouterr()
    recorded = receiver.received.read_text()
    assert "the secret on file is not usable" in out
    for text in (out, err, recorded):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text


def test_the_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    secrets, received = tmp_path / "secrets.json", tmp_path / "received.ndjson"
    secret = new_secret()
    remember(secrets, "/demo", secret)
    command = [sys.executable, "-m", "devtools.webhook_receiver", "--port", "0", "--fail-first", "1"]
    command += ["--secrets", str(secrets), "--received", str(received)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        started = process.stdout.readline()
        assert started.startswith("webhook receiver on http://127.0.0.1:")
        port = int(started.split("http://127.0.0.1:")[1].split("/")[0])
        client = Client(f"http://127.0.0.1:{port}", received)
        body = event_body()
        assert client.post("/demo", body, signed(secret, body))[0] == 503
        assert client.post("/demo", body, signed(secret, body))[0] == 204
        assert "-> 503" in process.stdout.readline()
        assert process.stdout.readline().rstrip().endswith("signature OK")
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert secret not in out + err
    assert [record["status"] for record in client.records()] == [503, 204]
