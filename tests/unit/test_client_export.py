"""`audit-log verify export` and `audit-log export`: an NDJSON export proven against a
signed checkpoint, and the runner that starts, waits for and downloads an export.

The fixtures are built with the client's own leaf hashing, a checkpoint signed as
tests.unit.test_client_verify signs them, and nodes from a decomposition written here
(maximal aligned complete subtrees over each gap), independent of the verifier's code.
The exports are newest first, in an order that is not the ledger's.
"""

import io
import json
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from audit_log_client import cli, exports
from audit_log_client.api import Client, download
from audit_log_client.errors import ApiError, InputError, VerificationFailed
from audit_log_client.exports import (
    ExportVerification,
    check_export,
    start_export,
    verify_export,
    wait_for_export,
)
from audit_log_client.ledger import event_leaf_hash, node_hash, root_hash
from tests.unit.test_client_verify import OTHER, SIGNER, b64, served_event, write

TOKEN = "test-admin-token"
SIZE = 37


def event(i: int, **overrides: Any) -> dict[str, Any]:
    """Event i of the test ledger: leaf i, but occurred at a time that is not in leaf
    order, so that newest first is not simply the ledger reversed."""
    second = (i * 17) % SIZE
    return served_event(i, occurred_at=f"2026-11-26T09:00:{second:02d}.120Z", **overrides)


class Ledger:
    """A ledger of made-up events and its signed checkpoint."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.leaves = [event_leaf_hash(item) for item in events]
        self.checkpoint = SIGNER.checkpoint(len(events), root_hash(self.leaves))


LEDGER = Ledger([event(i) for i in range(SIZE)])


def subtree(leaves: list[bytes], start: int, end: int) -> bytes:
    """RFC 9162 MTH of leaves[start:end], by its recursion."""
    if end - start == 1:
        return leaves[start]
    split = start + (1 << ((end - start - 1).bit_length() - 1))
    return node_hash(subtree(leaves, start, split), subtree(leaves, split, end))


def gap_nodes(leaves: list[bytes], start: int, end: int) -> list[dict[str, Any]]:
    """[start, end) as maximal aligned complete subtrees, left to right."""
    nodes = []
    while start < end:
        level = 0
        while start % (2 << level) == 0 and start + (2 << level) <= end:
            level += 1
        nodes.append(
            {
                "level": level,
                "index": start >> level,
                "hash": b64(subtree(leaves, start, start + (1 << level))),
            }
        )
        start += 1 << level
    return nodes


@dataclass
class Export:
    """An NDJSON export (its lines, without their newlines) and its proof."""

    lines: list[str]
    proof: dict[str, Any]

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def files(self, directory: Path, name: str = "export") -> tuple[Path, str]:
        path = directory / f"{name}.ndjson"
        path.write_text(self.text(), encoding="utf-8")
        return path, write(directory, f"{name}.proof.json", self.proof)


def make_export(ledger: Ledger, chosen: Iterable[int], export_id: str = "exp_01") -> Export:
    """What the service exports for the leaves `chosen`: newest first (occurred_at, then
    event_id, descending), with the nodes of every gap."""
    picked = set(chosen)
    ordered = sorted(
        picked, key=lambda i: (ledger.events[i]["occurred_at"], ledger.events[i]["event_id"]), reverse=True
    )
    nodes: list[dict[str, Any]] = []
    position = 0
    for index in [*sorted(picked), len(ledger.leaves)]:
        nodes += gap_nodes(ledger.leaves, position, index)
        position = index + 1
    proof = {
        "format": "audit-log-export-proof/v1",
        "export_id": export_id,
        "events": len(ordered),
        "checkpoint": ledger.checkpoint,
        "leaf_indices": ordered,
        "nodes": nodes,
        "complete": len(picked) == len(ledger.leaves),
    }
    return Export([json.dumps(ledger.events[i], ensure_ascii=False) for i in ordered], proof)


COMPLETE = make_export(LEDGER, range(SIZE))
LOGINS = [i for i in range(SIZE) if LEDGER.events[i]["event_type"] == "user.login"]
PARTIAL = make_export(LEDGER, LOGINS, "exp_02")  # --event-type user.login
RANGE = make_export(LEDGER, range(9, 30), "exp_03")  # a time range, as the ledger saw it


def verify(directory: Path, export: Export) -> ExportVerification:
    path, proof = export.files(directory)
    return verify_export(path, json.loads(Path(proof).read_text()), SIGNER.client_key())


# --- what verifies ---------------------------------------------------------------------------


def test_the_fixture_is_newest_first_and_not_in_ledger_order() -> None:
    indices = PARTIAL.proof["leaf_indices"]
    assert indices != sorted(indices) and indices != sorted(indices, reverse=True)
    assert [json.loads(line)["occurred_at"] for line in PARTIAL.lines] == sorted(
        (LEDGER.events[i]["occurred_at"] for i in LOGINS), reverse=True
    )
    assert PARTIAL.proof["nodes"] and not COMPLETE.proof["nodes"]


def test_a_complete_export_verifies_as_complete(tmp_path: Path) -> None:
    assert verify(tmp_path, COMPLETE) == ExportVerification(SIZE, SIZE, True, LEDGER.checkpoint["origin"], "exp_01")


@pytest.mark.parametrize("export", [PARTIAL, RANGE], ids=["event-type", "range"])
def test_a_partial_export_verifies_and_says_what_is_not_in_it(tmp_path: Path, export: Export) -> None:
    verified = verify(tmp_path, export)
    assert (verified.events, verified.tree_size, verified.complete) == (len(export.lines), SIZE, False)
    assert verified.not_exported == SIZE - len(export.lines)


def test_an_export_of_no_events_is_proven_by_nodes_alone(tmp_path: Path) -> None:
    empty = make_export(LEDGER, [])
    assert [(node["level"], node["index"]) for node in empty.proof["nodes"]] == [(5, 0), (2, 8), (0, 36)]
    assert empty.text() == ""
    assert verify(tmp_path, empty).events == 0


def test_the_export_of_an_empty_log_is_complete(tmp_path: Path) -> None:
    verified = verify(tmp_path, make_export(Ledger([]), []))
    assert (verified.events, verified.tree_size, verified.complete) == (0, 0, True)


def test_an_event_whose_fast_serialisation_is_not_jcs_still_verifies(tmp_path: Path) -> None:
    """A float like 1e-7 is written `1e-07` by the standard library, `1e-7` by RFC 8785:
    the first pass's root differs and the reference decides."""
    ledger = Ledger([event(i, details={"ratio": 1e-7}) if i == 5 else event(i) for i in range(SIZE)])
    verified = verify(tmp_path, make_export(ledger, range(2, 20)))
    assert verified.events == 18


