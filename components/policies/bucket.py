"""Bucket policies: TLS only, no foreign encryption headers, the data perimeter, log delivery."""

from __future__ import annotations

from dataclasses import dataclass

import awacs.aws as iam
import awacs.s3 as s3

from .. import names
from .common import document

# Sids the rules module recognises; renaming one is a breaking change for `verify`.
SID_DENY_INSECURE_TRANSPORT = "DenyInsecureTransport"
SID_DENY_OLD_TLS = "DenyTlsBelow12"
SID_DENY_WRONG_ALGORITHM = "DenyWrongEncryptionAlgorithm"
SID_DENY_WRONG_KEY = "DenyWrongKmsKey"
SID_DENY_SSE_C = "DenySseC"
SID_ALLOW_LOG_DELIVERY = "AllowS3ServerAccessLogDelivery"
SID_DENY_OUTSIDE_IDENTITIES = "DenyOutsideIdentityPerimeter"
SID_DENY_OUTSIDE_NETWORK = "DenyOutsideNetworkPerimeter"


@dataclass(frozen=True)
class Perimeter:
    """Who may reach a bucket at all, whatever IAM elsewhere grants (AWS data-perimeter guidance).

    account_ids: principals of these accounts only (the stack's own, plus trustedAccountIds);
    organization_id: or principals of this AWS Organization; vpc_endpoint_ids: requests only
    through these endpoints, except exempt_principal_arns (the deployers) and AWS services."""

    account_ids: tuple[str, ...] = ()
    organization_id: str = ""
    vpc_endpoint_ids: tuple[str, ...] = ()
    exempt_principal_arns: tuple[str, ...] = ()


def _deny_everything(sid: str, bucket_arn: str, *conditions: iam.ConditionElement) -> iam.Statement:
    """Deny s3:* on the bucket and its objects to every principal, when all `conditions` hold."""
    return iam.Statement(
        Sid=sid,
        Effect=iam.Deny,
        Principal=iam.Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, f"{bucket_arn}/*"],
        Condition=iam.Condition(list(conditions) if len(conditions) > 1 else conditions[0]),
    )


def _tls_statements(bucket_arn: str) -> list[iam.Statement]:
    return [
        _deny_everything(SID_DENY_INSECURE_TRANSPORT, bucket_arn, iam.Bool("aws:SecureTransport", "false")),
        _deny_everything(SID_DENY_OLD_TLS, bucket_arn, iam.NumericLessThan("s3:TlsVersion", "1.2")),
    ]


def _perimeter_statements(bucket_arn: str, perimeter: Perimeter | None) -> list[iam.Statement]:
    """Deny-only statements: a grant made by mistake elsewhere cannot open the bucket.

    The ...IfExists operators: aws:PrincipalAccount / aws:PrincipalOrgID are absent for AWS
    service principals (log delivery, replication by S3), which aws:PrincipalIsAWSService exempts."""
    if perimeter is None or not perimeter.account_ids:
        return []
    outside: dict[str, object] = {"aws:PrincipalAccount": list(perimeter.account_ids)}
    if perimeter.organization_id:  # AND: outside both the accounts and the organization
        outside["aws:PrincipalOrgID"] = perimeter.organization_id
    statements = [
        _deny_everything(
            SID_DENY_OUTSIDE_IDENTITIES,
            bucket_arn,
            iam.StringNotEqualsIfExists(outside),
            iam.BoolIfExists("aws:PrincipalIsAWSService", "false"),
        )
    ]
    if perimeter.vpc_endpoint_ids:
        statements.append(
            _deny_everything(
                SID_DENY_OUTSIDE_NETWORK,
                bucket_arn,
                iam.StringNotEqualsIfExists("aws:SourceVpce", list(perimeter.vpc_endpoint_ids)),
                iam.ArnNotLike("aws:PrincipalArn", list(perimeter.exempt_principal_arns)),
                iam.BoolIfExists({"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"}),
            )
        )
    return statements


def _deny_upload(sid: str, objects: str, condition: iam.ConditionElement) -> iam.Statement:
    return iam.Statement(
        Sid=sid,
        Effect=iam.Deny,
        Principal=iam.Principal("*"),
        Action=[s3.PutObject],
        Resource=[objects],
        Condition=iam.Condition(condition),
    )


def artifact_bucket_policy(bucket_arn: str, kms_key_arn: str | None, perimeter: Perimeter | None = None) -> str:
    """TLS only (1.2+), the perimeter, and uploads may not choose another algorithm, key or SSE-C.

    The header denies use the ...IfExists operators: a client sending no header gets the
    bucket's default encryption, which several Kubeflow components rely on. Also the replica's
    policy (with the replica key)."""
    objects = f"{bucket_arn}/*"
    algorithm = "aws:kms" if kms_key_arn else "AES256"
    statements = _tls_statements(bucket_arn) + _perimeter_statements(bucket_arn, perimeter)
    statements += [
        _deny_upload(SID_DENY_WRONG_ALGORITHM, objects, iam.StringNotEqualsIfExists("s3:x-amz-server-side-encryption", algorithm)),
        _deny_upload(SID_DENY_SSE_C, objects, iam.Null("s3:x-amz-server-side-encryption-customer-algorithm", "false")),
    ]
    if kms_key_arn:
        statements.append(
            _deny_upload(
                SID_DENY_WRONG_KEY, objects, iam.StringNotEqualsIfExists("s3:x-amz-server-side-encryption-aws-kms-key-id", kms_key_arn)
            )
        )
    return document(statements)


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str, perimeter: Perimeter | None = None) -> str:
    """TLS only, the perimeter, plus delivery by the S3 logging service for this account's artifact bucket only."""
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
    return document(_tls_statements(log_bucket_arn) + _perimeter_statements(log_bucket_arn, perimeter) + [delivery])
