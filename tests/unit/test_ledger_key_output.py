"""The custom resource behind the stack outputs: CloudFormation gets the signing key's
public half (PEM and key_id) on create and update, and a FAILED answer it can show when
the key cannot be read."""

import json
import os
from typing import Any

import pytest

from audit_log import aws_clients
from audit_log.ledger.signing import kms_public_key
from devtools.functions import load_function


def invoke(request_type: str, key_id: str, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> dict[str, Any]:
    module = load_function("ledger_key_output")
    sent: list[dict[str, Any]] = []

    class Answer:
        status = 200

        def __enter__(self) -> "Answer":
            return self

        def __exit__(self, *_: object) -> None:
            return None

    def urlopen(request: Any, timeout: float) -> Answer:
        assert request.full_url.startswith("https://cloudformation-custom-resource-response")
        assert request.get_method() == "PUT"
        sent.append(json.loads(request.data))
        return Answer()

    monkeypatch.setattr(module.urllib.request, "urlopen", urlopen)
    event = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/audit-log/1",
        "RequestId": "r-1",
        "LogicalResourceId": "LedgerPublicKey",
        "ResourceProperties": {"KeyId": key_id},
    }
    module.lambda_handler(event, lambda_context)
    assert len(sent) == 1
    return sent[0]


def test_create_answers_the_public_key_and_its_id(
    ledger_resources: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    key_id = os.environ["SIGNING_KEY_ID"]
    answer = invoke("Create", key_id, monkeypatch, lambda_context)
    expected = kms_public_key(aws_clients.kms(), key_id)
    assert answer["Status"] == "SUCCESS" and answer["RequestId"] == "r-1"
    assert answer["Data"] == {"PublicKeyPem": expected.pem, "KeyId": expected.key_id}


def test_an_unreadable_key_fails_the_resource(
    ledger_resources: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    answer = invoke("Update", "arn:aws:kms:us-east-1:123456789012:key/nope", monkeypatch, lambda_context)
    assert answer["Status"] == "FAILED" and "GetPublicKey" in answer["Reason"]


def test_delete_needs_no_key(ddb: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    assert invoke("Delete", "", monkeypatch, lambda_context)["Status"] == "SUCCESS"
