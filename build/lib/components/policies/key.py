"""The customer-managed key's policy: root kept, administrators manage but never use, use only through S3."""

from __future__ import annotations

from collections.abc import Sequence

import awacs.aws as iam
import awacs.kms as kms

from .. import names
from .common import document

SID_KEY_ROOT = "EnableIamPolicies"
SID_KEY_ADMINS = "AllowKeyAdministration"
SID_KEY_S3_USE = "AllowUseThroughS3"
SID_KEY_DENY_OUTSIDE_SERVICES = "DenyUseOutsideS3"
SID_KEY_DENY_ADMIN_USE = "DenyKeyAdministratorsUse"

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
# The cryptographic operations: what the Deny statements take away outside S3 and from administrators.
CRYPTO_ACTIONS = [kms.Encrypt, kms.Decrypt, kms.Action("ReEncrypt*"), kms.Action("GenerateDataKey*")]


def key_policy(account_id: str, partition: str, region: str, admin_arns: Sequence[str], via_services: Sequence[str] = ()) -> str:
    """Explicit key policy. The root statement delegates to IAM (the key stays manageable; the
    lockout check is kept), so an IAM policy saying `kms:*` could otherwise decrypt directly:
    two Deny statements make separation of duties hold whatever IAM grants. Cryptographic use is
    denied to everyone unless it comes through S3 in this region (or `via_services`, e.g. Secrets
    Manager keeping the stack's credentials), and denied outright to the key administrators."""
    root = f"arn:{partition}:iam::{account_id}:root"
    s3_host = names.s3_service_principal_host(region)
    statements = [
        iam.Statement(Sid=SID_KEY_ROOT, Effect=iam.Allow, Principal=iam.AWSPrincipal(root), Action=[kms.Action("*")], Resource=["*"])
    ]
    if admin_arns:
        statements.append(
            iam.Statement(
                Sid=SID_KEY_ADMINS, Effect=iam.Allow, Principal=iam.AWSPrincipal(list(admin_arns)), Action=KEY_ADMIN_ACTIONS, Resource=["*"]
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
            Condition=iam.Condition(iam.StringEquals({"kms:ViaService": s3_host, "kms:CallerAccount": account_id})),
        )
    )
    statements.append(
        iam.Statement(
            Sid=SID_KEY_DENY_OUTSIDE_SERVICES,
            Effect=iam.Deny,
            Principal=iam.AWSPrincipal("*"),
            Action=CRYPTO_ACTIONS,
            Resource=["*"],
            Condition=iam.Condition(iam.StringNotEquals("kms:ViaService", [s3_host, *via_services])),
        )
    )
    if admin_arns:
        statements.append(
            iam.Statement(
                Sid=SID_KEY_DENY_ADMIN_USE,
                Effect=iam.Deny,
                Principal=iam.AWSPrincipal(list(admin_arns)),
                Action=CRYPTO_ACTIONS,
                Resource=["*"],
            )
        )
    return document(statements)
