"""The AWS clients, each made once on first use and reused: importing a function needs no
region or endpoint, and a warm container makes no client twice. Endpoints come from
botocore's own AWS_ENDPOINT_URL_* variables, so local runs point them at moto server.

They are botocore's clients, from one botocore session: boto3's would be the same clients
(boto3 adds only resources and S3's file transfers, neither used here), but importing
boto3 costs every cold start tens of milliseconds (make bench measures it).
"""

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config
from botocore.session import Session, get_session

if TYPE_CHECKING:  # type stubs only; not shipped in the layer
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# botocore's standard retries (throttling, 5xx, connection errors), 4 attempts, and
# timeouts that leave a function room to report a failure instead of timing out.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)


@cache
def session() -> Session:
    """The one botocore session: credentials, region and service models are resolved
    once for all clients, as boto3's default session would."""
    return get_session()


def create(service: str, config: Config, **credentials: Any) -> Any:
    """A new client of `service`; `credentials` (aws_access_key_id, …) for a role's."""
    return session().create_client(service, config=config, **credentials)


@cache
def kms() -> "KMSClient":
    return cast("KMSClient", create("kms", _CONFIG))


@cache
def s3() -> "S3Client":
    return cast("S3Client", create("s3", _CONFIG))


@cache
def sqs() -> "SQSClient":
    return cast("SQSClient", create("sqs", _CONFIG))


@cache
def s3_presigner() -> "S3Client":
    """S3 for presigned URLs: SigV4, which objects under SSE-KMS require."""
    return cast("S3Client", create("s3", _CONFIG.merge(Config(signature_version="s3v4"))))


@cache
def sts() -> "STSClient":
    return cast("STSClient", create("sts", _CONFIG))