def test_a_large_partial_export_verifies_and_a_change_in_it_does_not(tmp_path: Path) -> None:
    """The tiling and the recursion on a thousand lines (a million is measured by
    hand: memory is 32 bytes a line plus the proof's own lists)."""
    base = [event(i) for i in range(SIZE)]
    ledger = Ledger([{**base[i % SIZE], "event_id": f"01JDX2Q7ZP8V4K3M2N1B{i:06d}"} for i in range(1200)])
    large = make_export(ledger, [i for i in range(1200) if i % 7 != 3 and not 400 <= i < 700])
    assert verify(tmp_path, large).events == len(large.lines)
    assert '"plain"' in large.lines[654]
    large.lines[654] = large.lines[654].replace('"plain"', '"plain!"')
    with pytest.raises(VerificationFailed, match="root mismatch"):
        verify(tmp_path, large)


# --- what does not ------------------------------------------------------------------------------


def changed(export: Export, lines: list[str] | None = None, **proof: Any) -> Export:
    return Export(list(export.lines) if lines is None else lines, {**export.proof, **proof})


def tampered_detail(export: Export, line: int) -> list[str]:
    """The lines with one character of one detail of line `line` (0-based) changed."""
    lines = list(export.lines)
    assert '"n": ' in lines[line]
    lines[line] = lines[line].replace('"n": ', '"N": ', 1)
    return lines


def swapped(lines: list[str], a: int, b: int) -> list[str]:
    lines = list(lines)
    lines[a], lines[b] = lines[b], lines[a]
    return lines


def node_at(export: Export, leaf: int, level: int = 0) -> list[dict[str, Any]]:
    """The proof's nodes with one more, over leaf `leaf`, in sorted place."""
    added = {"level": level, "index": leaf >> level, "hash": b64(LEDGER.leaves[leaf])}
    return sorted([*export.proof["nodes"], added], key=lambda node: node["index"] << node["level"])


