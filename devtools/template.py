"""Read `template.yaml`, the single source of truth for infrastructure, and build local
DynamoDB tables, the checkpoint signing key, bucket and queue (moto, moto server) from
it, so tests and local runs cannot drift from what is deployed.
"""

from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_kms import KMSClient
from mypy_boto3_s3 import S3Client
from mypy_boto3_sqs import SQSClient

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"

# Logical id of each table in the template → the environment variable naming it.
TABLE_ENV_VARS = {
    "EventsTable": "TABLE_NAME",
    "LedgerTable": "LEDGER_TABLE_NAME",
    "InvestigationTable": "INVESTIGATION_TABLE_NAME",
    "ExportsTable": "EXPORTS_TABLE_NAME",
    "StreamsTable": "STREAMS_TABLE_NAME",
}


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data; intrinsic functions stay as `{"Fn::GetAtt": [...]}`."""
    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id]
    return found


def create_table_request(properties: dict[str, Any], table_name: str) -> dict[str, Any]:
    """CreateTable arguments equivalent to an AWS::DynamoDB::Table's properties."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if "GlobalSecondaryIndexes" in properties:
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": gsi["IndexName"], "KeySchema": gsi["KeySchema"], "Projection": gsi["Projection"]}
            for gsi in properties["GlobalSecondaryIndexes"]
        ]
    sse = properties.get("SSESpecification")
    if sse:
        request["SSESpecification"] = {
            "Enabled": sse["SSEEnabled"],
            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
        }
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if "DeletionProtectionEnabled" in properties:
        request["DeletionProtectionEnabled"] = properties["DeletionProtectionEnabled"]
    return request


def create_tables(client: DynamoDBClient, table_names: dict[str, str], template: dict[str, Any] | None = None) -> None:
    """Create each table of `table_names` (logical id → physical name) as the template
    defines it, with its TTL and point-in-time recovery settings."""
    template = template or load_template()
    for logical_id, table_name in table_names.items():
        properties = resource(template, logical_id)["Properties"]
        client.create_table(**create_table_request(properties, table_name))
        client.get_waiter("table_exists").wait(TableName=table_name)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
            )
        pitr = properties.get("PointInTimeRecoverySpecification")
        if pitr:
            client.update_continuous_backups(
                TableName=table_name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": pitr["PointInTimeRecoveryEnabled"]},
            )


def parameter_default(template: dict[str, Any], name: str) -> Any:
    return template["Parameters"][name]["Default"]


def _value(template: dict[str, Any], value: Any) -> Any:
    """A property value, a `!Ref` to a parameter resolved to its default."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return parameter_default(template, value["Ref"])
    return value


def create_signing_key(client: KMSClient, template: dict[str, Any] | None = None) -> str:
    """The checkpoint signing key as the template declares it; its ARN."""
    properties = resource(template or load_template(), "CheckpointSigningKey")["Properties"]
    key = client.create_key(
        KeySpec=properties["KeySpec"], KeyUsage=properties["KeyUsage"], Description=properties["Description"]
    )
    return key["KeyMetadata"]["Arn"]


def create_checkpoint_bucket(client: S3Client, bucket: str, template: dict[str, Any] | None = None) -> None:
    """The checkpoints' bucket with the template's Object Lock default retention."""
    template = template or load_template()
    properties = resource(template, "CheckpointBucket")["Properties"]
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=properties["ObjectLockEnabled"])
    retention = properties["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": int(_value(template, retention["Days"]))}},
        },
    )


def create_exports_bucket(client: S3Client, kms: KMSClient, bucket: str, template: dict[str, Any] | None = None) -> str:
    """The export files' bucket as the template declares it: encrypted by default with a
    key of its own (made here, as ExportsKey), public access blocked, and the lifecycle
    rule that deletes exports after ExportRetentionDays. The key's ARN."""
    template = template or load_template()
    properties = resource(template, "ExportsBucket")["Properties"]
    key_properties = resource(template, "ExportsKey")["Properties"]
    key_arn = kms.create_key(Description=key_properties["Description"])["KeyMetadata"]["Arn"]
    client.create_bucket(Bucket=bucket)
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    client.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": encryption["BucketKeyEnabled"],
                }
            ]
        },
    )
    client.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
    )
    rules: list[Any] = []
    for rule in properties["LifecycleConfiguration"]["Rules"]:
        rules.append(
            {
                "ID": rule["Id"],
                "Status": rule["Status"],
                "Filter": {"Prefix": rule["Prefix"]},
                "Expiration": {"Days": int(_value(template, rule["ExpirationInDays"]))},
                "AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"],
            }
        )
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    return key_arn


def create_streams_key(kms: KMSClient, template: dict[str, Any] | None = None) -> str:
    """The key that encrypts log-stream secrets (a symmetric key, as StreamsKey); its ARN."""
    properties = resource(template or load_template(), "StreamsKey")["Properties"]
    return kms.create_key(Description=properties["Description"])["KeyMetadata"]["Arn"]


def create_queue(client: SQSClient, logical_id: str, name: str, template: dict[str, Any] | None = None) -> str:
    """An SQS queue of the template (its visibility timeout and retention); its URL."""
    properties = resource(template or load_template(), logical_id)["Properties"]
    attributes: dict[Any, str] = {
        name: str(properties[name]) for name in ("VisibilityTimeout", "MessageRetentionPeriod") if name in properties
    }
    return client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
