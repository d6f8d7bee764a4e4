"""Sealing through the events stream: every recorded event gets exactly one leaf, and the
published checkpoint is signed over the tree those leaves make."""

import base64
from typing import Any

from audit_log.ledger.checkpoints import parse_body
from audit_log.ledger.entries import event_leaf_hash
from audit_log.ledger.hashing import LeafList, root, verify_inclusion
from audit_log.ledger.signing import verify_signature


def record(post: Any, count: int, org: str = "org_a", actor: str = "usr_1") -> list[str]:
    ids = []
    for first in range(0, count, 25):
        batch = [
            {"org_id": org, "event_type": "user.login", "actor": {"id": actor}, "details": {"n": i}}
            for i in range(first, min(count, first + 25))
        ]
        answer = post("/events/batch", {"events": batch})
        assert answer.status == 201, answer.body
        ids += [event["event_id"] for event in answer.body["events"]]
    return ids


def test_recorded_events_are_sealed_once_each_and_signed(post: Any, sealer: Any, ledger_get: Any) -> None:
    ids = record(post, 60)
    sealer.run()
    checkpoint = ledger_get("/ledger/checkpoint")
    assert checkpoint.status == 200, checkpoint.body
    assert checkpoint.body["tree_size"] == 60
    key = ledger_get("/ledger/public-key").body
    verify_signature(key["public_key_pem"], checkpoint.body["body"], base64.b64decode(checkpoint.body["signature"]))
    head = parse_body(checkpoint.body["body"])
    assert head.origin == "audit-log.test/unit/org_a"
    entries = ledger_get("/ledger/entries", {"start": "0", "limit": "100"}).body["entries"]
    assert [entry["event"]["event_id"] for entry in entries] == ids
    leaves = [event_leaf_hash(entry["event"]) for entry in entries]
    assert [base64.b64encode(leaf).decode() for leaf in leaves] == [entry["leaf_hash"] for entry in entries]
    assert root(60, LeafList(leaves)) == head.root_hash
    proof = ledger_get(f"/events/{ids[17]}/proof").body
    assert proof["leaf_index"] == 17
    verify_inclusion(17, 60, leaves[17], [base64.b64decode(node) for node in proof["inclusion_path"]], head.root_hash)


def ledger_event_ids(ledger_get: Any, org: str = "org_a") -> list[str]:
    """Every leaf's event id, in leaf order, through the API (so checkpoints included)."""
    ids: list[str] = []
    start: int | None = 0
    while start is not None:
        page = ledger_get("/ledger/entries", {"start": str(start)}, org=org)
        assert page.status == 200, page.body
        ids += [entry["event"]["event_id"] for entry in page.body["entries"]]
        start = page.body["next_start"]
    return ids


def tree_size(ledger_get: Any, org: str = "org_a") -> int:
    size: int = ledger_get("/ledger/checkpoint", org=org).body["tree_size"]
    return size


def test_a_redelivered_batch_adds_no_leaf(post: Any, sealer: Any, ledger_get: Any, lambda_context: Any) -> None:
    record(post, 30)
    delivered: list[dict[str, Any]] = []
    invoke = sealer.invoke

    def remembering(event: dict[str, Any]) -> Any:
        delivered.append(event)
        return invoke(event)

    sealer.invoke = remembering
    sealer.run()
    for event in delivered:  # Lambda delivers the same records again
        assert invoke(event) == {"batchItemFailures": []}
    assert tree_size(ledger_get) == 30
    ids = ledger_event_ids(ledger_get)
    assert len(set(ids)) == len(ids) == 30


def test_a_batch_failing_halfway_is_retried_to_exactly_one_leaf_each(
    post: Any, sealer: Any, ledger_get: Any, monkeypatch: Any
) -> None:
    from audit_log.errors import StoreUnavailable
    from audit_log.ledger import storage

    ids = record(post, 40)
    real_put_lookup = storage.put_lookup
    calls = {"n": 0}

    def failing_after_some(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] in (7, 8, 9):
            raise StoreUnavailable("ThrottlingException")
        real_put_lookup(*args)

    monkeypatch.setattr(storage, "put_lookup", failing_after_some)
    answers: list[Any] = []
    invoke = sealer.invoke

    def noting(event: dict[str, Any]) -> Any:
        answers.append(invoke(event))
        return answers[-1]

    sealer.invoke = noting
    sealer.run()
    assert answers[0]["batchItemFailures"], "the failed batch is reported"
    assert sorted(ledger_event_ids(ledger_get)) == sorted(ids)


