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
SID_DENY_KMS_WITHOUT_KEY = "DenyKmsWithoutKeyId"
HEADER_ALGORITHM, HEADER_KMS_KEY, HEADER_CUSTOMER_ALGORITHM = names.HEADER_ALGORITHM, names.HEADER_KMS_KEY, names.HEADER_CUSTOMER_ALGORITHM
SID_ALLOW_LOG_DELIVERY = "AllowS3ServerAccessLogDelivery"
SID_DENY_OUTSIDE_IDENTITIES = "DenyOutsideIdentityPerimeter"
SID_DENY_OUTSIDE_NETWORK = "DenyOutsideNetworkPerimeter"


@dataclass(frozen=True)
class Perimeter:
    """Who may reach a bucket at all, whatever IAM elsewhere grants (AWS data-perimeter guidance).

    account_ids: principals of these accounts only (the stack's own, plus trustedAccountIds);
    organization_id: or principals of this AWS Organization; vpc_endpoint_ids: requests only
    through these endpoints (of the bucket's own region), except exempt_principal_arns (the
    deployers, and the replication role: S3 replicates as that role, from no VPC endpoint) and AWS
    service principals (log delivery)."""

    account_ids: tuple[str, ...] = ()
    organization_id: str = ""
    vpc_endpoint_ids: tuple[str, ...] = ()
    exempt_principal_arns: tuple[str, ...] = ()
    replication_role_arn: str = ""  # exact: the role this stack created


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
    service principals (log delivery), which aws:PrincipalIsAWSService exempts. Replication is no
    such service call: S3 replicates as the replication role, a principal of this account, so the
    identity perimeter admits it and the network perimeter names it among the exempt principals."""
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
                iam.ArnNotLike(
                    "aws:PrincipalArn",
                    exempt_patterns(perimeter.exempt_principal_arns)
                    + ([perimeter.replication_role_arn] if perimeter.replication_role_arn else []),
                ),
                iam.BoolIfExists({"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"}),
            )
        )
    return statements


def exempt_patterns(arns: tuple[str, ...]) -> list[str]:
    """ArnLike patterns for exempt principals: each ARN as given, and for a role or user named
    without a path the same name under any IAM path (`role/deployer` also matches
    `role/ci/deployer`, the form aws:PrincipalArn takes for a role with a path)."""
    patterns: list[str] = []
    for arn in arns:
        patterns.append(arn)
        head, _, resource = arn.partition(":iam::")
        account, _, name = resource.partition(":")
        kind, _, rest = name.partition("/")
        if head and kind in ("role", "user") and rest and "/" not in rest and "*" not in rest:
            patterns.append(f"{head}:iam::{account}:{kind}/*/{rest}")
    return list(dict.fromkeys(patterns))


def _deny_upload(sid: str, objects: str, *conditions: iam.ConditionElement) -> iam.Statement:
    return iam.Statement(
        Sid=sid,
        Effect=iam.Deny,
        Principal=iam.Principal("*"),
        Action=[s3.PutObject],
        Resource=[objects],
        Condition=iam.Condition(list(conditions) if len(conditions) > 1 else conditions[0]),
    )


def _deny_wrong_header(sid: str, objects: str, key: str, operator: type[iam.ConditionElement], allowed: str) -> iam.Statement:
    """Deny an upload that SENDS `key` with another value. `Null: false` limits the Deny to
    requests carrying the header: without it, an upload relying on the bucket's default encryption
    (no header, as every Kubeflow writer sends) would be denied too, because a negated operator,
    and any ...IfExists operator, is true when the key is absent (shared/reference/iam-effects.md)."""
    return _deny_upload(sid, objects, operator(key, allowed), iam.Null(key, "false"))


def artifact_bucket_policy(bucket_arn: str, kms_key_arn: str | None, perimeter: Perimeter | None = None) -> str:
    """TLS only (1.2+), the perimeter, and an upload may not choose another algorithm, key or SSE-C.

    An upload that sends no encryption header gets the bucket's default encryption (every Kubeflow
    writer relies on it): the header Denies refuse only a header that is present and wrong. With
    SSE-KMS, `aws:kms` without a key id is refused too: S3 would use the AWS-managed aws/s3 key.
    Also the replica's policy (with the replica key)."""
    objects = f"{bucket_arn}/*"
    algorithm = "aws:kms" if kms_key_arn else "AES256"
    statements = _tls_statements(bucket_arn) + _perimeter_statements(bucket_arn, perimeter)
    statements += [
        _deny_wrong_header(SID_DENY_WRONG_ALGORITHM, objects, HEADER_ALGORITHM, iam.StringNotEquals, algorithm),
        _deny_upload(SID_DENY_SSE_C, objects, iam.Null(HEADER_CUSTOMER_ALGORITHM, "false")),
    ]
    if kms_key_arn:
        statements += [
            _deny_wrong_header(SID_DENY_WRONG_KEY, objects, HEADER_KMS_KEY, iam.StringNotEquals, kms_key_arn),
            _deny_upload(
                SID_DENY_KMS_WITHOUT_KEY, objects, iam.StringEquals(HEADER_ALGORITHM, "aws:kms"), iam.Null(HEADER_KMS_KEY, "true")
            ),
        ]
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
