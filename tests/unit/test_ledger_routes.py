"""The ledger's read routes as an ORG Admin calls them: answers per DESIGN, organisation
from the token only, and a clear 4xx for anything that cannot be served."""

import base64
from typing import Any

import pytest

from audit_log.ledger.checkpoints import parse_body
from audit_log.ledger.hashing import EMPTY_ROOT, verify_consistency, verify_inclusion
from audit_log.ledger.signing import verify_signature
from tests.unit.test_ledger_sealing import record, tree_size


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_an_organisation_with_nothing_sealed_has_a_signed_empty_checkpoint(ledger_get: Any) -> None:
    answer = ledger_get("/ledger/checkpoint", org="org_new")
    assert answer.status == 200
    assert answer.body["tree_size"] == 0 and b64(answer.body["root_hash"]) == EMPTY_ROOT
    key = ledger_get("/ledger/public-key").body
    assert key["algorithm"] == "ECDSA_P256_SHA256" and len(key["key_id"]) == 64
    assert answer.body["key_id"] == key["key_id"]
    verify_signature(key["public_key_pem"], answer.body["body"], b64(answer.body["signature"]))
    assert parse_body(answer.body["body"]).origin == "audit-log.test/unit/org_new"


def test_checkpoints_are_listed_newest_first_in_pages(post: Any, sealer: Any, ledger_get: Any) -> None:
    for _ in range(3):
        record(post, 2)
        sealer.run()
    first = ledger_get("/ledger/checkpoints", {"limit": "2"})
    assert [c["tree_size"] for c in first.body["checkpoints"]] == [6, 4]
    rest = ledger_get("/ledger/checkpoints", {"limit": "2", "cursor": first.body["next_cursor"]})
    assert [c["tree_size"] for c in rest.body["checkpoints"]] == [2] and rest.body["next_cursor"] is None
    other_org = ledger_get("/ledger/checkpoints", {"cursor": first.body["next_cursor"]}, org="org_b")
    assert other_org.status == 400
    assert ledger_get("/ledger/checkpoints", {"cursor": "forged"}).status == 400


def test_consistency_proofs_join_published_checkpoints(post: Any, sealer: Any, ledger_get: Any) -> None:
    record(post, 7)
    sealer.run()
    record(post, 300)
    sealer.run()
    by_size = {c["tree_size"]: c for c in ledger_get("/ledger/checkpoints").body["checkpoints"]}
    old, new = by_size[7], by_size[307]
    answer = ledger_get("/ledger/consistency", {"from": "7", "to": "307"})
    assert answer.status == 200 and answer.body["from"] == 7 and answer.body["to"] == 307
    verify_consistency(7, 307, b64(old["root_hash"]), b64(new["root_hash"]), [b64(p) for p in answer.body["proof"]])
    assert ledger_get("/ledger/consistency", {"from": "0", "to": "307"}).body["proof"] == []
    assert ledger_get("/ledger/consistency", {"from": "307", "to": "307"}).body["proof"] == []
    middle = ledger_get("/ledger/consistency", {"from": "100", "to": "200"})
    assert middle.status == 200 and middle.body["proof"]


@pytest.mark.parametrize(
    "query",
    [
        {"from": "8", "to": "7"},
        {"from": "0", "to": "8"},
        {"from": "-1", "to": "3"},
        {"from": "1"},
        {"to": "x", "from": "1"},
    ],
)
def test_consistency_outside_the_published_tree_is_a_400(post: Any, sealer: Any, ledger_get: Any, query: Any) -> None:
    record(post, 7)
    sealer.run()
    assert ledger_get("/ledger/consistency", query).status == 400


def test_an_inclusion_proof_against_the_latest_and_an_older_checkpoint(post: Any, sealer: Any, ledger_get: Any) -> None:
    ids = record(post, 5)
    sealer.run()
    record(post, 20)
    sealer.run()
    for size in (None, 5):
        query = {"tree_size": str(size)} if size else None
        proof = ledger_get(f"/events/{ids[4]}/proof", query)
        assert proof.status == 200, proof.body
        head = parse_body(proof.body["checkpoint"]["body"])
        assert proof.body["tree_size"] == head.size == (size or 25)
        path = [b64(node) for node in proof.body["inclusion_path"]]
        verify_inclusion(4, head.size, b64(proof.body["leaf_hash"]), path, head.root_hash)
    assert ledger_get(f"/events/{ids[4]}/proof", {"tree_size": "6"}).status == 400  # not a published size
    later = record(post, 1)
    sealer.run()
    assert ledger_get(f"/events/{later[0]}/proof", {"tree_size": "5"}).status == 400  # from before it


