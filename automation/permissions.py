"""`permissions`: the least-privilege IAM policy each role needs for one stack, and the cluster RBAC.

Three roles: `deploy` (pulumi up/destroy through the driver), `plan` (preview and refresh: read
only), `verify` (the live checks). Actions come from two tables kept next to the code they cover:
DEPLOY_ACTIONS per resource type the program registers (what the AWS provider calls to create,
read, update and delete it; a test fails when the program registers a type the table lacks), and
VERIFY_CALLS per boto3 call `verify` makes (a test reads those calls out of the code). Resources
are scoped to the stack's names where AWS allows it; CreateKey, ListAliases and GetCallerIdentity
take no resource."""

from __future__ import annotations

import json
from typing import Any

from components import names
from components.settings import Settings

from .check import run_check

# Resource type -> IAM actions its provider implementation calls (terraform-provider-aws CRUD).
DEPLOY_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": (
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:ListBucket",
        "s3:GetBucket*",
        "s3:GetAccelerateConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:PutBucketTagging",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "aws:s3/bucketLogging:BucketLogging": ("s3:PutBucketLogging", "s3:GetBucketLogging"),
    "aws:s3/bucketNotification:BucketNotification": ("s3:PutBucketNotification", "s3:GetBucketNotification"),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": ("s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration"),
    "aws:kms/key:Key": (
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:EnableKeyRotation",
        "kms:ListResourceTags",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
    ),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:ListAliases"),
    "aws:iam/role:Role": (
        "iam:CreateRole",
        "iam:GetRole",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:PutRolePermissionsBoundary",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    "aws:iam/user:User": (
        "iam:CreateUser",
        "iam:GetUser",
        "iam:DeleteUser",
        "iam:TagUser",
        "iam:ListGroupsForUser",
        "iam:PutUserPermissionsBoundary",
    ),
    "aws:iam/userPolicy:UserPolicy": ("iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy"),
    "aws:iam/accessKey:AccessKey": ("iam:CreateAccessKey", "iam:ListAccessKeys", "iam:DeleteAccessKey"),
    "aws:secretsmanager/secret:Secret": (
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:TagResource",
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"),
}
# Not AWS API resources: components, the Kubernetes objects (RBAC below), explicit providers.
NOT_AWS = ("kubeflow:", "kubernetes:", "pulumi:", "random:")  # no AWS call (random: computed by its provider, offline)
READ_PREFIXES = ("Get", "List", "Describe")

# Every boto3 call verify (live.py, verify.py, preflight.py) makes -> the IAM action it needs.
VERIFY_CALLS: dict[str, str] = {
    "get_public_access_block": "s3:GetBucketPublicAccessBlock",
    "get_bucket_ownership_controls": "s3:GetBucketOwnershipControls",
    "get_bucket_encryption": "s3:GetEncryptionConfiguration",
    "get_bucket_policy": "s3:GetBucketPolicy",
    "get_bucket_versioning": "s3:GetBucketVersioning",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    "get_bucket_replication": "s3:GetReplicationConfiguration",
    "get_bucket_logging": "s3:GetBucketLogging",
    "get_bucket_notification_configuration": "s3:GetBucketNotification",
    "get_bucket_location": "s3:GetBucketLocation",
    "list_objects_v2": "s3:ListBucket",
    "head_object": "s3:GetObject",
    "describe_key": "kms:DescribeKey",
    "get_key_rotation_status": "kms:GetKeyRotationStatus",
    "get_key_policy": "kms:GetKeyPolicy",
    "get_caller_identity": "sts:GetCallerIdentity",
    "assume_role": "sts:AssumeRole",
}
# The driver's own calls on live buckets (objects.py): counting before a replace, --force-empty.
DRIVER_CALLS: dict[str, str] = {"list_object_versions": "s3:ListBucketVersions", "delete_objects": "s3:DeleteObjectVersion"}
UNSCOPED = ("kms:CreateKey", "kms:ListAliases", "sts:GetCallerIdentity")


