"""The immutability layers and the record path's wiring, read from template.yaml itself,
and the record role's permissions enforced by moto's IAM."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from devtools.template import TABLE_ENV_VARS, create_tables, load_template, resource

TEMPLATE = load_template()
EVENTS = resource(TEMPLATE, "EventsTable")
RECORD = resource(TEMPLATE, "RecordEventFunction")

# DESIGN.md, "The log cannot be edited or cleared", layer 3.
DENIED_ACTIONS = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:DeleteTable",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"]["Policies"]:
        assert isinstance(policy, dict) and "Statement" in policy, f"only inline statements allowed: {policy}"
        found += policy["Statement"]
    return found


def test_events_table_is_retained_when_the_stack_or_resource_goes() -> None:
    assert EVENTS["DeletionPolicy"] == "Retain"
    assert EVENTS["UpdateReplacePolicy"] == "Retain"


def test_events_table_has_deletion_protection_pitr_and_encryption() -> None:
    properties = EVENTS["Properties"]
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"


def test_events_table_ttl_is_on_the_server_set_attribute() -> None:
    assert EVENTS["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_events_table_keys_give_newest_first_per_organisation() -> None:
    properties = EVENTS["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {gsi["IndexName"]: gsi for gsi in properties["GlobalSecondaryIndexes"]}
    # One index per single filter; type + actor reads the actor's index and filters (each
    # index costs a write unit per event: the write-cost goal allows two).
    assert set(indexes) == {"by_event_type", "by_actor"}
    for gsi in indexes.values():
        assert gsi["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}, "GSIs keep time order"
        assert gsi["Projection"] == {"ProjectionType": "ALL"}, "one read per item returned"


def test_resource_policy_denies_item_changes_to_every_principal() -> None:
    table_name = EVENTS["Properties"]["TableName"]["Fn::Sub"]
    (deny,) = [
        s for s in EVENTS["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]

    assert deny["Principal"] == "*"
    assert "Condition" not in deny
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"} <= set(
        deny["Action"]
    )
    assert [r["Fn::Sub"] for r in as_list(deny["Resource"])] == [
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + table_name
    ]


def test_record_role_carries_the_explicit_deny_list_on_the_events_table() -> None:
    denies = [s for s in statements(RECORD) if s["Effect"] == "Deny"]

    assert any(
        set(as_list(s["Action"])) >= DENIED_ACTIONS and {"Fn::GetAtt": ["EventsTable", "Arn"]} in as_list(s["Resource"])
        for s in denies
    )


def test_record_role_allows_only_what_writing_needs() -> None:
    allowed = {
        (action, resource_ref["Fn::GetAtt"][0])
        for s in statements(RECORD)
        if s["Effect"] == "Allow"
        for action in as_list(s["Action"])
        for resource_ref in as_list(s["Resource"])
    }

    assert allowed == {("dynamodb:PutItem", "EventsTable")}


def test_record_routes_use_iam_auth_on_stage_v1() -> None:
    api = resource(TEMPLATE, "AuditApi")["Properties"]
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"]): event["Properties"]
        for event in RECORD["Properties"]["Events"].values()
    }

    assert api["StageName"] == "v1"
    assert set(routes) == {("POST", "/events"), ("POST", "/events/batch")}
    for route in routes.values():
        assert route["RestApiId"] == {"Ref": "AuditApi"}
        assert route.get("Auth", {}).get("Authorizer", api["Auth"]["DefaultAuthorizer"]) == "AWS_IAM"


def test_record_function_is_declared_as_the_contract_says() -> None:
    properties = RECORD["Properties"]
    globals_ = TEMPLATE["Globals"]["Function"]
    variables = {**globals_["Environment"]["Variables"], **properties["Environment"]["Variables"]}

    assert properties["CodeUri"] == "functions/record_event/"
    assert properties["Handler"] == "app.lambda_handler"
    assert globals_["Runtime"] == "python3.11"
    assert globals_["Architectures"] == ["x86_64"]
    assert {"TABLE_NAME", "RETENTION_DAYS", "AWS_ENDPOINT_URL_DYNAMODB"} <= set(variables)
    assert resource(TEMPLATE, "CommonLayer")["Properties"]["ContentUri"] == "layers/common/"


def dynamodb_as(function: dict[str, Any], user_name: str) -> Any:
    """A DynamoDB client whose credentials carry `function`'s Allow statements (3 IAM
    calls, made before enforcement starts).

    moto authorises every DynamoDB call against the resource "*" (it matches neither an
    Allow nor a Deny scoped to a table ARN), so the Allow statements keep their actions
    with Resource "*"; their table scoping and the Deny list are asserted on the template.
    """
    allow_only = [{**s, "Resource": "*"} for s in statements(function) if s["Effect"] == "Allow"]
    iam = boto3.client("iam")
    iam.create_user(UserName=user_name)
    iam.put_user_policy(
        UserName=user_name,
        PolicyName=user_name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": allow_only}),
    )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return boto3.client("dynamodb", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


@mock_aws
@set_initial_no_auth_action_count(7)
def test_record_role_permissions_enforced_by_iam() -> None:
    # The first 7 calls (4 to create the table, 3 for the IAM user and its key) run
    # unauthenticated; every call after them is checked against the user's policy.
    admin = boto3.client("dynamodb")
    names = {"EventsTable": "events"}
    create_tables(admin, names)
    as_record_role = dynamodb_as(RECORD, "record-role")
    item = {"pk": {"S": "org#o"}, "sk": {"S": "2026-11-25T00:00:00.000Z#01X"}}

    as_record_role.put_item(TableName="events", Item=item, ConditionExpression="attribute_not_exists(pk)")

    refused: dict[str, Callable[[], object]] = {
        "UpdateItem": lambda: as_record_role.update_item(
            TableName="events", Key=item, UpdateExpression="SET x = :x", ExpressionAttributeValues={":x": {"S": "1"}}
        ),
        "DeleteItem": lambda: as_record_role.delete_item(TableName="events", Key=item),
        "GetItem": lambda: as_record_role.get_item(TableName="events", Key=item),
        "Scan": lambda: as_record_role.scan(TableName="events"),
        "DeleteTable": lambda: as_record_role.delete_table(TableName="events"),
    }
    for action, call in refused.items():
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert f"not authorized to perform: dynamodb:{action}" in str(denied.value)


def test_table_env_vars_match_the_function_environment() -> None:
    """Every function naming a table names it by the variable the tests and local runs set."""
    functions = [r for r in TEMPLATE["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    named = 0
    for function in functions:
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for logical_id, var in TABLE_ENV_VARS.items():
            if var in variables:
                assert variables[var] == {"Ref": logical_id}
                named += 1
    assert named >= 15  # record, query (2), seal (2), read_ledger (3), index_events, exports (2), worker (4)


QUERY = resource(TEMPLATE, "QueryLogFunction")
AUTHORIZER = resource(TEMPLATE, "AuthorizerFunction")


def test_query_role_may_only_query_the_table_and_its_indexes() -> None:
    """The log: Query only. What is derived from it (actors, types, target copies and the
    signals of a page's logins): Query and BatchGetItem, nothing that writes."""
    allowed = [s for s in statements(QUERY) if s["Effect"] == "Allow"]
    on_events = [s for s in allowed if any("EventsTable" in str(r) for r in as_list(s["Resource"]))]
    on_derived = [s for s in allowed if s not in on_events]

    assert {action for s in on_events for action in as_list(s["Action"])} == {"dynamodb:Query"}
    resources = [r for s in on_events for r in as_list(s["Resource"])]
    assert resources == [{"Fn::GetAtt": ["EventsTable", "Arn"]}, {"Fn::Sub": "${EventsTable.Arn}/index/*"}]
    assert {action for s in on_derived for action in as_list(s["Action"])} == {
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
    assert [r for s in on_derived for r in as_list(s["Resource"])] == [
        {"Fn::GetAtt": ["InvestigationTable", "Arn"]},
        {"Fn::Sub": "${InvestigationTable.Arn}/index/*"},
    ]


def test_query_role_carries_the_explicit_deny_list_on_the_events_table() -> None:
    denies = [s for s in statements(QUERY) if s["Effect"] == "Deny"]

    assert any(
        set(as_list(s["Action"])) >= DENIED_ACTIONS and {"Fn::GetAtt": ["EventsTable", "Arn"]} in as_list(s["Resource"])
        for s in denies
    )


def test_read_routes_are_behind_the_lambda_token_authorizer() -> None:
    api_auth = resource(TEMPLATE, "AuditApi")["Properties"]["Auth"]
    routes = list(QUERY["Properties"]["Events"].values())

    assert sorted((route["Properties"]["Method"], route["Properties"]["Path"]) for route in routes) == [
        ("GET", "/actors"),
        ("GET", "/event-types"),
        ("GET", "/events"),
    ]
    for route in routes:
        authorizer = api_auth["Authorizers"][route["Properties"]["Auth"]["Authorizer"]]
        # The function itself, or with SnapStart on its alias (only published versions are snapshotted).
        function, alias = {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}, {"Ref": "AuthorizerFunction.Alias"}
        assert authorizer["FunctionArn"] == {"Fn::If": ["SnapStartOn", alias, function]}
        assert authorizer.get("FunctionPayloadType", "TOKEN") == "TOKEN"
        assert authorizer["Identity"]["Header"] == "Authorization"
        assert 0 < authorizer["Identity"]["ReauthorizeEvery"] <= 3600


def test_authorizer_has_no_aws_permissions_beyond_logging() -> None:
    assert "Policies" not in AUTHORIZER["Properties"]
    assert set(AUTHORIZER["Properties"]["Environment"]["Variables"]) == {
        "JWKS_URL",
        "JWKS_JSON",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
    }


def test_every_contract_variable_is_declared_with_a_default() -> None:
    parameters = TEMPLATE["Parameters"]
    global_vars = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    declared = {
        name: value
        for function in (RECORD, QUERY, AUTHORIZER)
        for name, value in {**global_vars, **function["Properties"]["Environment"]["Variables"]}.items()
    }

    for name in ("TABLE_NAME", "CURSOR_SECRET", "JWKS_URL", "JWKS_JSON", "JWT_ISSUER", "JWT_AUDIENCE"):
        assert name in declared, name
        reference = declared[name]
        if isinstance(reference, dict) and "Ref" in reference and reference["Ref"] in parameters:
            assert "Default" in parameters[reference["Ref"]], name
    assert declared["AWS_ENDPOINT_URL_DYNAMODB"] == ""
    assert parameters["RetentionDays"]["Default"] == 0


@mock_aws
@set_initial_no_auth_action_count(8)
def test_query_role_permissions_enforced_by_iam() -> None:
    # Unauthenticated: 4 calls to create the table, 1 put, 3 for the IAM user and key.
    admin = boto3.client("dynamodb")
    create_tables(admin, {"EventsTable": "events"})
    item = {"pk": {"S": "org#o"}, "sk": {"S": "2026-11-25T00:00:00.000Z#01X"}}
    admin.put_item(TableName="events", Item=item)
    as_query_role = dynamodb_as(QUERY, "query-role")

    found = as_query_role.query(
        TableName="events", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "org#o"}}
    )
    assert found["Count"] == 1

    refused: dict[str, Callable[[], object]] = {
        "PutItem": lambda: as_query_role.put_item(TableName="events", Item=item),
        "UpdateItem": lambda: as_query_role.update_item(
            TableName="events", Key=item, UpdateExpression="SET x = :x", ExpressionAttributeValues={":x": {"S": "1"}}
        ),
        "DeleteItem": lambda: as_query_role.delete_item(TableName="events", Key=item),
        "Scan": lambda: as_query_role.scan(TableName="events"),
    }
    for action, call in refused.items():
        with pytest.raises(ClientError) as denied:
            call()
        assert f"not authorized to perform: dynamodb:{action}" in str(denied.value)


