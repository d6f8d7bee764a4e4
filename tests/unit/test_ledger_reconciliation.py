"""Reconciliation: events whose stream records never reached the sealer (expired after
24 hours while sealing failed) are found in the events table and sealed, once."""

from typing import Any

from devtools.functions import load_function
from tests.unit.test_ledger_sealing import ledger_event_ids, record


def test_events_the_stream_never_delivered_are_sealed_by_reconciliation(
    post: Any, sealer: Any, ledger_get: Any, lambda_context: Any, capsys: Any
) -> None:
    a = record(post, 30, org="org_a")
    b = record(post, 4, org="org_b")
    seal_log = load_function("seal_log")
    answer = seal_log.lambda_handler({"reconcile": {}}, lambda_context)
    assert answer == {"checked": 34, "unsealed": 34, "done": True}
    assert sorted(ledger_event_ids(ledger_get, "org_a")) == sorted(a)
    assert sorted(ledger_event_ids(ledger_get, "org_b")) == sorted(b)
    assert '"UnsealedEvents"' in capsys.readouterr().out  # the metric is emitted on every pass
    sealer.run()  # the stream's records arrive after all: nothing is sealed twice
    assert len(ledger_event_ids(ledger_get, "org_a")) == 30
    again = seal_log.lambda_handler({"reconcile": {}}, lambda_context)
    assert again == {"checked": 34, "unsealed": 0, "done": True}


def test_a_long_pass_stops_in_time_and_is_carried_on_by_the_queue(
    post: Any, sealer: Any, ledger_get: Any, monkeypatch: Any, lambda_context: Any
) -> None:
    from audit_log.ledger import reconciliation

    monkeypatch.setattr(reconciliation, "SCAN_PAGE", 10)
    ids = record(post, 35)

    class ShortOnTime:
        aws_request_id = lambda_context.aws_request_id
        function_name = lambda_context.function_name
        memory_limit_in_mb = 512
        invoked_function_arn = lambda_context.invoked_function_arn

        def get_remaining_time_in_millis(self) -> int:
            return 1_000  # under the minute a pass keeps in reserve

    seal_log = load_function("seal_log")
    first = seal_log.lambda_handler({"reconcile": {}}, ShortOnTime())
    assert first["done"] is False and first["checked"] == 10
    sealer.run()  # the queued rest of the pass, a page per call while time stays short
    assert sorted(ledger_event_ids(ledger_get)) == sorted(ids)
