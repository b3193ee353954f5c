"""Every IAM, bucket and key policy document the project creates, built with awacs.

Plain functions of plain strings (ARNs, account, region) returning JSON text, so each
statement is defined once, is unit-testable without an engine, and its Sid is what the
security rules look for.
"""

from __future__ import annotations

from collections.abc import Sequence

import awacs.aws as iam
import awacs.kms as kms
import awacs.s3 as s3
import awacs.sts as sts

from . import names

VERSION = "2012-10-17"

# Sids the rules module recognises; renaming one is a breaking change for `verify`.
SID_DENY_INSECURE_TRANSPORT = "DenyInsecureTransport"
SID_DENY_OLD_TLS = "DenyTlsBelow12"
SID_DENY_WRONG_ALGORITHM = "DenyWrongEncryptionAlgorithm"
SID_DENY_WRONG_KEY = "DenyWrongKmsKey"
SID_DENY_SSE_C = "DenySseC"
SID_ALLOW_LOG_DELIVERY = "AllowS3ServerAccessLogDelivery"
SID_KEY_ROOT = "EnableIamPolicies"
SID_KEY_ADMINS = "AllowKeyAdministration"
SID_KEY_S3_USE = "AllowUseThroughS3"

# Management only: administrators can never encrypt or decrypt with the key.
KEY_ADMIN_ACTIONS = [
    kms.Action(name)
    for name in (
        "Create*",
        "Describe*",
        "Enable*",
        "List*",
        "Put*",
        "Update*",
        "Revoke*",
        "Disable*",
        "Get*",
        "Delete*",
        "TagResource",
        "UntagResource",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "RotateKeyOnDemand",
    )
]
KEY_USE_ACTIONS = [kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey, kms.DescribeKey]

# What Kubeflow Pipelines does with its bucket: list, read, write, delete, multipart.
BUCKET_ACTIONS = [s3.ListBucket, s3.GetBucketLocation, s3.ListBucketMultipartUploads]
OBJECT_ACTIONS = [
    s3.GetObject,
    s3.GetObjectVersion,
    s3.PutObject,
    s3.DeleteObject,
    s3.AbortMultipartUpload,
    s3.ListMultipartUploadParts,
]
READ_OBJECT_ACTIONS = [s3.GetObject, s3.GetObjectVersion]
# SSE-KMS: writers need GenerateDataKey, readers and multipart uploads need Decrypt.
KMS_USE_ACTIONS = [kms.Decrypt, kms.GenerateDataKey]


def _document(statements: Sequence[iam.Statement]) -> str:
    return iam.PolicyDocument(Version=VERSION, Statement=list(statements)).to_json(indent=None)


def _tls_statements(bucket_arn: str) -> list[iam.Statement]:
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        iam.Statement(
            Sid=SID_DENY_INSECURE_TRANSPORT,
            Effect=iam.Deny,
            Principal=iam.Principal("*"),
            Action=[s3.Action("*")],
            Resource=resources,
            Condition=iam.Condition(iam.Bool("aws:SecureTransport", "false")),
        ),
        iam.Statement(
            Sid=SID_DENY_OLD_TLS,
            Effect=iam.Deny,
            Principal=iam.Principal("*"),
            Action=[s3.Action("*")],
            Resource=resources,
            Condition=iam.Condition(iam.NumericLessThan("s3:TlsVersion", "1.2")),
        ),
    ]


def _deny_upload(sid: str, objects: str, condition: iam.ConditionElement) -> iam.Statement:
    return iam.Statement(
        Sid=sid,
        Effect=iam.Deny,
        Principal=iam.Principal("*"),
        Action=[s3.PutObject],
        Resource=[objects],
        Condition=iam.Condition(condition),
    )