FORGED_CHECKPOINT = {**OTHER.checkpoint(SIZE, root_hash(LEDGER.leaves)), "key_id": SIGNER.public.key_id}
SECOND_LINE = PARTIAL.proof["leaf_indices"][1]

TAMPERED: dict[str, tuple[Export, str]] = {
    "tampered line": (changed(PARTIAL, tampered_detail(PARTIAL, 3)), r"^root mismatch: the file's 13 events"),
    "tampered line of a complete export": (changed(COMPLETE, tampered_detail(COMPLETE, 20)), "^root mismatch"),
    "dropped line": (changed(PARTIAL, PARTIAL.lines[:5] + PARTIAL.lines[6:]), "has 12 lines.*a line was dropped"),
    "dropped last line": (changed(COMPLETE, COMPLETE.lines[:-1]), "has 36 lines, its proof is for 37 events"),
    "added line": (
        changed(PARTIAL, [*PARTIAL.lines, json.dumps(event(40))]),
        r"more lines than the 13 events of its proof \(line 14",
    ),
    "line repeated": (changed(PARTIAL, [PARTIAL.lines[0], *PARTIAL.lines]), "more lines than the 13 events"),
    "lines swapped": (changed(PARTIAL, swapped(PARTIAL.lines, 2, 7)), "^root mismatch"),
    "another export's proof": (Export(PARTIAL.lines, RANGE.proof), "has 13 lines, its proof is for 21 events"),
    "another export's proof of as many events": (
        Export(PARTIAL.lines, make_export(LEDGER, [2] + [i + 1 for i in LOGINS[:-1]], "exp_04").proof),
        "^root mismatch",
    ),
    "not JSON": (changed(PARTIAL, [*PARTIAL.lines[:4], "{not json", *PARTIAL.lines[5:]]), "^line 5 is not JSON"),
    "empty line": (changed(PARTIAL, [*PARTIAL.lines[:4], "", *PARTIAL.lines[5:]]), "^line 5 is not JSON"),
    "not an object": (changed(PARTIAL, [*PARTIAL.lines[:4], "[1, 2]", *PARTIAL.lines[5:]]), "^line 5 is not a JSON"),
    "key removed": (
        changed(
            PARTIAL,
            [
                *PARTIAL.lines[:4],
                json.dumps({k: v for k, v in json.loads(PARTIAL.lines[4]).items() if k != "context"}),
                *PARTIAL.lines[5:],
            ],
        ),
        "^line 5 lacks the recorded field.s. context",
    ),
    "key added": (
        changed(
            PARTIAL,
            [*PARTIAL.lines[:4], json.dumps({**json.loads(PARTIAL.lines[4]), "approved": True}), *PARTIAL.lines[5:]],
        ),
        "^line 5 has key.s. the service does not write, which nothing proves: approved",
    ),
    "index out of range": (changed(PARTIAL, leaf_indices=[*PARTIAL.proof["leaf_indices"][:-1], SIZE]), "is 37, not"),
    "negative index": (changed(PARTIAL, leaf_indices=[-1, *PARTIAL.proof["leaf_indices"][1:]]), r"\(line 1\) is -1"),
    "index duplicated": (
        changed(PARTIAL, leaf_indices=[SECOND_LINE, *PARTIAL.proof["leaf_indices"][1:]]),
        rf"^leaf {SECOND_LINE} is exported twice, by lines 1 and 2: a leaf index may appear once",
    ),
    "index as a bool": (changed(PARTIAL, leaf_indices=[True, *PARTIAL.proof["leaf_indices"][1:]]), "not an integer"),
    "index as a float": (changed(PARTIAL, leaf_indices=[36.0, *PARTIAL.proof["leaf_indices"][1:]]), "not an integer"),
    "indices fewer than events": (
        changed(PARTIAL, leaf_indices=PARTIAL.proof["leaf_indices"][1:]),
        "12 leaf indices for 13 events",
    ),
    "events miscounted": (changed(PARTIAL, events=12), "13 leaf indices for 12 events"),
    "node over an exported leaf": (
        changed(PARTIAL, nodes=node_at(PARTIAL, LOGINS[4])),
        rf"^leaf {LOGINS[4]} \(line \d+\) is also covered by node \d+ \(level 0, index {LOGINS[4]}",
    ),
    "larger node over an exported leaf": (  # leaves 8..9 instead of leaf 8: line 9 is leaf 9
        changed(
            RANGE,
            nodes=[
                RANGE.proof["nodes"][0],
                {"level": 1, "index": 4, "hash": b64(LEDGER.leaves[8])},
                *RANGE.proof["nodes"][2:],
            ],
        ),
        r"^leaf 9 \(line \d+\) is also covered by node 1 \(level 1, index 4: leaves 8..9\): a node may only",
    ),
    "node missing": (
        changed(PARTIAL, nodes=PARTIAL.proof["nodes"][:3] + PARTIAL.proof["nodes"][4:]),
        r"^leaf 7 is neither in the file nor covered by a node of the export proof: a gap$",
    ),
    "first node missing": (changed(RANGE, nodes=RANGE.proof["nodes"][1:]), "^leaves 0..7 are neither"),
    "last node missing": (changed(RANGE, nodes=RANGE.proof["nodes"][:-1]), "^leaf 36 is neither"),
    "node beyond the tree": (
        changed(RANGE, nodes=[*RANGE.proof["nodes"][:-1], {"level": 3, "index": 4, "hash": b64(b"x" * 32)}]),
        r"node \d+ \(level 3, index 4: leaves 32..39\) is not a complete subtree of the checkpoint's tree of size 37",
    ),
    "nodes unsorted": (changed(RANGE, nodes=RANGE.proof["nodes"][::-1]), "the nodes are not sorted by start"),
    "nodes overlapping": (
        changed(
            RANGE,
            nodes=[
                *RANGE.proof["nodes"][:1],
                {"level": 0, "index": 7, "hash": b64(LEDGER.leaves[7])},
                *RANGE.proof["nodes"][1:],
            ],
        ),
        r"\(level 0, index 7: leaves 7..7\) overlaps node 0",
    ),
    "node hash changed": (
        changed(
            PARTIAL, nodes=[{**PARTIAL.proof["nodes"][0], "hash": b64(LEDGER.leaves[0])}, *PARTIAL.proof["nodes"][1:]]
        ),
        "^root mismatch",
    ),
    "node level absurd": (
        changed(PARTIAL, nodes=[{"level": 10**9, "index": 0, "hash": b64(b"x" * 32)}]),
        "not a subtree of any tree",
    ),
    "complete on a partial export": (
        changed(PARTIAL, complete=True),
        "says complete: true, but 24 of the checkpoint's 37 events are not in the file",
    ),
    "incomplete on a complete export": (changed(COMPLETE, complete=False), "says complete: false, but the file"),
    "complete not a bool": (changed(COMPLETE, complete=1), "no boolean complete"),
    "bad signature": (
        changed(PARTIAL, checkpoint={**LEDGER.checkpoint, "signature": FORGED_CHECKPOINT["signature"]}),
        r"^the signature of the export proof's checkpoint is not the given key's",
    ),
    "checkpoint of another key": (
        changed(PARTIAL, checkpoint=OTHER.checkpoint(SIZE, root_hash(LEDGER.leaves))),
        "^the export proof's checkpoint was signed by key",
    ),
    "checkpoint of another size": (
        changed(PARTIAL, checkpoint=SIGNER.checkpoint(SIZE - 1, root_hash(LEDGER.leaves[:-1]))),
        "not a leaf of the checkpoint's tree of size 36",
    ),
    "another format": (changed(PARTIAL, format="audit-log-export-proof/v2"), "format is 'audit-log-export-proof/v2'"),
}


