"""Exports: `POST /exports`, `GET /exports/{id}`, `GET /exports`, and the worker that
builds each file in steps (CSV, NDJSON and its proof), with moto's DynamoDB, S3 and SQS."""

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import boto3
import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.s3 import models as moto_s3_models

from audit_log.event_rules import EventIn
from audit_log.exports import files, objects, worker
from audit_log.exports.proofs import covering_nodes
from audit_log.recording import record_events
from audit_log.timestamps import format_utc_ms
from tests.conftest import TEST_ENV, Exporter, HttpAnswer, Sealer, admin_context, all_items

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BUCKET = TEST_ENV["EXPORT_BUCKET"]
EXPORTS_TABLE = TEST_ENV["EXPORTS_TABLE_NAME"]
TYPES = ["user.login", "organisation.settings_updated", "member.invited"]
ACTORS = ["usr_ada", "usr_grace", "usr_katherine"]
_s3 = boto3.client("s3")


def at(minutes: float) -> str:
    return format_utc_ms(T0 + timedelta(minutes=minutes))


def seed(org: str, events: list[dict[str, Any]]) -> None:
    models = [EventIn.model_validate({"org_id": org, **event}) for event in events]
    for start in range(0, len(models), 25):
        chunk = [(model, None) for model in models[start : start + 25]]
        record_events(chunk, table_name=TEST_ENV["TABLE_NAME"], retention_days=0)


def logins(count: int, org: str = "org_a", **fields: Any) -> None:
    seed(
        org,
        [
            {
                "event_type": TYPES[i % 3],
                "actor": {"id": ACTORS[i % 3], "name": f"User {i % 3}"},
                "occurred_at": at(i),
                "targets": [{"type": "api_key", "id": f"key_{i % 2}"}],
                "context": {"ip_address": f"192.0.2.{i % 7}", "user_agent": "Firefox"},
                "details": {"n": i},
                **fields,
            }
            for i in range(count)
        ],
    )


