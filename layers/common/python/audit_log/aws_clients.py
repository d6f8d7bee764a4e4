"""The boto3 clients besides DynamoDB's (events_table has that one), each made once on
first use and reused: importing a function needs no region or endpoint, and a warm
container makes no client twice. Endpoints come from boto3's own AWS_ENDPOINT_URL_*
variables, so local runs point them at moto server."""

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:  # type stubs only; not shipped in the layer
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# botocore's standard retries (throttling, 5xx, connection errors), 4 attempts, and
# timeouts that leave a function room to report a failure instead of timing out.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)


@cache
def kms() -> "KMSClient":
    return boto3.client("kms", config=_CONFIG)


@cache
def s3() -> "S3Client":
    return boto3.client("s3", config=_CONFIG)


@cache
def sqs() -> "SQSClient":
    return boto3.client("sqs", config=_CONFIG)


@cache
def s3_presigner() -> "S3Client":
    """S3 for presigned URLs: SigV4, which objects under SSE-KMS require."""
    return boto3.client("s3", config=_CONFIG.merge(Config(signature_version="s3v4")))


@cache
def sts() -> "STSClient":
    return boto3.client("sts", config=_CONFIG)