def _scopes(settings: Settings, account: str) -> dict[str, list[str]]:
    """Resource ARNs per service, as narrow as the stack's names allow."""
    c, p, region = settings.config, settings.partition, settings.region
    buckets = [c.adopt_bucket or c.bucket_name or f"{names.bucket_prefix(settings.stack)}*", f"{names.log_bucket_prefix(settings.stack)}*"]
    if c.replica_region:
        buckets.append(f"{names.replica_bucket_prefix(settings.stack)}*")
    regions = [region, *([c.replica_region] if c.replica_region else [])]
    path = c.iam_path
    return {
        "s3": [arn for bucket in buckets for arn in (f"arn:{p}:s3:::{bucket}", f"arn:{p}:s3:::{bucket}/*")],
        "kms": [
            f"arn:{p}:kms:{r}:{account}:{kind}"
            for r in regions
            for kind in ("key/*", f"{names.kms_alias(settings.stack)}*", f"{names.replica_kms_alias(settings.stack)}*")
        ],
        "iam": [f"arn:{p}:iam::{account}:role{path}kf-*", f"arn:{p}:iam::{account}:user{path}*"],
        "secretsmanager": [f"arn:{p}:secretsmanager:{region}:{account}:secret:s3-secret-*"],
        "sts": [f"arn:{p}:iam::{account}:role/*"],
    }


def _statement(sid: str, actions: set[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _document(actions: set[str], scopes: dict[str, list[str]]) -> dict[str, Any]:
    by_service: dict[str, set[str]] = {}
    unscoped = {a for a in actions if a in UNSCOPED}
    for action in actions - unscoped:
        by_service.setdefault(action.split(":")[0], set()).add(action)
    statements = [
        _statement(service.title().replace("manager", "Manager"), acts, scopes[service]) for service, acts in sorted(by_service.items())
    ]
    if unscoped:
        statements.append(_statement("NoResourceLevelPermissions", unscoped, ["*"]))
    return {"Version": "2012-10-17", "Statement": statements}


def deploy_actions(env: str) -> set[str]:
    """Every action the stack's resources need, found from the resources the program registers."""
    run = run_check(env).run
    actions = {"sts:GetCallerIdentity", *DRIVER_CALLS.values()}
    for resource in run.resources:
        if resource.type.startswith(NOT_AWS):
            continue
        actions.update(DEPLOY_ACTIONS[resource.type])  # KeyError: a new type needs its row above
    if any(r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig" for r in run.resources):
        actions.add("iam:PassRole")  # S3 is handed the replication role
    return actions


def policy_for(env: str, role: str, settings: Settings, account: str) -> dict[str, Any]:
    scopes = _scopes(settings, account)
    if role == "verify":
        actions = set(VERIFY_CALLS.values()) - ({"sts:AssumeRole"} if not settings.assume_role_arns else set())
        return _document(actions, scopes)
    actions = deploy_actions(env)
    if role == "plan":
        actions = {a for a in actions if a.split(":")[1].startswith(READ_PREFIXES)} | {"s3:ListBucket"}
    return _document(actions, scopes)


def rbac_for(settings: Settings, role: str) -> list[dict[str, Any]]:
    """Kubernetes Roles for the deploying (patch) or reading (plan, verify) identity, per namespace."""
    verbs = ["get", "list", "patch", "create"] if role == "deploy" else ["get", "list"]
    rules = [
        {"apiGroups": [""], "resources": ["secrets", "configmaps", "serviceaccounts"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": verbs},
    ]
    if role == "deploy":
        rules.append(
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["delete"], "resourceNames": [names.ARTIFACT_REPOSITORIES_CONFIGMAP]}
        )
        rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["delete"], "resourceNames": [names.UI_SIGNING_SECRET]})
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"kubeflow-artifact-store-{role}", "namespace": ns},
            "rules": rules,
        }
        for ns in settings.namespaces
    ]


def render(env: str, role: str, settings: Settings) -> dict[str, Any]:
    account = settings.account_ids[0] if settings.account_ids else "<account>"
    return {"env": env, "role": role, "iamPolicy": policy_for(env, role, settings, account), "kubernetesRbac": rbac_for(settings, role)}


def as_text(rendered: dict[str, Any]) -> str:
    import yaml

    return (
        f"# IAM policy for the {rendered['role']} role of {rendered['env']}\n"
        + json.dumps(rendered["iamPolicy"], indent=2)
        + "\n---\n# Kubernetes RBAC (bind it to the identity that runs the driver)\n"
        + yaml.safe_dump_all(rendered["kubernetesRbac"], sort_keys=False)
    )