def stored(key: str) -> bytes:
    body: bytes = _s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def keys() -> list[str]:
    return sorted(obj["Key"] for obj in _s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


class Run:
    """The pipeline an export goes through: the sealer and indexer catch up, the worker
    drains its queue, the sealer publishes what the worker waits for."""

    def __init__(self, exports_api: Any, exporter: Exporter, sealer: Sealer, indexer: Any) -> None:
        self.api, self.exporter, self.sealer, self.indexer = exports_api, exporter, sealer, indexer

    def start(self, body: dict[str, Any], org: str = "org_a") -> HttpAnswer:
        self.sealer.run()
        self.indexer.run()
        answer: HttpAnswer = self.api("POST", "/exports", body, org=org)
        return answer

    def finish(self, org: str = "org_a", export_id: str | None = None) -> None:
        for _ in range(20):
            self.sealer.run()
            self.indexer.run()
            if not self.exporter.run():
                return
        raise AssertionError("the export kept working")

    def export(self, body: dict[str, Any], org: str = "org_a") -> dict[str, Any]:
        started = self.start(body, org)
        assert started.status == 202, started.body
        self.finish(org)
        shown = self.api("GET", f"/exports/{started.body['export_id']}", org=org)
        assert shown.status == 200, shown.body
        assert shown.body["state"] == "succeeded", shown.body
        result: dict[str, Any] = shown.body
        return result


@pytest.fixture
def run(exports_api: Any, exporter: Exporter, sealer: Sealer, indexer: Any, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(worker, "LEDGER_WAIT_SECONDS", 0)  # moto honours queue delays: no sleeping in tests
    return Run(exports_api, exporter, sealer, indexer)


def file_of(export: dict[str, Any], org: str = "org_a") -> bytes:
    return stored(objects.file_key(org, export["export_id"], export["format"]))


def proof_of(export: dict[str, Any], org: str = "org_a") -> dict[str, Any]:
    proof: dict[str, Any] = json.loads(stored(objects.proof_key(org, export["export_id"])))
    return proof


def ndjson_events(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def walk(get: Any, query: dict[str, str], org: str = "org_a") -> list[dict[str, Any]]:
    """Every event `GET /events` serves for `query`, following cursors."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = get({**query, "limit": "100", **({"cursor": cursor} if cursor else {})}, org=org)
        assert answer.status == 200, answer.body
        events += answer.body["events"]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return events


def query(sql: str) -> list[tuple[Any, ...]]:
    """DuckDB's answer to `sql`, its rows as tuples."""
    relation = duckdb.sql(sql)
    assert relation is not None
    return relation.fetchall()


def csv_events(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def as_csv_row(event: dict[str, Any]) -> dict[str, str]:
    """What the documented columns say of `event` (no cell here needs neutralising)."""
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    actor, context = event["actor"], event["context"]
    return {
        "event_id": event["event_id"],
        "occurred_at": event["occurred_at"],
        "recorded_at": event["recorded_at"],
        "event_type": event["event_type"],
        "actor_id": actor["id"],
        "actor_type": actor["type"],
        "actor_name": actor["name"] or "",
        "actor_email": actor["email"] or "",
        "targets": json.dumps(event["targets"], **compact),  # type: ignore[arg-type]
        "ip_address": context["ip_address"] or "",
        "user_agent": context["user_agent"] or "",
        "details": json.dumps(event["details"], **compact),  # type: ignore[arg-type]
        "signals": json.dumps(event["signals"], **compact),  # type: ignore[arg-type]
    }


# --- what an export holds ---------------------------------------------------------


def test_an_ndjson_export_of_the_whole_log_is_the_log_and_proves_itself_complete(run: Run, get: Any) -> None:
    logins(40)

    export = run.export({"format": "ndjson"})

    served = walk(get, {})
    lines = ndjson_events(file_of(export))
    assert lines == served  # the exported event itself included: it was recorded first
    assert lines[0]["event_type"] == "audit_log.exported"
    assert export["events"] == len(served) == 41
    proof = proof_of(export)
    assert proof["format"] == "audit-log-export-proof/v1"
    assert proof["export_id"] == export["export_id"]
    assert proof["checkpoint"]["tree_size"] == 41
    assert sorted(proof["leaf_indices"]) == list(range(41))
    assert proof["nodes"] == [] and proof["complete"] is True


def test_an_ndjson_export_reads_back_with_duckdb(run: Run, get: Any, tmp_path: Any) -> None:
    logins(20)

    export = run.export({"format": "ndjson"})

    path = tmp_path / "export.ndjson"
    path.write_bytes(file_of(export))
    served = walk(get, {})
    rows = query(f"SELECT event_id, actor.id, details FROM read_json('{path}', format = 'newline_delimited')")
    assert [(row[0], row[1]) for row in rows] == [(e["event_id"], e["actor"]["id"]) for e in served]


def test_each_ndjson_line_is_the_event_exactly_as_get_events_serves_it(run: Run, get: Any) -> None:
    seed("org_a", [{"event_type": "user.login", "actor": {"id": "usr_é"}, "details": {"text": 'Zoë 🧪 "quoted"'}}])

    export = run.export({"format": "ndjson", "event_type": "user.login"})

    data = file_of(export)
    (served,) = walk(get, {"event_type": "user.login"})
    compact = json.dumps(served, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    assert data == compact


def test_a_filtered_ndjson_export_proves_each_event_with_shared_nodes(run: Run) -> None:
    logins(60)

    export = run.export({"format": "ndjson", "actor_id": "usr_grace"})

    proof = proof_of(export)
    assert export["events"] == 20
    assert proof["complete"] is False
    size = proof["checkpoint"]["tree_size"]
    exported = sorted(proof["leaf_indices"])
    covered = sorted(
        leaf
        for node in proof["nodes"]
        for leaf in range(node["index"] << node["level"], (node["index"] + 1) << node["level"])
    )
    assert sorted(exported + covered) == list(range(size))  # every other leaf under exactly one node
    assert len(proof["nodes"]) < size - len(exported)  # nodes shared, not one per missing leaf


def test_a_csv_export_reads_back_with_pythons_csv_module_and_duckdb(run: Run, get: Any, tmp_path: Any) -> None:
    logins(30)
    seed("org_a", [{"event_type": "member.invited", "actor": {"id": "usr_x", "name": 'Comma, "Quote"\nNewline'}}])

    export = run.export({"format": "csv"})

    data = file_of(export)
    served = walk(get, {})
    assert data.startswith(",".join(files.CSV_COLUMNS).encode() + b"\r\n")
    assert csv_events(data) == [as_csv_row(event) for event in served]
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    rows = query(f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true)")
    expected = [tuple(as_csv_row(event).values()) for event in served]
    assert [tuple(value or "" for value in row) for row in rows] == expected
    assert query(f"SELECT count(*) FROM read_csv('{path}', header = true)") == [(len(served),)]


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "\nLF"])
def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(run: Run, cell: str) -> None:
    seed(
        "org_a",
        [
            {
                "event_type": "member.invited",
                "actor": {"id": cell[:1] + "usr", "name": cell},
                "targets": [{"type": "user", "id": "usr_2", "name": cell}],
                "context": {"user_agent": cell},
            }
        ],
    )

    export = run.export({"format": "csv", "event_type": "member.invited"})

    (row,) = csv_events(file_of(export))
    assert row["actor_name"] == "'" + cell
    assert row["user_agent"] == "'" + cell
    assert row["actor_id"] == "'" + cell[:1] + "usr"
    assert json.loads(row["targets"])[0]["name"] == cell  # inside JSON it cannot start a cell


def test_neutralising_leaves_ordinary_cells_alone() -> None:
    assert [files.neutralised(cell) for cell in ["Ada", "2026-11-02", "", "a=b", "'quoted"]] == [
        "Ada",
        "2026-11-02",
        "",
        "a=b",
        "'quoted",
    ]


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "event_type": st.sampled_from(TYPES),
        "actor_id": st.sampled_from(ACTORS),
        "since": st.integers(0, 50).map(at),
        "until": st.integers(0, 50).map(at),
        "target": st.sampled_from(["key_0", "key_1"]),
    },
)
LOGS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 49), st.integers(0, 1)), min_size=0, max_size=40
)
_examples = iter(range(10**6))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=LOGS, chosen=FILTERS, file_format=st.sampled_from(["csv", "ndjson"]))
def test_an_export_holds_exactly_what_walking_get_events_with_its_filters_returns(
    run: Run, get: Any, log: list[tuple[int, int, int, int]], chosen: dict[str, Any], file_format: str
) -> None:
    org = f"org_p{next(_examples)}"  # a log of its own per example, in the same tables
    seed(
        org,
        [
            {
                "event_type": TYPES[type_],
                "actor": {"id": ACTORS[actor]},
                "occurred_at": at(minute),
                "targets": [{"type": "api_key", "id": f"key_{key}"}],
            }
            for type_, actor, minute, key in log
        ],
    )
    query = {name: value for name, value in chosen.items() if name != "target"}
    if "target" in chosen:
        query |= {"target_type": "api_key", "target_id": chosen["target"]}
    if "since" in query and "until" in query and query["since"] > query["until"]:
        query["since"], query["until"] = query["until"], query["since"]
    body = {"format": file_format, **query}
    run.sealer.run()
    run.indexer.run()
    served = walk(get, query, org=org)  # before the export: its own event is newer than every bound

    export = run.export(body, org=org)

    data = file_of(export, org)
    if "until" not in query and "event_type" not in query and "actor_id" not in query and "target" not in chosen:
        served = walk(get, query, org=org)  # the unbounded export includes its own audit_log.exported
    if file_format == "ndjson":
        assert ndjson_events(data) == served
        assert len(proof_of(export, org)["leaf_indices"]) == len(served)
    else:
        assert csv_events(data) == [as_csv_row(event) for event in served]
    assert export["events"] == len(served)