@pytest.mark.parametrize(("export", "failure"), TAMPERED.values(), ids=TAMPERED.keys())
def test_a_changed_export_or_proof_is_refused_and_named(tmp_path: Path, export: Export, failure: str) -> None:
    with pytest.raises(VerificationFailed, match=failure):
        verify(tmp_path, export)


def test_a_file_cut_short_in_its_last_line_is_named(tmp_path: Path) -> None:
    path, proof = PARTIAL.files(tmp_path)
    path.write_text(PARTIAL.text()[:-1])
    with pytest.raises(VerificationFailed, match=r"^line 13 does not end with a newline: the file is cut short"):
        verify_export(path, json.loads(Path(proof).read_text()), SIGNER.client_key())
    path.write_bytes(PARTIAL.text().encode()[:-40] + b"\xff\n")
    with pytest.raises(VerificationFailed, match=r"^line 13 is not UTF-8"):
        verify_export(path, json.loads(Path(proof).read_text()), SIGNER.client_key())


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the export"):
        verify_export(tmp_path / "absent.ndjson", PARTIAL.proof, SIGNER.client_key())


# --- verify export on the command line -----------------------------------------------------------


def run_verify(tmp_path: Path, export: Export, *extra: str) -> int:
    path, proof = export.files(tmp_path)
    key = write(tmp_path, "key.pem", SIGNER.public.pem)
    return cli.main(["verify", "export", str(path), "--proof", proof, "--public-key", key, *extra])