def test_a_sealer_dying_between_its_claim_and_its_lookups_is_finished_by_the_retry(
    post: Any, sealer: Any, ledger_get: Any, monkeypatch: Any
) -> None:
    from audit_log.errors import StoreUnavailable
    from audit_log.ledger import sealing

    ids = record(post, 20)
    real = sealing._write_lookups
    state = {"failed": False}

    def dies_once(*args: Any) -> None:
        if not state["failed"]:
            state["failed"] = True
            raise StoreUnavailable("the container was stopped")
        real(*args)

    monkeypatch.setattr(sealing, "_write_lookups", dies_once)
    sealer.run()
    assert ledger_event_ids(ledger_get) == ids
    proof = ledger_get(f"/events/{ids[3]}/proof")
    assert proof.status == 200 and proof.body["leaf_index"] == 3


def test_idempotency_markers_and_replays_are_not_leaves(post: Any, sealer: Any, ledger_get: Any) -> None:
    event = {"org_id": "org_a", "event_type": "member.invited", "actor": {"id": "usr_1"}}
    first = post("/events", event, headers={"Idempotency-Key": "invite-1"})
    again = post("/events", event, headers={"Idempotency-Key": "invite-1"})
    assert first.body["event_id"] == again.body["event_id"]
    sealer.run()
    assert ledger_event_ids(ledger_get) == [first.body["event_id"]]


def test_each_organisation_has_its_own_tree(post: Any, sealer: Any, ledger_get: Any) -> None:
    a = record(post, 5, org="org_a")
    b = record(post, 3, org="org_b")
    sealer.run()
    assert ledger_event_ids(ledger_get, "org_a") == a
    assert ledger_event_ids(ledger_get, "org_b") == b
    assert ledger_get("/ledger/checkpoint", org="org_b").body["origin"] == "audit-log.test/unit/org_b"


def test_one_organisation_failing_does_not_hold_back_another(
    post: Any, sealer: Any, ledger_get: Any, monkeypatch: Any
) -> None:
    from audit_log.errors import StoreUnavailable
    from audit_log.ledger import sealing

    record(post, 4, org="org_a")
    b = record(post, 4, org="org_b")
    real_seal = sealing.seal
    state = {"failures": 0}

    def org_a_fails_once(table: str, org_id: str, *args: Any) -> Any:
        if org_id == "org_a" and state["failures"] == 0:
            state["failures"] += 1
            raise StoreUnavailable("throttled")
        return real_seal(table, org_id, *args)

    from audit_log.ledger import stream_batches

    monkeypatch.setattr(stream_batches, "seal", org_a_fails_once)
    sealer.run()
    assert ledger_event_ids(ledger_get, "org_b") == b
    assert len(ledger_event_ids(ledger_get, "org_a")) == 4


def test_a_record_that_is_not_an_event_is_reported_not_skipped(lambda_context: Any, ledger_resources: Any) -> None:
    from devtools.functions import load_function

    seal_log = load_function("seal_log")
    record: dict[str, Any] = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": {"S": "org#org_a"}, "sk": {"S": "x"}},
            "NewImage": {"pk": {"S": "org#org_a"}, "sk": {"S": "x"}},
            "SequenceNumber": "111",
        },
    }
    marker = {
        **record,
        "dynamodb": {**record["dynamodb"], "Keys": {"pk": {"S": "idem#org_a#k"}}, "SequenceNumber": "112"},
    }
    answer = seal_log.lambda_handler({"Records": [record, marker]}, lambda_context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "111"}]}


def test_checkpoints_wait_for_the_interval_and_a_queued_call_publishes_them(
    post: Any, sealer: Any, ledger_get: Any, monkeypatch: Any
) -> None:
    import boto3

    monkeypatch.setenv("CHECKPOINT_INTERVAL_SECONDS", "10")
    record(post, 3)
    sealer.run()
    assert tree_size(ledger_get) == 3
    record(post, 2)
    sealer.stream.deliver(sealer.invoke)
    assert tree_size(ledger_get) == 3, "a second checkpoint within 10 s waits"
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=sealer.queue.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    monkeypatch.setenv("CHECKPOINT_INTERVAL_SECONDS", "0")  # as if the 10 s had passed
    from devtools.functions import load_function

    seal_log = load_function("seal_log")
    seal_log.publish_or_defer(seal_log.current(seal_log.SealSettings), "org_a")
    assert tree_size(ledger_get) == 5