# --- large exports: parts, steps, resuming --------------------------------------


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Parts of 4 KB (moto, like S3, refuses parts under 5 MiB but the last)."""
    monkeypatch.setattr(moto_s3_models, "S3_UPLOAD_PART_MIN_SIZE", 4096)
    monkeypatch.setenv("EXPORT_PART_BYTES", "4096")
    monkeypatch.setattr(worker, "READ_EVENTS", 10)
    return 4096


def test_a_large_export_is_written_in_parts_and_joined_into_one_file(run: Run, get: Any, small_parts: int) -> None:
    logins(100)

    export = run.export({"format": "ndjson"})

    assert ndjson_events(file_of(export)) == walk(get, {})
    stored_parts = [key for key in keys() if "/indexes/" in key]
    assert len(stored_parts) > 5  # one index object per part
    assert sorted(proof_of(export)["leaf_indices"]) == list(range(101))


def test_a_step_that_runs_out_of_time_queues_the_next_which_goes_on_from_there(
    run: Run, get: Any, small_parts: int
) -> None:
    logins(80)
    run.exporter.context.remaining_ms = 60_000  # under STOP_MARGIN: every step stops after one part
    started = run.start({"format": "csv"})

    run.finish()

    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "succeeded"
    assert csv_events(file_of(export)) == [as_csv_row(event) for event in walk(get, {})]
    item = exports_item(export["export_id"])
    assert int(item["step"]) > 5  # one step per part, then the joining step


def exports_item(export_id: str, org: str = "org_a") -> dict[str, Any]:
    (item,) = [
        row
        for row in all_items(boto3.client("dynamodb"), EXPORTS_TABLE)
        if row["pk"]["S"] == f"org#{org}" and row["sk"]["S"] == export_id
    ]
    return {name: next(iter(value.values())) for name, value in item.items()}


def test_a_redelivered_work_message_does_not_duplicate_anything(run: Run, get: Any) -> None:
    logins(20)
    started = run.start({"format": "ndjson"})
    message = worker.WorkMessage("org_a", started.body["export_id"], 0)
    worker.queue_step(work_queue(), message)  # the same step delivered twice

    run.finish()
    worker.queue_step(work_queue(), message)  # and once more, after it finished
    run.finish()

    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "succeeded"
    lines = ndjson_events(file_of(export))
    assert lines == walk(get, {})
    assert len({line["event_id"] for line in lines}) == len(lines) == export["events"]
    assert [key for key in keys() if not key.endswith((".bin",))] == sorted(
        [objects.file_key("org_a", export["export_id"], "ndjson"), objects.proof_key("org_a", export["export_id"])]
    )


def work_queue() -> str:
    """The export queue's URL, read when called: each test's queue is new."""
    return os.environ["EXPORT_QUEUE_URL"]


def test_a_step_that_fails_midway_is_retried_and_goes_on_from_its_last_part(
    run: Run, get: Any, small_parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    logins(80)
    real_upload = objects.upload_part
    calls: list[int] = []

    def flaky(bucket: str, key: str, upload_id: str, part: int, body: bytes) -> None:
        calls.append(part)
        if part == 3 and calls.count(3) == 1:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce"}}, "UploadPart")
        real_upload(bucket, key, upload_id, part, body)

    monkeypatch.setattr(objects, "upload_part", flaky)
    started = run.start({"format": "csv"})

    run.finish()

    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "succeeded", export
    assert csv_events(file_of(export)) == [as_csv_row(event) for event in walk(get, {})]
    assert calls.count(1) == 1 and calls.count(2) == 1  # parts already written were not written again
    assert calls.count(3) == 2


def test_an_export_that_keeps_failing_is_failed_with_a_reason_and_leaves_no_file(
    run: Run, small_parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    logins(60)

    def broken(bucket: str, key: str, upload_id: str, part: int, body: bytes) -> None:
        if part >= 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "We encountered"}}, "UploadPart")
        _s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part, Body=body)

    monkeypatch.setattr(objects, "upload_part", broken)
    started = run.start({"format": "csv"})

    run.finish()

    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "failed"
    assert "InternalError" in export["error"] and "5 attempts" in export["error"]
    assert export["download_url"] is None and export["completed_at"] is not None
    assert keys() == []  # no file, and the upload's parts were aborted
    assert _s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_an_ndjson_export_waits_for_the_sealer_to_reach_its_events(run: Run, get: Any) -> None:
    logins(10)
    started = run.api("POST", "/exports", {"format": "ndjson"})  # nothing sealed yet

    run.exporter.queue.deliver(run.exporter.invoke, batch=1)  # finds unsealed events: puts its step back

    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "running" and export["events"] == 0
    run.finish()
    export = run.api("GET", f"/exports/{started.body['export_id']}").body
    assert export["state"] == "succeeded"
    assert ndjson_events(file_of(export)) == walk(get, {})


# --- the routes -------------------------------------------------------------------


def test_requesting_an_export_records_audit_log_exported_with_the_admin_as_actor(run: Run, get: Any) -> None:
    started = run.start({"format": "csv", "event_type": "user.login", "since": "2026-11-01T00:00:00Z"})

    assert started.status == 202
    assert started.headers["Location"] == f"/exports/{started.body['export_id']}"
    (event,) = walk(get, {"event_type": "audit_log.exported"})
    context = admin_context("org_a")
    assert event["actor"] == {
        "id": context["userId"],
        "type": "user",
        "name": context["name"],
        "email": context["email"],
    }
    assert event["targets"] == [{"type": "export", "id": started.body["export_id"], "name": None}]
    assert event["context"] == {"ip_address": "203.0.113.7", "user_agent": "pytest"}
    assert event["details"] == {
        "format": "csv",
        "filters": {"event_type": "user.login", "since": "2026-11-01T00:00:00Z"},
    }
    assert started.body["requested_by"] == {"id": "usr_admin", "email": "admin@example.com", "name": "Org Admin"}
    assert started.body["state"] == "queued"


def test_a_finished_export_gets_fresh_presigned_links_valid_ten_minutes(run: Run) -> None:
    logins(3)
    export = run.export({"format": "ndjson"})

    again = run.api("GET", f"/exports/{export['export_id']}").body

    for url in (export["download_url"], export["proof_url"]):
        assert "X-Amz-Expires=600" in url and "X-Amz-Signature=" in url
        assert f"/exports/org_a/{export['export_id']}" in url
    assert (
        again["download_url"] != export["download_url"] or again["download_expires_at"] >= export["download_expires_at"]
    )
    expires = datetime.fromisoformat(export["download_expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    listed = run.api("GET", "/exports").body["exports"]
    assert [item["export_id"] for item in listed] == [export["export_id"]]
    assert listed[0]["download_url"] is None  # the list presigns nothing


def test_a_csv_export_has_no_proof(run: Run) -> None:
    logins(3)

    export = run.export({"format": "csv"})

    assert export["download_url"] is not None and export["proof_url"] is None
    assert objects.proof_key("org_a", export["export_id"]) not in keys()


def test_another_organisations_export_and_unknown_ids_are_404(run: Run) -> None:
    logins(3)
    export = run.export({"format": "csv"})

    for org, export_id in [
        ("org_b", export["export_id"]),
        ("org_a", "exp_01ZZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("org_a", "not-an-export"),
        ("org_a", "x" * 64),
    ]:
        answer = run.api("GET", f"/exports/{export_id}", org=org)
        assert answer.status == 404, (org, export_id)
        assert answer.body == {"message": "No such export in your organisation", "errors": []}
    assert run.api("GET", "/exports", org="org_b").body == {"exports": [], "next_cursor": None}


def test_exports_are_listed_newest_first_in_pages(run: Run) -> None:
    ids = [run.start({"format": "csv"}).body["export_id"] for _ in range(5)]

    first = run.api("GET", "/exports", query={"limit": "2"})
    assert first.status == 200
    seen = [item["export_id"] for item in first.body["exports"]]
    cursor = first.body["next_cursor"]
    while cursor:
        page = run.api("GET", "/exports", query={"limit": "2", "cursor": cursor}).body
        seen += [item["export_id"] for item in page["exports"]]
        cursor = page["next_cursor"]

    assert seen == ids[::-1]
    forged = run.api("GET", "/exports", query={"cursor": first.body["next_cursor"]}, org="org_b")
    assert forged.status == 400


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"format": "xlsx"}, 422, "format"),
        ({}, 422, "format"),
        ({"format": "csv", "org_id": "org_b"}, 422, "org_id"),
        ({"format": "csv", "event-type": "user.login"}, 422, "event-type"),
        ({"format": "csv", "event_type": "Login"}, 422, "event_type"),
        ({"format": "csv", "since": "yesterday"}, 422, "since"),
        ({"format": "csv", "since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, 400, "since"),
        ({"format": "csv", "target_type": "api_key"}, 400, "target_id"),
        ({"format": "csv", "actor_id": "usr\ud800"}, 422, "actor_id"),
        ({"format": "csv", "limit": 5}, 422, "limit"),
    ],
)
def test_a_bad_export_request_is_refused_and_nothing_is_written(
    run: Run, ddb: Any, body: dict[str, Any], status: int, field: str
) -> None:
    answer = run.api("POST", "/exports", body)

    assert answer.status == status, answer.body
    assert [error["field"] for error in answer.body["errors"]] == [field]
    assert all_items(ddb, EXPORTS_TABLE) == []
    assert all_items(ddb, TEST_ENV["TABLE_NAME"]) == []


def test_a_body_that_is_not_a_json_object_is_400(run: Run, ddb: Any) -> None:
    for raw in ["[]", "{", '"csv"']:
        answer = run.api("POST", "/exports", raw_body=raw)
        assert answer.status == 400, raw
    assert all_items(ddb, EXPORTS_TABLE) == []


def test_only_an_org_admin_may_export(run: Run, ddb: Any) -> None:
    member = {**admin_context("org_a"), "role": "member"}

    answers = [
        run.api("POST", "/exports", {"format": "csv"}, authorizer=member),
        run.api("GET", "/exports", authorizer=member),
        run.api("POST", "/exports", {"format": "csv"}, org=None),
    ]

    assert [answer.status for answer in answers] == [403, 403, 403]
    assert all_items(ddb, EXPORTS_TABLE) == []


# --- the proof's cover --------------------------------------------------------------


def subtree_leaves(nodes: list[tuple[int, int]]) -> Iterator[int]:
    for level, index in nodes:
        yield from range(index << level, (index + 1) << level)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 300), data=st.data())
def test_the_cover_is_the_fewest_complete_subtrees_over_exactly_the_other_leaves(size: int, data: Any) -> None:
    exported = sorted(data.draw(st.sets(st.integers(0, max(size - 1, 0)), max_size=size)) if size else [])

    nodes = covering_nodes(size, exported)

    leaves = list(subtree_leaves(nodes))
    assert sorted(leaves) == sorted(set(range(size)) - set(exported))
    assert len(leaves) == len(set(leaves))
    for level, index in nodes:
        assert (index + 1) << level <= size  # a node of the tree of this size
    # Maximal: no two neighbouring nodes could merge into their parent.
    assert not any(
        a == (b[0], b[1] - 1) and a[1] % 2 == 0 and (a[1] // 2 + 1) << (a[0] + 1) <= size
        for a, b in pairwise(nodes)
        if a[0] == b[0]
    )


# --- the worker's proofs, checked by the client's verifier ------------------------


@pytest.fixture
def verify(run: Run, ledger_get: Any, tmp_path: Any) -> Any:
    """`verify(data, proof)`: the client's `verify_export` on bytes and a proof document,
    with the ledger's public key as `GET /ledger/public-key` serves it."""
    from audit_log_client.checkpoints import load_public_key
    from audit_log_client.exports import verify_export

    key = load_public_key(json.dumps(ledger_get("/ledger/public-key").body))

    def check(data: bytes, proof: dict[str, Any]) -> Any:
        path = tmp_path / "export.ndjson"
        path.write_bytes(data)
        return verify_export(path, proof, key)

    return check


