"""ledger_key_output: the custom resource behind the stack outputs CheckpointPublicKeyPem
and CheckpointKeyId. CloudFormation cannot read a KMS public key itself; this reads it
when the stack is created or updated and answers CloudFormation's pre-signed response
URL (the protocol of AWS::CloudFormation::CustomResource)."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

import json
import urllib.request
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from audit_log import aws_clients
from audit_log.ledger.signing import kms_public_key
from audit_log.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    key_id = str(event.get("ResourceProperties", {}).get("KeyId", ""))
    answer: dict[str, Any] = {"Status": "SUCCESS", "PhysicalResourceId": key_id or context.aws_request_id}
    if event.get("RequestType") in ("Create", "Update"):
        try:
            public_key = kms_public_key(aws_clients.kms(), key_id)
        except (ClientError, BotoCoreError, ValueError) as exc:
            logger.error("Could not read the signing key's public half", extra={"reason": repr(exc)})
            answer = {**answer, "Status": "FAILED", "Reason": f"GetPublicKey failed: {type(exc).__name__}"}
        else:
            answer["Data"] = {"PublicKeyPem": public_key.pem, "KeyId": public_key.key_id}
    respond(event, answer)


def respond(event: dict[str, Any], answer: dict[str, Any]) -> None:
    body = json.dumps(
        {
            **answer,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
        }
    ).encode()
    url = str(event["ResponseURL"])
    if not url.startswith("https://"):  # CloudFormation's pre-signed S3 URL, nothing else
        raise ValueError("the response URL is not CloudFormation's")
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        logger.info("Answered CloudFormation", extra={"status": answer["Status"], "http_status": response.status})


loading.done()
