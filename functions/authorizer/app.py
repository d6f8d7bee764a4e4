"""authorizer: the API Gateway TOKEN authorizer in front of the read routes.

ORG Admins get an Allow covering every admin read route of the stage (so a cached
answer is right for the next route too); ORG Members get an explicit Deny (403);
anything else is "Unauthorized" (401). No boto3, no DynamoDB access.
"""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from audit_log.tokens import AuthorizerSettings, KeysUnavailable, TokenRejected, bearer_token, signing_keys, verify

# Read routes an ORG Admin may call; one cached Allow covers them all.
ADMIN_READ_ROUTES = [
    ("GET", "/events"),
    ("GET", "/events/*"),
    ("GET", "/ledger/*"),
    ("GET", "/actors"),
    ("GET", "/event-types"),
    ("POST", "/exports"),
    ("GET", "/exports"),
    ("GET", "/exports/*"),
    ("POST", "/streams"),
    ("GET", "/streams"),
    ("GET", "/streams/*"),
    ("DELETE", "/streams/*"),
    ("POST", "/streams/*"),
]

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    request = APIGatewayAuthorizerTokenEvent(event)
    settings = AuthorizerSettings.from_environ()
    try:
        arn = parse_api_gateway_arn(_text(request.get("methodArn")))
        identity = verify(bearer_token(request.get("authorizationToken")), signing_keys(settings), settings)
    except (IndexError, ValueError) as malformed:  # no real API Gateway sends these
        logger.warning("Malformed authorizer event", extra={"reason": type(malformed).__name__})
        raise Exception("Unauthorized") from None
    except TokenRejected as rejected:
        logger.info("Token refused", extra={"reason": str(rejected)})
        raise Exception("Unauthorized") from None  # API Gateway answers 401
    except KeysUnavailable as unavailable:
        logger.error("Signing keys unavailable; refusing everyone", extra={"reason": str(unavailable)})
        raise Exception("Unauthorized") from None

    policy = APIGatewayAuthorizerResponse(
        principal_id=identity.user_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={
            "orgId": identity.org_id,
            "userId": identity.user_id,
            "role": identity.role,
            "email": identity.email,
            "name": identity.name,
        },
    )
    if identity.is_admin:
        for method, resource in ADMIN_READ_ROUTES:
            policy.allow_route(http_method=method, resource=resource)
    else:
        policy.deny_all_routes()
    logger.info(
        "Token verified", extra={"org_id": identity.org_id, "user_id": identity.user_id, "allowed": identity.is_admin}
    )
    return policy.asdict()


def _text(value: object) -> str:
    """A field API Gateway always sends as a string; anything else is a malformed event."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


loading.done()