def test_the_client_verifies_what_the_worker_exports_and_rejects_each_tampering(run: Run, verify: Any) -> None:
    from audit_log_client.errors import VerificationFailed

    logins(30)
    whole = run.export({"format": "ndjson"})
    part = run.export({"format": "ndjson", "actor_id": "usr_ada"})
    data, proof = file_of(whole), proof_of(whole)
    part_data, part_proof = file_of(part), proof_of(part)

    assert verify(data, proof).complete is True
    verified = verify(part_data, part_proof)
    assert verified.complete is False and verified.events == part["events"] == 10

    lines = data.splitlines(keepends=True)
    tampered_line = lines[3].replace(b'"n":', b'"n":1', 1)
    assert tampered_line != lines[3]
    node = part_proof["nodes"][0]
    hiding = {**part_proof, "nodes": [{**node, "level": node["level"] + 1, "index": node["index"] // 2}]}
    tampering = {
        "a tampered line": (b"".join([*lines[:3], tampered_line, *lines[4:]]), proof),
        "a dropped line": (b"".join(lines[:5] + lines[6:]), proof),
        "an added line": (data + lines[0], proof),
        "two lines swapped": (b"".join([lines[1], lines[0], *lines[2:]]), proof),
        "a proof of another export": (data, part_proof),
        "another export's file": (part_data, proof),
        "a node hiding an exported line": (part_data, hiding),
    }
    accepted = []
    for what, (file_bytes, document) in tampering.items():
        try:
            verify(file_bytes, document)
        except VerificationFailed:
            continue
        accepted.append(what)
    assert accepted == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
FIELDS = ["format", "event_type", "actor_id", "since", "until", "target_type", "target_id"]
BODIES = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=12),
    st.sampled_from(["csv", "ndjson", "user.login", "usr_ada", "2026-11-02T00:00:00Z", "api_key"]) | JSON_VALUES,
    max_size=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES | JSON_VALUES)
def test_generated_export_requests_get_202_or_4xx_and_a_4xx_writes_nothing(run: Run, ddb: Any, body: Any) -> None:
    before = len(all_items(ddb, EXPORTS_TABLE)), len(all_items(ddb, TEST_ENV["TABLE_NAME"]))

    answer = run.api("POST", "/exports", raw_body=json.dumps(body))

    after = len(all_items(ddb, EXPORTS_TABLE)), len(all_items(ddb, TEST_ENV["TABLE_NAME"]))
    # An accepted request writes the export, its audit_log.exported event and that event's
    # idempotency marker (its key is the export id).
    assert answer.status in (202, 400, 422), answer.body
    if answer.status == 202:
        assert after == (before[0] + 1, before[1] + 2)
    else:
        assert after == before
        assert answer.body["message"] and isinstance(answer.body["errors"], list)
