"""A customer's own S3 bucket: gzip NDJSON objects, one per hour of recording and batch,
written with a role the customer made for us.

Delivery assumes `role_arn` with ExternalId = the organisation's id (so a role made for
one organisation cannot be used by a stream of another: the confused-deputy rule), and
puts each object with `ExpectedBucketOwner` = the role's account. Keys:
`<prefix><yyyy>/<mm>/<dd>/<hh>/<first leaf>-<last leaf>.ndjson.gz` (hour of
`recorded_at`, leaf indexes 20 digits): a retried batch writes the same keys with the
same bytes, and listing a day's prefix lists its objects in ledger order."""

# ruff: noqa: ARG001  (deliver and send_test take every Destination argument, used or not)

import gzip
import json
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from audit_log import aws_clients
from audit_log.streams.formats import LeafEvent, Outcome, Stream
from audit_log.streams.transport import Answer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
SESSION_SECONDS = 900


def object_key(prefix: str, leaves: Sequence[LeafEvent]) -> str:
    hour = leaves[0].event["recorded_at"][:13]  # yyyy-mm-ddThh
    day, hh = hour.split("T")
    return f"{prefix}{day.replace('-', '/')}/{hh}/{leaves[0].leaf_index:020d}-{leaves[-1].leaf_index:020d}.ndjson.gz"


def ndjson_gzip(leaves: Sequence[LeafEvent]) -> bytes:
    lines = b"".join(
        json.dumps(leaf.event, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n" for leaf in leaves
    )
    return gzip.compress(lines, mtime=0)  # the same batch is the same bytes


def _client(stream: Stream) -> "S3Client":
    """S3 as the customer's role; the session is named after the stream (CloudTrail)."""
    credentials = aws_clients.sts().assume_role(
        RoleArn=stream.destination["role_arn"],
        RoleSessionName=f"audit-log-{stream.stream_id}"[:64],
        ExternalId=stream.org_id,
        DurationSeconds=SESSION_SECONDS,
    )["Credentials"]
    client: S3Client = aws_clients.create(
        "s3",
        _CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return client


def _owner(stream: Stream) -> str:
    return str(stream.destination["role_arn"]).split(":")[4]


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        found: Any = error.response.get("Error", {})
        return f"S3 {found.get('Code', 'error')}: {str(found.get('Message', ''))[:200]}"
    return f"S3 unreachable: {type(error).__name__}"


def deliver(stream: Stream, events: Sequence[LeafEvent], *, allow_private: bool, now: datetime) -> Outcome:
    prefix, bucket = stream.destination.get("prefix") or "", stream.destination["bucket"]
    done = 0
    try:
        client = _client(stream)
        for _, hour in groupby(events, key=lambda leaf: leaf.event["recorded_at"][:13]):
            leaves = list(hour)
            client.put_object(
                Bucket=bucket,
                Key=object_key(prefix, leaves),
                Body=ndjson_gzip(leaves),
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
                ExpectedBucketOwner=_owner(stream),
            )
            done += len(leaves)
    except (ClientError, BotoCoreError) as error:
        return Outcome(done, _reason(error))
    return Outcome(len(events))


def send_test(stream: Stream, *, allow_private: bool, now: datetime, test_id: str) -> Answer:
    prefix, bucket = stream.destination.get("prefix") or "", stream.destination["bucket"]
    key = f"{prefix}audit-log-test/{test_id}.json"
    body = json.dumps({"type": "audit_log.test", "test_id": test_id, "stream_id": stream.stream_id})
    try:
        answer = _client(stream).put_object(
            Bucket=bucket,
            Key=key,
            Body=body.encode(),
            ContentType="application/json",
            ExpectedBucketOwner=_owner(stream),
        )
    except ClientError as error:
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) or 0
        return Answer(status=status, text=_reason(error))
    return Answer(status=int(answer["ResponseMetadata"]["HTTPStatusCode"]), text=f"wrote s3://{bucket}/{key}")