def test_proofs_of_other_organisations_and_unknown_ids_are_the_same_404(
    post: Any, sealer: Any, ledger_get: Any
) -> None:
    theirs = record(post, 1, org="org_b")
    sealer.run()
    other = ledger_get(f"/events/{theirs[0]}/proof", org="org_a")
    unknown = ledger_get("/events/01KAAAAAAAAAAAAAAAAAAAAAAA/proof", org="org_a")
    assert other.status == unknown.status == 404
    assert other.body == unknown.body
    assert ledger_get("/events/not%20an%20id/proof").status == 404
    assert ledger_get(f"/events/{'x' * 65}/proof").status == 400


def test_a_recorded_event_not_yet_in_a_checkpoint_is_a_409_with_retry_after(post: Any, ledger_get: Any) -> None:
    ids = record(post, 1)
    answer = ledger_get(f"/events/{ids[0]}/proof")
    assert answer.status == 409
    assert int(answer.headers["Retry-After"]) >= 1


def test_entries_page_through_the_ledger_and_show_removed_events_as_null(
    post: Any, sealer: Any, ledger_get: Any, ddb: Any
) -> None:
    from tests.conftest import TEST_ENV, stored_events

    ids = record(post, 12)
    sealer.run()
    page = ledger_get("/ledger/entries", {"start": "0", "limit": "5"})
    assert [e["leaf_index"] for e in page.body["entries"]] == [0, 1, 2, 3, 4] and page.body["next_start"] == 5
    last = ledger_get("/ledger/entries", {"start": "10", "limit": "5"})
    assert [e["event"]["event_id"] for e in last.body["entries"]] == ids[10:] and last.body["next_start"] is None
    assert ledger_get("/ledger/entries", {"start": "12"}).body == {"entries": [], "next_start": None}
    assert ledger_get("/ledger/entries", {"start": "13"}).status == 400
    gone = next(item for item in stored_events(ddb) if item["event_id"]["S"] == ids[3])
    ddb.delete_item(TableName=TEST_ENV["TABLE_NAME"], Key={"pk": gone["pk"], "sk": gone["sk"]})  # as TTL would
    entry = ledger_get("/ledger/entries", {"start": "3", "limit": "1"}).body["entries"][0]
    assert entry["event"] is None and entry["leaf_hash"] == page.body["entries"][3]["leaf_hash"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/ledger/entries", {"limit": "0"}),
        ("/ledger/entries", {"limit": "101"}),
        ("/ledger/entries", {"start": "-1"}),
        ("/ledger/entries", {"org_id": "org_b"}),
        ("/ledger/checkpoint", {"org_id": "org_b"}),
        ("/ledger/checkpoints", {"limit": "1000"}),
        ("/ledger/public-key", {"x": "1"}),
        ("/ledger/consistency", {"from": "1e3", "to": "2"}),
    ],
)
def test_bad_parameters_are_a_400(ledger_get: Any, path: str, query: dict[str, str]) -> None:
    answer = ledger_get(path, query)
    assert answer.status == 400, answer.body
    assert answer.body["message"]


@pytest.mark.parametrize("path", ["/ledger/checkpoint", "/ledger/entries", "/ledger/public-key"])
def test_a_member_context_is_refused(ledger_get: Any, path: str) -> None:
    member = {"orgId": "org_a", "userId": "usr_2", "role": "member", "email": "m@example.com", "name": "M"}
    assert ledger_get(path, authorizer=member).status == 403


def test_the_tree_size_counts_only_sealed_events(post: Any, sealer: Any, ledger_get: Any) -> None:
    record(post, 3)
    assert tree_size(ledger_get) == 0
    sealer.run()
    assert tree_size(ledger_get) == 3


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/ledger/entries", {"start": "1" * 30}),
        ("/ledger/consistency", {"from": "0", "to": "9" * 25}),
        ("/events/01KAAAAAAAAAAAAAAAAAAAAAAA/proof", {"tree_size": "9" * 25}),
        ("/ledger/entries", {"start": "1" * 5000}),
    ],
)
def test_sizes_beyond_any_tree_are_a_400(ledger_get: Any, path: str, query: dict[str, str]) -> None:
    assert ledger_get(path, query).status == 400


def test_a_path_the_router_cannot_match_gets_the_error_body(ledger_get: Any) -> None:
    """Found by the OpenAPI fuzz: an id with a control character matches no route, and the
    answer must still be the documented error body."""
    answer = ledger_get("/events/\x0fq\U000f3894\x8b/proof")
    assert answer.status == 404
    assert answer.body == {"message": "No such resource", "errors": []}
