"""The planned AWS resources as a Terraform plan (`terraform show -json` format), so Checkov's own
checks can judge what this program would create (`checkov --env E [--plan-out FILE]`).

pulumi-aws is bridged from the Terraform AWS provider: each resource is a Terraform resource under
another name, with the same attributes in camelCase (pulumi/pulumi-aws provider/resources.go). The
plan follows Terraform's JSON output format (developer.hashicorp.com/terraform/internals/json-format):
`planned_values` holds each resource's known attributes, with nested blocks as lists of objects;
a value that points at another resource of the plan (a bucket's name, a key's ARN) is left out of
`planned_values` and given as a reference in `configuration`, as Terraform does for a value it only
knows after the apply. Checkov joins resources by those references (its CKV2 graph checks)."""

from __future__ import annotations

import json
import re
from typing import Any

from automation.offline.mock_engine import MockRun, Registration

# Pulumi type token -> Terraform resource type, for every AWS type the program registers (a test
# keeps this complete). pulumi-aws maps most as aws_<module>_<resource>; BucketReplicationConfig
# is the one rename among ours.
TERRAFORM_TYPES = {
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/user:User": "aws_iam_user",
    "aws:iam/userPolicy:UserPolicy": "aws_iam_user_policy",
    "aws:iam/accessKey:AccessKey": "aws_iam_access_key",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
}
# Blocks Pulumi names in the plural (a Terraform block that may repeat becomes a list property).
SINGULAR_BLOCKS = {"rules": "rule", "transitions": "transition", "noncurrentVersionTransitions": "noncurrent_version_transition"}
MAPS = {"tags", "tagsAll"}  # map attributes: their keys are data, never renamed
# The attributes by which other resources name one of these (state attribute, Terraform
# attribute); any other type is named by its ARN. A BucketVersioning's `bucket` is the bucket's
# name passed through, not an identity of its own.
IDENTIFIED_BY: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_s3_bucket": (("bucket", "id"), ("arn", "arn")),
    "aws_kms_key": (("arn", "arn"), ("keyId", "key_id")),
    "aws_iam_role": (("name", "id"), ("arn", "arn")),
    "aws_iam_user": (("name", "id"), ("arn", "arn")),
}


def _snake(key: str) -> str:
    return SINGULAR_BLOCKS.get(key) or re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _address(r: Registration) -> tuple[str, str]:
    return TERRAFORM_TYPES[r.type], re.sub(r"[^A-Za-z0-9_]", "_", r.name)


def _identifiers(r: Registration) -> dict[str, str]:
    """Values by which other resources name `r` -> its Terraform reference ("type.name.attribute")."""
    tf_type, tf_name = _address(r)
    found: dict[str, str] = {}
    for attribute, reference in IDENTIFIED_BY.get(tf_type, (("arn", "arn"),)):
        value = r.state.get(attribute)
        if isinstance(value, str) and value:
            found.setdefault(value, f"{tf_type}.{tf_name}.{reference}")
    return found


class _Plan:
    def __init__(self, resources: list[Registration]) -> None:
        self.resources = resources
        self.identifiers = {r.urn: _identifiers(r) for r in resources}
        self.dependencies = {r.urn: r.dependencies for r in resources}

    def targets(self, r: Registration) -> dict[str, str]:
        """What `r` may reference: the resources it depends on, directly or through others (a
        lifecycle configuration that waits for versioning still names the bucket), as a
        Terraform reference creates a dependency. A value of no dependency stays a value."""
        seen: set[str] = set()
        pending = list(r.dependencies)
        targets: dict[str, str] = {}
        while pending:
            urn = pending.pop()
            if urn in seen or urn not in self.identifiers:
                continue
            seen.add(urn)
            for value, reference in self.identifiers[urn].items():
                targets.setdefault(value, reference)
            pending += self.dependencies[urn]
        return targets

    def split(self, value: Any, targets: dict[str, str]) -> tuple[Any, Any]:
        """(planned value, configuration expression) of one attribute value, recursively."""
        if isinstance(value, str) and value in targets:
            return None, {"references": [targets[value], targets[value].rsplit(".", 1)[0]]}
        if isinstance(value, dict):
            value = [value]  # a single nested block: Terraform writes every block as a list
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            pairs = [self.block(v, targets) for v in value]
            expressions = [e for _, e in pairs]
            return [p for p, _ in pairs], expressions if any(expressions) else None
        return value, None

    def block(self, attributes: dict[str, Any], targets: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        planned: dict[str, Any] = {}
        expressions: dict[str, Any] = {}
        for key, value in attributes.items():
            name = _snake(key)
            if key in MAPS:
                planned[name] = value
                continue
            known, expression = self.split(value, targets)
            if known is not None:
                planned[name] = known
            if expression:
                expressions[name] = expression
        return planned, expressions

    def as_json(self) -> dict[str, Any]:
        planned, configured = [], []
        for r in self.resources:
            tf_type, tf_name = _address(r)
            targets = self.targets(r)
            # Secret inputs are left out, as Terraform leaves sensitive values out of its JSON plan.
            inputs = {k: v for k, v in r.inputs.items() if k not in r.secret_inputs}
            values, expressions = self.block(inputs, targets)
            address = f"{tf_type}.{tf_name}"
            planned.append({"address": address, "mode": "managed", "type": tf_type, "name": tf_name, "values": values})
            configured.append({"address": address, "mode": "managed", "type": tf_type, "name": tf_name, "expressions": expressions})
        return {
            "format_version": "1.2",
            "terraform_version": "1.9.0",
            "planned_values": {"root_module": {"resources": planned}},
            "configuration": {"root_module": {"resources": configured}},
            "resource_changes": [
                {
                    "address": p["address"],
                    "mode": "managed",
                    "type": p["type"],
                    "name": p["name"],
                    "change": {"actions": ["create"], "before": None, "after": p["values"], "after_unknown": {}},
                }
                for p in planned
            ],
        }


def terraform_plan(run: MockRun) -> dict[str, Any]:
    """The run's AWS resources as a Terraform JSON plan (providers and Kubernetes objects left out)."""
    return _Plan([r for r in run.resources if r.custom and r.type.startswith("aws:")]).as_json()


def write_terraform_plan(run: MockRun, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(terraform_plan(run), handle, indent=1)
