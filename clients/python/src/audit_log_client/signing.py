"""SigV4 for the record routes (`AWS_IAM` auth), by botocore's own signer: the
credentials come from the standard AWS chain (environment, shared config and
credentials files, SSO, container and instance roles), refreshed by botocore when they
expire, exactly as boto3 would find them."""

from collections.abc import Mapping

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from audit_log_client.errors import NoCredentials

SERVICE = "execute-api"  # API Gateway's signing name


class Signer:
    """Signs requests for one region. The credential chain is walked once, here;
    each signature takes the current (possibly refreshed) credentials."""

    def __init__(
        self,
        region: str | None = None,
        *,
        session: botocore.session.Session | None = None,
        credentials: Credentials | None = None,
        service: str = SERVICE,
    ) -> None:
        session = session or botocore.session.get_session()
        self.region = region or session.get_config_variable("region")
        if not self.region:
            raise NoCredentials("no AWS region: pass region= (the API's region) or set AWS_REGION / AWS_DEFAULT_REGION")
        found = credentials or session.get_credentials()
        if found is None:
            raise NoCredentials(
                "no AWS credentials found (environment, ~/.aws, SSO, container or instance role): "
                "the record routes need a signed request"
            )
        self._credentials = found
        self.service = service

    def headers(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        """`headers` plus `Authorization`, `X-Amz-Date` (and `X-Amz-Security-Token` for
        temporary credentials), signing the method, URL, these headers and the body. A
        retry is signed again: a signature is only good for a few minutes."""
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        SigV4Auth(self._credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)
        return dict(request.headers.items())
