"""`audit-log audit` against an API served in-process: the ledger's routes as the
contract shapes them, their answers built with the layer's own hashing, entries and
checkpoint functions (tests.unit.test_client_verify.Ledger), and each way a service
could lie about its past detected and named, first mismatch first."""

import json
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_log.ledger import hashing as layer_hashing
from audit_log.ledger.entries import event_leaf_hash as layer_event_leaf_hash
from audit_log_client import cli
from audit_log_client.api import Client
from audit_log_client.audit import audit, recompute
from audit_log_client.errors import ApiError, ForkDetected, VerificationFailed
from tests.conftest import serving
from tests.unit.test_client_verify import OTHER, SIGNER, Ledger, b64, write

TOKEN = "test-admin-token"
Route = Callable[[dict[str, str]], tuple[int, Any]]


class FakeApi:
    """The ledger routes of one organisation. Tests tamper with `entries` (what
    /ledger/entries serves), `latest` (the checkpoint) or `routes` (anything)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.latest = ledger.checkpoint()
        self.entries: list[dict[str, Any]] = [
            {"leaf_index": i, "leaf_hash": b64(leaf), "event": event}
            for i, (leaf, event) in enumerate(zip(ledger.leaves, ledger.events, strict=True))
        ]
        self.page_size = 100  # what the service serves at most
        self.requests: list[str] = []
        self.routes: dict[str, Route] = {
            "/v1/ledger/checkpoint": lambda _: (200, self.latest),
            "/v1/ledger/public-key": lambda _: (200, SIGNER.key_document()),
            "/v1/ledger/entries": self.entries_page,
            "/v1/ledger/consistency": lambda q: (200, self.ledger.consistency(int(q["from"]), int(q["to"]))),
        }

    def entries_page(self, query: dict[str, str]) -> tuple[int, Any]:
        start, limit = int(query.get("start", 0)), int(query.get("limit", 100))
        if not 1 <= limit <= 100:
            return 400, {"message": "limit is 1-100", "errors": [{"field": "limit", "message": "1-100"}]}
        served = self.entries[start : start + min(limit, self.page_size)]
        next_start = start + len(served)
        return 200, {"entries": served, "next_start": next_start if next_start < len(self.entries) else None}


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[tuple[FakeApi, str]]:
    size = getattr(request, "param", 250)
    fake = FakeApi(Ledger(size))

    def answer(path: str, query: dict[str, str], headers: Any) -> tuple[int, str]:
        fake.requests.append(f"{path}?{urllib.parse.urlencode(query)}" if query else path)
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            status, body = 401, {"message": "Unauthorized"}
        elif path in fake.routes:
            status, body = fake.routes[path](query)
        else:
            status, body = 404, {"message": "Not found"}
        return status, json.dumps(body)

    with serving(answer) as url:
        yield fake, url


def client(url: str, **options: Any) -> Client:
    return Client(url, TOKEN, retries=0, **options)


def rewrite(ledger: Ledger, without: int) -> Ledger:
    """The same ledger with leaf `without` removed and the rest renumbered: a history
    the service could sign afresh with its own key."""
    del ledger.events[without], ledger.leaves[without]
    ledger.tree = layer_hashing.LeafList(ledger.leaves)
    return ledger


# --- what a clean ledger gives --------------------------------------------------------------


def test_a_clean_ledger_is_recomputed_whole_across_pages(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.page_size = 37  # pages cut short, as the service does near Lambda's answer limit

    report = audit(client(url), SIGNER.client_key())

    assert (report.latest.head.size, report.count.events, report.count.removed) == (250, 250, 0)
    assert report.latest.head.root_hash == fake.ledger.root(250)
    starts = [int(dict(urllib.parse.parse_qsl(r.split("?")[1]))["start"]) for r in fake.requests if "entries" in r]
    assert starts == list(range(0, 250, 37))


def test_entries_removed_by_retention_keep_their_leaf_and_are_counted(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    for entry in fake.entries[:60]:
        entry["event"] = None

    report = audit(client(url), SIGNER.client_key())

    assert (report.count.events, report.count.removed) == (190, 60)


def test_a_kept_checkpoint_is_checked_against_the_leaves_and_the_consistency_proof(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    report = audit(client(url), SIGNER.client_key(), fake.ledger.checkpoint(113))

    assert report.kept is not None and report.kept.head.size == 113
    assert any(r.startswith("/v1/ledger/consistency?from=113&to=250") for r in fake.requests)


@pytest.mark.parametrize("api", [0], indirect=True)
def test_an_empty_ledger_audits(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    report = audit(client(url), SIGNER.client_key(), fake.ledger.checkpoint(0))
    assert report.latest.head.size == 0
    assert not any("entries" in r for r in fake.requests)


def test_the_latest_checkpoint_may_be_behind_the_entries_served(api: tuple[FakeApi, str]) -> None:
    """The ledger grows while an audit runs: the leaves past the checkpoint are not its."""
    fake, url = api
    fake.latest = fake.ledger.checkpoint(200)
    assert audit(client(url), SIGNER.client_key()).latest.head.size == 200


# --- each lie, named -------------------------------------------------------------------------


def test_an_altered_event_is_named_with_its_leaf(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.entries[7]["event"] = {**fake.entries[7]["event"], "actor": {**fake.ledger.events[7]["actor"], "id": "usr_x"}}
    fake.entries[9]["event"] = {**fake.entries[9]["event"], "details": {}}
    event_id = fake.ledger.events[7]["event_id"]

    with pytest.raises(VerificationFailed, match=rf"^entry 7 \(event {event_id}\) does not match its leaf hash$"):
        audit(client(url), SIGNER.client_key())


def test_an_event_served_without_a_recorded_field_is_named_with_its_leaf(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.entries[4]["event"] = {k: v for k, v in fake.entries[4]["event"].items() if k != "context"}

    with pytest.raises(VerificationFailed, match=r"^entry 4: event .* lacks the recorded field\(s\) context$"):
        audit(client(url), SIGNER.client_key())


def test_a_removed_leaf_is_a_gap(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    del fake.entries[120]

    with pytest.raises(VerificationFailed, match=r"leaves 120\.\.120 are missing .* a gap"):
        audit(client(url), SIGNER.client_key())


def test_a_leaf_served_twice_is_a_duplicate(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.entries.insert(121, fake.entries[120])

    with pytest.raises(VerificationFailed, match=r"leaf 120 is served twice .* a duplicate"):
        audit(client(url), SIGNER.client_key())


def test_a_removed_leaf_renumbered_leaves_the_ledger_short_of_its_checkpoint(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    del fake.entries[120]
    for index, entry in enumerate(fake.entries):
        entry["leaf_index"] = index

    with pytest.raises(VerificationFailed, match="ends after 249 entries, but the checkpoint signs a tree of 250"):
        audit(client(url), SIGNER.client_key())


def test_leaves_that_do_not_hash_to_the_signed_root_are_a_root_mismatch(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.latest = SIGNER.checkpoint(250, fake.ledger.root(249))

    with pytest.raises(VerificationFailed, match=r"250 entries hash to root .* root mismatch"):
        audit(client(url), SIGNER.client_key())


def test_a_leaf_hash_swapped_with_its_event_is_a_root_mismatch(api: tuple[FakeApi, str]) -> None:
    """An event replaced together with its leaf hash passes the leaf check, not the root."""
    fake, url = api
    forged = {**fake.ledger.events[30], "event_type": "user.logout"}
    fake.entries[30] = {"leaf_index": 30, "leaf_hash": b64(layer_event_leaf_hash(forged)), "event": forged}

    with pytest.raises(VerificationFailed, match="root mismatch"):
        audit(client(url), SIGNER.client_key())


def test_a_checkpoint_signed_by_another_key_is_named(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.latest = OTHER.checkpoint(250, fake.ledger.root(250))

    with pytest.raises(VerificationFailed, match=f"latest checkpoint was signed by key {OTHER.public.key_id}"):
        audit(client(url), SIGNER.client_key())


def test_a_past_rewritten_and_resigned_is_contradicted_by_the_kept_checkpoint(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    kept = fake.ledger.checkpoint(200)  # what the auditor kept from last time
    rewritten = FakeApi(rewrite(fake.ledger, without=42))  # the service drops leaf 42 and re-signs
    fake.ledger, fake.entries, fake.latest = rewritten.ledger, rewritten.entries, rewritten.ledger.checkpoint()

    audit(client(url), SIGNER.client_key())  # without a kept checkpoint nothing can tell
    with pytest.raises(
        VerificationFailed, match="the kept checkpoint of size 200 contradicts the ledger: history was rewritten"
    ):
        audit(client(url), SIGNER.client_key(), kept)


def test_a_kept_checkpoint_of_the_latest_size_with_another_root_is_a_fork(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    kept = SIGNER.checkpoint(250, fake.ledger.root(249))

    with pytest.raises(ForkDetected, match=r"fork: .* both have size 250 but different roots"):
        audit(client(url), SIGNER.client_key(), kept)


def test_a_ledger_smaller_than_the_kept_checkpoint_shrank(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.latest = fake.ledger.checkpoint(100)

    with pytest.raises(VerificationFailed, match="the ledger shrank"):
        audit(client(url), SIGNER.client_key(), fake.ledger.checkpoint(101))


def test_a_false_consistency_proof_fails_even_when_the_leaves_agree(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.routes["/v1/ledger/consistency"] = lambda q: (200, {"from": int(q["from"]), "to": int(q["to"]), "proof": []})

    with pytest.raises(VerificationFailed, match="consistency proof from size 113 to 250 is empty"):
        audit(client(url), SIGNER.client_key(), fake.ledger.checkpoint(113))


def test_a_kept_checkpoint_of_another_key_fails_before_anything_is_fetched(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    with pytest.raises(VerificationFailed, match="kept checkpoint was signed by key"):
        audit(client(url), SIGNER.client_key(), OTHER.checkpoint(10, fake.ledger.root(10)))
    assert fake.requests == []


def test_the_first_mismatch_in_ledger_order_is_the_one_named(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.entries[200]["event"] = {**fake.entries[200]["event"], "details": {}}
    del fake.entries[50]

    with pytest.raises(VerificationFailed, match=r"leaves 50\.\.50 are missing"):
        audit(client(url), SIGNER.client_key())


# --- the service cannot be asked -------------------------------------------------------------


def test_an_http_error_is_an_api_error_with_the_services_message(api: tuple[FakeApi, str]) -> None:
    _, url = api
    with pytest.raises(ApiError, match="answered 401: Unauthorized") as raised:
        audit(Client(url, "wrong-token", retries=0), SIGNER.client_key())
    assert raised.value.status == 401


def test_transient_errors_are_retried_then_reported(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    calls: list[int] = []

    def flaky(query: dict[str, str]) -> tuple[int, Any]:
        calls.append(1)
        return (503, {"message": "try again"}) if len(calls) < 3 else (200, fake.latest)

    fake.routes["/v1/ledger/checkpoint"] = flaky
    assert audit(Client(url, TOKEN, retries=2, backoff=0), SIGNER.client_key()).latest.head.size == 250

    fake.routes["/v1/ledger/checkpoint"] = lambda _: (500, {"message": "broken"})
    with pytest.raises(ApiError, match="answered 500: broken"):
        audit(Client(url, TOKEN, retries=1, backoff=0), SIGNER.client_key())


def test_a_page_that_does_not_advance_is_an_api_error(api: tuple[FakeApi, str]) -> None:
    fake, url = api
    fake.routes["/v1/ledger/entries"] = lambda q: (200, {"entries": [], "next_start": int(q["start"])})
    with pytest.raises(ApiError, match="no progress"):
        audit(client(url), SIGNER.client_key())


def test_an_unreachable_api_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="cannot reach"):
        Client("http://127.0.0.1:9/v1", TOKEN, retries=0, timeout=5).latest_checkpoint()
    with pytest.raises(ApiError, match="http"):
        Client("file:///etc/passwd", TOKEN)


# --- the command ------------------------------------------------------------------------------


def test_audit_saves_the_latest_checkpoint_for_the_next_run(
    api: tuple[FakeApi, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = api
    key = write(tmp_path, "key.json", SIGNER.key_document())
    kept = tmp_path / "kept.json"
    fake.latest = fake.ledger.checkpoint(180)
    command = ["audit", "--api", url, "--token", TOKEN, "--public-key", key, "--retries", "0"]

    assert cli.main([*command, "--save", str(kept)]) == 0
    first = capsys.readouterr().out
    assert first.startswith(f"OK: {fake.ledger.checkpoint(180)['origin']} size 180 root ")
    assert "180 events match their leaf hashes, 0 entries removed by retention" in first
    assert json.loads(kept.read_text()) == fake.latest

    fake.latest = fake.ledger.checkpoint(250)
    assert cli.main([*command, "--since", str(kept), "--save", str(kept)]) == 0
    assert "the kept checkpoint of size 180" in capsys.readouterr().out
    assert json.loads(kept.read_text())["tree_size"] == 250

    fake.entries[3]["event"] = {**fake.entries[3]["event"], "event_type": "user.logout"}
    assert cli.main([*command, "--since", str(kept), "--save", str(tmp_path / "not-saved.json")]) == 1
    assert capsys.readouterr().err.startswith("FAILED: entry 3 (event ")
    assert not (tmp_path / "not-saved.json").exists()


def test_what_a_service_says_cannot_rewrite_the_auditors_terminal(
    api: tuple[FakeApi, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = api
    fake.entries[2]["event"] = {**fake.entries[2]["event"], "event_id": "x\r\x1b[2KOK: all good\nreally"}
    key = write(tmp_path, "key.pem", SIGNER.public.pem)

    assert cli.main(["audit", "--api", url, "--token", TOKEN, "--public-key", key, "--retries", "0"]) == 1
    err = capsys.readouterr().err
    assert err == "FAILED: entry 2 (event x\\r\\x1b[2KOK: all good\\nreally) does not match its leaf hash\n"


def test_the_console_script_exits_0_1_and_2(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, url = api
    script = shutil.which("audit-log", path=str(Path(sys.executable).parent))
    assert script, "the audit-log script is installed with the package (pip install -e ./clients/python)"
    key = write(tmp_path, "key.pem", SIGNER.public.pem)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script, *args], capture_output=True, text=True, timeout=120)

    common = ["--token", TOKEN, "--public-key", key, "--retries", "0"]
    passed = run("audit", "--api", url, *common)
    assert (passed.returncode, passed.stdout.split(" size ")[0]) == (0, f"OK: {fake.latest['origin']}"), passed.stderr

    fake.latest = OTHER.checkpoint(250, fake.ledger.root(250))
    failed = run("audit", "--api", url, *common)
    assert failed.returncode == 1
    assert failed.stderr.startswith("FAILED: the latest checkpoint was signed by key")

    unreachable = run("audit", "--api", "http://127.0.0.1:9/v1", *common)
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("error: cannot reach http://127.0.0.1:9/v1")
    assert TOKEN not in unreachable.stderr + failed.stderr


# --- a large ledger -------------------------------------------------------------------------------


def test_recomputation_checks_a_large_ledger() -> None:
    """20,000 entries already fetched (decoded pages) are checked and folded into the root
    the checkpoint states. How fast is measured by `make bench` (§6), not asserted here: a
    wall-clock floor would fail on a loaded machine, not on slow code."""
    distinct = Ledger(2_000)  # hashing events with the layer takes longer than checking them
    events = distinct.events * 10
    leaves = distinct.leaves * 10
    served = [{"leaf_index": i, "leaf_hash": b64(leaf), "event": events[i]} for i, leaf in enumerate(leaves)]
    entries = json.loads(json.dumps(served))  # as decoded from the pages
    expected = layer_hashing.root(len(leaves), layer_hashing.LeafList(leaves))

    count = recompute(entries, len(entries), expected)

    assert count.events == 20_000