def test_verify_export_prints_what_is_proven(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = LEDGER.checkpoint["origin"]
    assert run_verify(tmp_path, COMPLETE) == 0
    assert capsys.readouterr().out == (
        f"OK: 37 events of {origin} proven in the checkpoint of tree size 37 "
        "(complete: every event of the log up to that size)\n"
    )
    assert run_verify(tmp_path, PARTIAL) == 0
    assert capsys.readouterr().out == (
        f"OK: 13 events of {origin} proven in the checkpoint of tree size 37 "
        "(24 events of the checkpoint are not in this export)\n"
    )


def test_require_complete_fails_a_partial_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_verify(tmp_path, COMPLETE, "--require-complete") == 0
    capsys.readouterr()
    assert run_verify(tmp_path, PARTIAL, "--require-complete") == 1
    assert capsys.readouterr().err == (
        "FAILED: the export is not complete: 24 events of the checkpoint's 37 are not in it (--require-complete)\n"
    )


def test_verify_export_exits_1_on_a_tampered_line_and_2_when_it_cannot_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_verify(tmp_path, changed(PARTIAL, [*PARTIAL.lines[:2], "nope", *PARTIAL.lines[3:]])) == 1
    assert capsys.readouterr().err.startswith("FAILED: line 3 is not JSON")
    key = write(tmp_path, "key.pem", SIGNER.public.pem)
    path, _ = PARTIAL.files(tmp_path)
    not_json = write(tmp_path, "proof.json", "{")
    assert cli.main(["verify", "export", str(path), "--proof", not_json, "--public-key", key]) == 2
    assert capsys.readouterr().err.startswith("error: the export proof")


# --- the runner against a fake API -----------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeService:
    """POST /v1/exports and GET /v1/exports/{id} of one organisation, and a storage host
    (/bucket/…) serving the files at presigned-style URLs."""

    files: dict[str, bytes]
    states: list[tuple[str, int | None]] = field(
        default_factory=lambda: [("queued", None), ("running", 10), ("running", 25), ("succeeded", None)]
    )
    export_format: str = "ndjson"
    error: str | None = None
    cut_short: str | None = None  # a file whose download breaks off half-way
    post_answers: list[int] = field(default_factory=list)  # statuses to answer before the 202
    seen: list[Seen] = field(default_factory=list)
    polls: int = 0
    base: str = ""

    def export(self) -> dict[str, Any]:
        state, events = self.states[min(self.polls, len(self.states) - 1)]
        succeeded = state == "succeeded"
        signed = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F&X-Amz-Signature=0123abcd"
        lines = self.files.get(f"exp_1.{self.export_format}", b"").count(b"\n")
        return {
            "export_id": "exp_1",
            "format": self.export_format,
            "filters": {},
            "state": state,
            "events": lines if succeeded else events,
            "created_at": "2026-11-26T09:15:02.120Z",
            "completed_at": "2026-11-26T09:16:02.120Z" if state in ("succeeded", "failed") else None,
            "requested_by": {"id": "usr_1", "email": "ada@example.com", "name": "Ada Lovelace"},
            "download_url": f"{self.base}/bucket/exp_1.{self.export_format}{signed}" if succeeded else None,
            "proof_url": f"{self.base}/bucket/exp_1.proof.json{signed}" if succeeded else None,
            "download_expires_at": "2026-11-26T09:26:02.120Z" if succeeded else None,
            "error": self.error if state == "failed" else None,
        }

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.seen.append(Seen(method, path, headers, body))
        if path.startswith("/bucket/"):
            name = path.removeprefix("/bucket/")
            if name not in self.files:
                return 403, {}, b"<Error><Code>AccessDenied</Code></Error>"
            return 200, {"Content-Type": "application/octet-stream"}, self.files[name]
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, b'{"message": "Unauthorized"}'
        if (method, path) == ("POST", "/v1/exports"):
            if self.post_answers:
                return self.post_answers.pop(0), {"Retry-After": "0"}, b'{"message": "slow down"}'
            return 202, {"Location": "/v1/exports/exp_1"}, json.dumps(self.export()).encode()
        if (method, path) == ("GET", "/v1/exports/exp_1"):
            current = self.export()
            self.polls += 1
            return 200, {}, json.dumps(current).encode()
        return 404, {}, b'{"message": "Not found"}'


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    monkeypatch.setattr(exports, "POLL_INTERVAL", 0.001)
    monkeypatch.setattr(exports, "MAX_POLL_INTERVAL", 0.004)
    fake = FakeService(
        files={"exp_1.ndjson": PARTIAL.text().encode(), "exp_1.proof.json": json.dumps(PARTIAL.proof).encode()}
    )

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urllib.parse.urlsplit(self.path).path
            status, headers, payload = fake.answer(method, path, dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if fake.cut_short and path == f"/bucket/{fake.cut_short}":
                payload = payload[: len(payload) // 2]
                self.close_connection = True
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self.handle_one("GET")

        def do_POST(self) -> None:
            self.handle_one("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_export(service: FakeService, *extra: str) -> int:
    return cli.main(["export", "--api", f"{service.base}/v1", "--token", TOKEN, *extra])


def test_export_starts_waits_downloads_and_verifies(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    key = write(tmp_path, "key.pem", SIGNER.public.pem)

    assert run_export(service, "--format", "ndjson", "--event-type", "user.login", "--public-key", key) == 0

    assert (tmp_path / "exp_1.ndjson").read_bytes() == PARTIAL.text().encode()
    assert json.loads((tmp_path / "exp_1.proof.json").read_text()) == PARTIAL.proof
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp_1.ndjson", "exp_1.proof.json", "key.pem"]
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "export exp_1 (13 events) written to exp_1.ndjson, its proof to exp_1.proof.json",
        f"OK: 13 events of {LEDGER.checkpoint['origin']} proven in the checkpoint of tree size 37 "
        "(24 events of the checkpoint are not in this export)",
    ]
    # Not a terminal: a line per state change and per file, no redraws.
    assert err.splitlines() == [
        "export exp_1: queued",
        "export exp_1: running",
        "export exp_1: succeeded, 13 events",
        f"downloading exp_1.proof.json ({cli._size(len(json.dumps(PARTIAL.proof)))})",
        f"downloading exp_1.ndjson ({cli._size(len(PARTIAL.text().encode()))})",
    ]

    post = service.seen[0]
    assert (post.method, post.path, json.loads(post.body)) == (
        "POST",
        "/v1/exports",
        {"format": "ndjson", "event_type": "user.login"},
    )
    assert post.headers["Content-Type"] == "application/json"
    api_calls = [seen for seen in service.seen if seen.path.startswith("/v1/")]
    storage = [seen for seen in service.seen if seen.path.startswith("/bucket/")]
    assert [seen.path for seen in api_calls[1:]] == ["/v1/exports/exp_1"] * 4
    assert all(seen.headers["Authorization"] == f"Bearer {TOKEN}" for seen in api_calls)
    assert [seen.path for seen in storage] == ["/bucket/exp_1.proof.json", "/bucket/exp_1.ndjson"]
    assert not [seen for seen in storage if "authorization" in {name.lower() for name in seen.headers}]
    assert TOKEN not in out + err


def test_export_writes_a_csv_where_told_without_a_proof(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service.export_format = "csv"
    service.files = {"exp_1.csv": b"event_id,occurred_at\r\n01J,2026-11-26T09:00:00.120Z\r\n"}
    monkeypatch.setenv(cli.TOKEN_VARIABLE, TOKEN)
    target = tmp_path / "out" / "logins.csv"
    target.parent.mkdir()

    filters = ["--since", "2026-11-01T00:00:00Z", "--target-type", "api_key", "--target-id", "key_1"]
    arguments = ["export", "--api", f"{service.base}/v1", "--format", "csv", *filters, "--output", str(target)]
    assert cli.main(arguments) == 0

    assert target.read_bytes() == service.files["exp_1.csv"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["logins.csv"]
    assert json.loads(service.seen[0].body) == {
        "format": "csv",
        "since": "2026-11-01T00:00:00Z",
        "target_type": "api_key",
        "target_id": "key_1",
    }
    assert [seen.path for seen in service.seen if seen.path.startswith("/bucket/")] == ["/bucket/exp_1.csv"]
    assert capsys.readouterr().out == f"export exp_1 (2 events) written to {target}\n"


def test_a_failed_export_exits_2_with_its_error(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    service.states = [("queued", None), ("running", 5), ("failed", 5)]
    service.error = "the export worker could not read the log"

    assert run_export(service, "--format", "ndjson") == 2

    err = capsys.readouterr().err
    assert err.endswith("error: the export exp_1 failed: the export worker could not read the log\n")
    assert list(tmp_path.iterdir()) == []
    assert not [seen for seen in service.seen if seen.path.startswith("/bucket/")]


def test_a_download_that_breaks_off_leaves_no_file(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    service.cut_short = "exp_1.ndjson"

    assert run_export(service, "--format", "ndjson", "--output", "logins.ndjson") == 2

    total = len(PARTIAL.text().encode())
    assert f"the download from 127.0.0.1 broke off after {total // 2} of {total} bytes" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp_1.proof.json"]  # complete, downloaded first


def test_an_export_that_does_not_finish_in_time_exits_2(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    service.states = [("running", 1)]
    assert run_export(service, "--format", "ndjson", "--timeout", "0.05") == 2
    assert "error: the export exp_1 was still running after 0.05 s" in capsys.readouterr().err
    assert service.polls >= 2


def test_a_downloaded_export_that_does_not_verify_exits_1(
    service: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    service.files["exp_1.ndjson"] = changed(PARTIAL, swapped(PARTIAL.lines, 0, 1)).text().encode()
    key = write(tmp_path, "key.pem", SIGNER.public.pem)
    assert run_export(service, "--format", "ndjson", "--public-key", key) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("FAILED: root mismatch")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "csv", "--public-key", "key.pem"], "--public-key verifies an NDJSON export"),
        (["--format", "ndjson", "--target-type", "api_key"], "a target type and a target id go together"),
        (["--format", "ndjson", "--public-key", "absent.pem"], "cannot read the public key"),
    ],
)
def test_what_can_be_refused_locally_is_refused_before_an_export_starts(
    service: FakeService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "key.pem", SIGNER.public.pem)
    assert run_export(service, *extra) == 2
    assert message in capsys.readouterr().err
    assert service.seen == []


def test_a_token_is_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(cli.TOKEN_VARIABLE, raising=False)
    assert cli.main(["export", "--api", "http://127.0.0.1:9/v1", "--format", "csv"]) == 2
    assert "a token is needed" in capsys.readouterr().err


def test_a_throttled_start_is_retried_and_a_500_is_not(service: FakeService) -> None:
    client = Client(f"{service.base}/v1", TOKEN, retries=2, backoff=0.001)
    service.post_answers = [429, 503]
    assert start_export(client, "ndjson", {"actor_id": "usr_1", "since": None})["state"] == "queued"
    assert [seen.method for seen in service.seen] == ["POST"] * 3
    assert json.loads(service.seen[-1].body) == {"format": "ndjson", "actor_id": "usr_1"}

    service.seen.clear()
    service.post_answers = [500]
    with pytest.raises(ApiError, match="POST /exports answered 500: slow down"):
        start_export(client, "ndjson")
    assert len(service.seen) == 1  # the export may have started: never a second one


def test_the_wait_backs_off_and_reports_every_poll(service: FakeService) -> None:
    client = Client(f"{service.base}/v1", TOKEN, retries=0)
    waits: list[float] = []
    updates: list[str] = []
    final = wait_for_export(
        client,
        "exp_1",
        interval=1.0,
        max_interval=2.0,
        sleep=waits.append,
        clock=lambda: 0.0,
        on_update=lambda export: updates.append(export["state"]),
    )
    assert final["state"] == "succeeded"
    assert updates == ["queued", "running", "running", "succeeded"]
    assert waits == [1.0, 1.5, 2.0]


def test_a_presigned_url_is_fetched_without_the_token_and_only_over_http(service: FakeService, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    url = f"{service.base}/bucket/exp_1.ndjson?X-Amz-Signature=abc"
    size = download(url, tmp_path / "a.ndjson", chunk_size=100, on_progress=lambda r, t: seen.append((r, t)))
    assert size == len(PARTIAL.text().encode()) == seen[-1][0]
    assert seen[0] == (0, size) and len(seen) == 1 + -(-size // 100)
    assert "authorization" not in {name.lower() for name in service.seen[-1].headers}
    with pytest.raises(ApiError, match="not an http"):
        download("file:///etc/passwd", tmp_path / "b")
    with pytest.raises(ApiError, match=r"the download from 127\.0\.0\.1 answered 403") as error:
        download(f"{service.base}/bucket/absent?X-Amz-Signature=secret", tmp_path / "c")
    assert "secret" not in error.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ndjson"]


@pytest.mark.parametrize(
    "change",
    [{"export_id": "../../etc/cron.d/x"}, {"export_id": None}, {"state": "done"}, {"format": "xml"}, {"events": -1}],
)
def test_an_export_object_that_is_not_the_contracts_is_an_api_error(change: dict[str, Any]) -> None:
    good = {"export_id": "exp_1", "format": "ndjson", "state": "running", "events": 3}
    assert check_export(good, "GET /exports/exp_1") == good
    with pytest.raises(ApiError):
        check_export({**good, **change}, "GET /exports/exp_1")
    with pytest.raises(ApiError, match="without its proof_url"):
        check_export({**good, "state": "succeeded", "download_url": "https://x"}, "GET /exports/exp_1")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_one_line_redrawn_in_place() -> None:
    now = [100.0]
    screen = Terminal()
    progress = cli.Progress(screen, clock=lambda: now[0])
    progress.export({"export_id": "exp_1", "state": "queued", "events": None})
    now[0] += 65
    progress.export({"export_id": "exp_1", "state": "running", "events": 12345})
    assert screen.getvalue() == (
        "\rexport exp_1: queued, 00:00 elapsed\x1b[K\rexport exp_1: running, 12,345 events, 01:05 elapsed\x1b[K"
    )
    progress.export({"export_id": "exp_1", "state": "succeeded", "events": 20000})
    assert screen.getvalue().endswith("20,000 events, 01:05 elapsed\x1b[K\n")

    screen.seek(0)
    screen.truncate()
    total = 4 << 20
    for received in range(0, total + 1, 1 << 16):  # 64 chunks: a redraw per percent, not per chunk
        progress.download(Path("exp_1.ndjson"), received, total)
    drawn = screen.getvalue().split("\r")[1:]
    assert len(drawn) == len({received * 100 // total for received in range(0, total + 1, 1 << 16)})
    assert drawn[-1] == f"exp_1.ndjson: [{'#' * 30}] 100% 4.0 MB / 4.0 MB\x1b[K\n"
    assert "\n" not in "".join(drawn[:-1])


def test_an_export_id_from_the_service_cannot_rewrite_the_terminal() -> None:
    screen = io.StringIO()
    cli.Progress(screen).export({"export_id": "x\r\x1b[2KOK", "state": "queued"})
    assert screen.getvalue() == "export x\\r\\x1b[2KOK: queued\n"


def test_each_node_of_the_fixture_is_the_root_of_its_leaves() -> None:
    """The test's decomposition against the client's root of the same leaves: the
    fixtures are what the contract says, whatever the verifier does with them."""
    for export in (PARTIAL, RANGE, make_export(LEDGER, [])):
        for node in export.proof["nodes"]:
            start, end = node["index"] << node["level"], (node["index"] + 1) << node["level"]
            assert b64(root_hash(LEDGER.leaves[start:end])) == node["hash"]
    assert [(node["level"], node["index"]) for node in RANGE.proof["nodes"]] == [
        (3, 0),
        (0, 8),
        (1, 15),
        (2, 8),
        (0, 36),
    ]