def artifact_bucket_policy(bucket_arn: str, kms_key_arn: str | None) -> str:
    """TLS only (1.2+), and uploads may not choose another algorithm, another key or SSE-C.

    The header denies use the ...IfExists operators: a client sending no header gets the
    bucket's default encryption, which several Kubeflow components rely on."""
    objects = f"{bucket_arn}/*"
    algorithm = "aws:kms" if kms_key_arn else "AES256"
    statements = _tls_statements(bucket_arn) + [
        _deny_upload(SID_DENY_WRONG_ALGORITHM, objects, iam.StringNotEqualsIfExists("s3:x-amz-server-side-encryption", algorithm)),
        _deny_upload(SID_DENY_SSE_C, objects, iam.Null("s3:x-amz-server-side-encryption-customer-algorithm", "false")),
    ]
    if kms_key_arn:
        statements.append(
            _deny_upload(
                SID_DENY_WRONG_KEY, objects, iam.StringNotEqualsIfExists("s3:x-amz-server-side-encryption-aws-kms-key-id", kms_key_arn)
            )
        )
    return _document(statements)


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> str:
    """TLS only, plus delivery by the S3 logging service for this account's artifact bucket only."""
    delivery = iam.Statement(
        Sid=SID_ALLOW_LOG_DELIVERY,
        Effect=iam.Allow,
        Principal=iam.Principal("Service", "logging.s3.amazonaws.com"),
        Action=[s3.PutObject],
        Resource=[f"{log_bucket_arn}/{names.ACCESS_LOG_PREFIX}*"],
        Condition=iam.Condition(
            [
                iam.StringEquals("aws:SourceAccount", account_id),
                iam.ArnLike("aws:SourceArn", source_bucket_arn),
            ]
        ),
    )
    return _document(_tls_statements(log_bucket_arn) + [delivery])


def key_policy(account_id: str, partition: str, region: str, admin_arns: Sequence[str]) -> str:
    """Explicit key policy: root kept (the key stays manageable), admins manage but never use,
    and use through S3 in this region by this account's principals only."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements = [
        iam.Statement(
            Sid=SID_KEY_ROOT,
            Effect=iam.Allow,
            Principal=iam.AWSPrincipal(root),
            Action=[kms.Action("*")],
            Resource=["*"],
        )
    ]
    if admin_arns:
        statements.append(
            iam.Statement(
                Sid=SID_KEY_ADMINS,
                Effect=iam.Allow,
                Principal=iam.AWSPrincipal(list(admin_arns)),
                Action=KEY_ADMIN_ACTIONS,
                Resource=["*"],
            )
        )
    statements.append(
        iam.Statement(
            Sid=SID_KEY_S3_USE,
            Effect=iam.Allow,
            Principal=iam.AWSPrincipal(root),
            Action=KEY_USE_ACTIONS,
            Resource=["*"],
            # One StringEquals holding both keys: two StringEquals conditions would overwrite each other.
            Condition=iam.Condition(
                iam.StringEquals({"kms:ViaService": names.s3_service_principal_host(region), "kms:CallerAccount": account_id})
            ),
        )
    )
    return _document(statements)


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Only this ServiceAccount's projected token, minted for STS, can assume the role."""
    return _document(
        [
            iam.Statement(
                Effect=iam.Allow,
                Principal=iam.Principal("Federated", oidc_provider_arn),
                Action=[sts.AssumeRoleWithWebIdentity],
                Condition=iam.Condition(
                    iam.StringEquals(
                        {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": names.IRSA_AUDIENCE,
                        }
                    )
                ),
            )
        ]
    )


def artifact_access_policy(bucket_arn: str, kms_key_arn: str | None, region: str, prefix: str = "", read_only: bool = False) -> str:
    """Least privilege for a Kubeflow identity: this bucket, its objects and (SSE-KMS) its key via S3.

    `prefix` ('private/<ns>/'): listing only under it (an `s3:prefix` condition) and objects only
    under it. `read_only` (the UI): list and read, and with SSE-KMS only Decrypt."""
    if prefix:
        statements = [
            iam.Statement(Sid="ArtifactBucketLocation", Effect=iam.Allow, Action=[s3.GetBucketLocation], Resource=[bucket_arn]),
            iam.Statement(
                Sid="ArtifactListOwnPrefix",
                Effect=iam.Allow,
                Action=[s3.ListBucket],
                Resource=[bucket_arn],
                Condition=iam.Condition(iam.StringLike("s3:prefix", [prefix, f"{prefix}*"])),
            ),
        ]
    else:
        bucket_actions = [s3.ListBucket, s3.GetBucketLocation] if read_only else BUCKET_ACTIONS
        statements = [iam.Statement(Sid="ArtifactBucket", Effect=iam.Allow, Action=bucket_actions, Resource=[bucket_arn])]
    object_actions = READ_OBJECT_ACTIONS if read_only else OBJECT_ACTIONS
    statements.append(iam.Statement(Sid="ArtifactObjects", Effect=iam.Allow, Action=object_actions, Resource=[f"{bucket_arn}/{prefix}*"]))
    if kms_key_arn:
        statements.append(
            iam.Statement(
                Sid="ArtifactKeyThroughS3",
                Effect=iam.Allow,
                Action=[kms.Decrypt] if read_only else KMS_USE_ACTIONS,
                Resource=[kms_key_arn],
                Condition=iam.Condition(iam.StringEquals("kms:ViaService", names.s3_service_principal_host(region))),
            )
        )
    return _document(statements)
