"""The AWS clients, each made once on first use and reused: importing a function needs no
region or endpoint, and a warm container makes no client twice. Endpoints come from
botocore's own AWS_ENDPOINT_URL_* variables, so local runs point them at moto server.

They are botocore's clients, from one botocore session: boto3's would be the same clients
(boto3 adds only resources and S3's file transfers, neither used here), but importing
boto3 costs every cold start tens of milliseconds (make bench measures it).

The session's model loader knows which services these are (SERVICES). botocore's own,
before it loads a service's model, lists every service it has models for (two directory
reads and a stat for each of some 400, once for the model and once for its endpoint
rules) only to check that the name is one of them: a tenth of creating the first client.
This one checks the names in SERVICES alone, each for its own model as botocore would.
"""

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader, create_loader
from botocore.session import Session, get_session

if TYPE_CHECKING:  # type stubs only; not shipped in the layer
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# botocore's standard retries (throttling, 5xx, connection errors), 4 attempts, and
# timeouts that leave a function room to report a failure instead of timing out.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)

# Every service a client is made for here; another is refused as botocore refuses a name
# it has no model for (UnknownServiceError).
SERVICES = ("dynamodb", "kms", "s3", "sqs", "sts")


class ServicesLoader(Loader):
    """botocore's model loader, with the services known to be available listed from
    SERVICES rather than from every directory of models (see the module docstring)."""

    def list_available_services(self, type_name: str) -> list[str]:
        return [service for service in SERVICES if self._has_model(service, type_name)]

    def _has_model(self, service: str, type_name: str) -> bool:
        try:
            return bool(self.list_api_versions(service, type_name))
        except DataNotFoundError:
            return False


@cache
def session() -> Session:
    """The one botocore session: credentials, region and service models are resolved
    once for all clients, as boto3's default session would. Its loader searches where
    botocore's would (AWS_DATA_PATH, ~/.aws/models, botocore's own models)."""
    created = get_session()
    searched = create_loader(created.get_config_variable("data_path")).search_paths
    created.register_component(
        "data_loader", ServicesLoader(extra_search_paths=searched, include_default_search_paths=False)
    )
    return created


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
