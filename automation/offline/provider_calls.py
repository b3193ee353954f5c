"""What the code calls on AWS, per caller: the AWS provider per resource type the program
registers (DEPLOY_ACTIONS: terraform-provider-aws's create, read, update and delete of each
type; a test fails when the program registers a type this lacks), `verify` per boto3 call
(VERIFY_CALLS: a test reads those calls out of the code), and the driver's object operations.
`permissions` builds each role's document from these; the effect tests judge it on them."""

from __future__ import annotations

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
    ),  # no kms:ScheduleKeyDeletion: keys are retained; deleting one is a documented manual step
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
    "get_role": "iam:GetRole",
    "list_role_policies": "iam:ListRolePolicies",
    "get_role_policy": "iam:GetRolePolicy",
    "list_attached_role_policies": "iam:ListAttachedRolePolicies",
    "list_access_keys": "iam:ListAccessKeys",
    "get_policy": "iam:GetPolicy",
    "get_policy_version": "iam:GetPolicyVersion",
}
# The driver's own calls on live buckets (objects.py): counting before a replace, --force-empty.
DRIVER_CALLS: dict[str, str] = {"list_object_versions": "s3:ListBucketVersions", "delete_objects": "s3:DeleteObjectVersion"}
# Emptying a bucket (`destroy --force-empty`, never in a protected environment) deletes versions.
EMPTYING = ("s3:DeleteObject", "s3:DeleteObjectVersion")