EXPORTS_FUNCTION = resource(TEMPLATE, "ExportsFunction")
EXPORT_WORKER = resource(TEMPLATE, "ExportWorkerFunction")


def test_the_exports_bucket_is_private_kms_encrypted_tls_only_and_expires_exports() -> None:
    bucket = resource(TEMPLATE, "ExportsBucket")["Properties"]
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ExportsKey", "Arn"]},
    }
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "exports/" and rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    assert TEMPLATE["Parameters"]["ExportRetentionDays"]["Default"] == 7
    (tls,) = resource(TEMPLATE, "ExportsBucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert resource(TEMPLATE, "ExportsKey")["Properties"]["EnableKeyRotation"] is True


def test_the_presigning_role_may_only_read_export_objects() -> None:
    allowed = [s for s in statements(EXPORTS_FUNCTION) if s["Effect"] == "Allow"]
    s3 = [s for s in allowed if any(a.startswith("s3:") for a in as_list(s["Action"]))]

    assert [(as_list(s["Action"]), s["Resource"]) for s in s3] == [
        (["s3:GetObject"], {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"})
    ]
    kms = [s for s in allowed if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert [(as_list(s["Action"]), s["Resource"]) for s in kms] == [
        (["kms:Decrypt"], {"Fn::GetAtt": ["ExportsKey", "Arn"]})
    ]
    on_events = [s for s in allowed if {"Fn::GetAtt": ["EventsTable", "Arn"]} in as_list(s["Resource"])]
    assert [as_list(s["Action"]) for s in on_events] == [["dynamodb:PutItem"]]  # audit_log.exported, a new item
    denies = [s for s in statements(EXPORTS_FUNCTION) if s["Effect"] == "Deny"]
    assert any(set(as_list(s["Action"])) >= DENIED_ACTIONS for s in denies)


def test_the_export_worker_reads_the_log_and_ledger_and_writes_only_export_files() -> None:
    allowed = [s for s in statements(EXPORT_WORKER) if s["Effect"] == "Allow"]
    by_resource: dict[str, set[str]] = {}
    for statement in allowed:
        for target in as_list(statement["Resource"]):
            by_resource.setdefault(json.dumps(target, sort_keys=True), set()).update(as_list(statement["Action"]))

    assert by_resource[json.dumps({"Fn::GetAtt": ["EventsTable", "Arn"]})] == {"dynamodb:Query"}
    assert by_resource[json.dumps({"Fn::GetAtt": ["LedgerTable", "Arn"]})] == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
    assert all(not action.startswith("s3:Delete") for actions in by_resource.values() for action in actions)
    s3_targets = [target for target, actions in by_resource.items() if any(a.startswith("s3:") for a in actions)]
    assert s3_targets == [json.dumps({"Fn::Sub": "${ExportsBucket.Arn}/exports/*"})]
    denies = [s for s in statements(EXPORT_WORKER) if s["Effect"] == "Deny"]
    assert any(
        set(as_list(s["Action"])) >= DENIED_ACTIONS | {"dynamodb:PutItem"}
        and {"Fn::GetAtt": ["LedgerTable", "Arn"]} in as_list(s["Resource"])
        and {"Fn::GetAtt": ["EventsTable", "Arn"]} in as_list(s["Resource"])
        for s in denies
    )
    (source,) = EXPORT_WORKER["Properties"]["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resource(TEMPLATE, "ExportQueue")["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= EXPORT_WORKER["Properties"]["Timeout"]


def test_the_export_routes_are_behind_the_token_authorizer() -> None:
    routes = sorted(
        (source["Properties"]["Method"], source["Properties"]["Path"], source["Properties"]["Auth"]["Authorizer"])
        for source in EXPORTS_FUNCTION["Properties"]["Events"].values()
    )

    assert routes == [
        ("GET", "/exports", "AdminAuthorizer"),
        ("GET", "/exports/{export_id}", "AdminAuthorizer"),
        ("POST", "/exports", "AdminAuthorizer"),
    ]
    variables = EXPORTS_FUNCTION["Properties"]["Environment"]["Variables"]
    assert variables["EXPORT_RETENTION_DAYS"] == {"Ref": "ExportRetentionDays"}


STREAMS_FUNCTION = resource(TEMPLATE, "StreamsFunction")
STREAM_DISPATCH = resource(TEMPLATE, "StreamDispatchFunction")
STREAM_DELIVERY = resource(TEMPLATE, "StreamDeliveryFunction")


def allowed_by_resource(function: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in statements(function):
        if statement["Effect"] == "Allow":
            for target in as_list(statement["Resource"]):
                found.setdefault(json.dumps(target, sort_keys=True), set()).update(as_list(statement["Action"]))
    return found


def arn(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})


def test_every_stream_role_carries_the_deny_list_on_the_events_and_the_ledger() -> None:
    for function in (STREAMS_FUNCTION, STREAM_DISPATCH, STREAM_DELIVERY):
        allowed = allowed_by_resource(function)
        assert allowed.get(arn("EventsTable"), set()) <= {"dynamodb:PutItem", "dynamodb:BatchGetItem"}
        assert allowed.get(arn("LedgerTable"), set()) <= {"dynamodb:Query"}
    for function in (STREAMS_FUNCTION, STREAM_DELIVERY):
        denies = [s for s in statements(function) if s["Effect"] == "Deny"]
        assert any(
            set(as_list(s["Action"])) >= DENIED_ACTIONS
            and {"Fn::GetAtt": ["LedgerTable", "Arn"]} in as_list(s["Resource"])
            and {"Fn::GetAtt": ["EventsTable", "Arn"]} in as_list(s["Resource"])
            for s in denies
        )


def test_stream_secrets_have_their_own_key_that_only_delivery_and_the_routes_decrypt() -> None:
    key = arn("StreamsKey")
    assert allowed_by_resource(STREAMS_FUNCTION)[key] == {"kms:Encrypt", "kms:Decrypt"}
    assert allowed_by_resource(STREAM_DELIVERY)[key] == {"kms:Decrypt"}
    assert key not in allowed_by_resource(STREAM_DISPATCH)
    assert resource(TEMPLATE, "StreamsKey")["Properties"]["EnableKeyRotation"] is True


def test_private_destinations_are_refused_unless_a_local_run_allows_them() -> None:
    for function in (STREAMS_FUNCTION, STREAM_DELIVERY):
        assert function["Properties"]["Environment"]["Variables"]["ALLOW_PRIVATE_DESTINATIONS"] == "false"


def test_streams_follow_the_ledger_tables_own_stream_not_the_events_table() -> None:
    """The events table's stream has its two readers (sealer, indexer); the dispatcher
    reads the ledger table's, filtered to new leaf segments."""
    ledger = resource(TEMPLATE, "LedgerTable")["Properties"]
    assert ledger["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    readers = [
        source["Properties"]["Stream"]
        for function in TEMPLATE["Resources"].values()
        if function["Type"] == "AWS::Serverless::Function"
        for source in function["Properties"].get("Events", {}).values()
        if source["Type"] == "DynamoDB"
    ]
    assert readers.count({"Fn::GetAtt": ["EventsTable", "StreamArn"]}) == 2
    (source,) = STREAM_DISPATCH["Properties"]["Events"].values()
    properties = source["Properties"]
    assert properties["Stream"] == {"Fn::GetAtt": ["LedgerTable", "StreamArn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (pattern,) = properties["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"])["dynamodb"]["Keys"]["pk"]["S"] == [{"suffix": "#leaves"}]
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamDispatchDeadLetterQueue", "Arn"]
    }


def test_delivery_is_one_stream_per_invocation_with_a_dead_letter_queue() -> None:
    (source,) = STREAM_DELIVERY["Properties"]["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resource(TEMPLATE, "StreamDeliveryQueue")["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["StreamDeliveryDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= STREAM_DELIVERY["Properties"]["Timeout"]
    allowed = allowed_by_resource(STREAM_DELIVERY)
    assert allowed[arn("StreamsTable")] == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert allowed[arn("StreamDeliveryQueue")] == {"sqs:SendMessage"}
    (assume,) = [s for s in statements(STREAM_DELIVERY) if "sts:AssumeRole" in as_list(s["Action"])]
    assert assume["Condition"] == {"StringLike": {"sts:ExternalId": "*"}}  # never a role without an ExternalId


def test_the_stream_routes_are_behind_the_token_authorizer() -> None:
    routes = sorted(
        (source["Properties"]["Method"], source["Properties"]["Path"], source["Properties"]["Auth"]["Authorizer"])
        for source in STREAMS_FUNCTION["Properties"]["Events"].values()
    )
    assert routes == [
        ("DELETE", "/streams/{stream_id}", "AdminAuthorizer"),
        ("GET", "/streams", "AdminAuthorizer"),
        ("GET", "/streams/{stream_id}", "AdminAuthorizer"),
        ("POST", "/streams", "AdminAuthorizer"),
        ("POST", "/streams/{stream_id}/resume", "AdminAuthorizer"),
        ("POST", "/streams/{stream_id}/test", "AdminAuthorizer"),
    ]


def test_snapstart_is_off_by_default_and_refused_on_this_runtime() -> None:
    """SnapStart is a deployment choice (the SnapStart parameter) that needs Python 3.12+:
    off by default, and on python3.11 the stack's own rule refuses it before anything is
    created. Every function publishes versions behind an alias, which SnapStart needs."""
    parameter = TEMPLATE["Parameters"]["SnapStart"]
    globals_ = TEMPLATE["Globals"]["Function"]

    assert parameter["Default"] == "None"
    assert set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    assert globals_["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert globals_["AutoPublishAlias"] == "live"
    assert TEMPLATE["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "PublishedVersions"]}
    assert globals_["Runtime"] == "python3.11"  # when it moves to 3.12+, the rule below goes
    rule = TEMPLATE["Rules"]["SnapStartNeedsPython312"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "PublishedVersions"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "None"]}
