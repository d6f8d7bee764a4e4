"""A checkov check that checkov lacks for CloudFormation: the events table (every
DynamoDB table) has deletion protection, so no API call, console click or stack change
can delete the audit log. `make scan` loads it with --external-checks-dir."""

from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class DynamoDBDeletionProtection(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name="Ensure DynamoDB tables have deletion protection enabled",
            id="CKV_AUDIT_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["AWS::DynamoDB::Table"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["Properties/DeletionProtectionEnabled"]
        value = (conf.get("Properties") or {}).get("DeletionProtectionEnabled")
        # Only a literal true passes: absent, false or a condition (!If, !Ref) fails.
        if value is True or (isinstance(value, str) and value.lower() == "true"):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = DynamoDBDeletionProtection()
