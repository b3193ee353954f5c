"""The request matrix's rows for what S3 does itself: replication (as the replication role, in
both regions, with both keys) and server access log delivery; and who administers a key."""

from __future__ import annotations

from collections.abc import Iterator

from components import names

from .policy_eval import Request
from .requests import OBJECT, Caller, Row, StackView, object_arn, signed_context, via_s3_context


def replication_rows(s: StackView, found: list[Caller]) -> Iterator[Row]:
    role = next((c for c in found if c.kind == "replication"), None)
    replica = s.replica
    if role is None or replica is None:
        return
    b, account = s.artifacts, s.account
    # S3 replicates as the role: a signed request of this account, from no VPC endpoint.
    plain = {k: v for k, v in signed_context(role.arn, account, s.expectations, ()).items()}
    source_reads = [
        ("s3:GetReplicationConfiguration", str(b.arn)),
        ("s3:ListBucket", str(b.arn)),
        ("s3:GetObjectVersionForReplication", object_arn(b, OBJECT)),
        ("s3:GetObjectVersionTagging", object_arn(b, OBJECT)),
    ]
    for action, resource in source_reads:
        yield Row(
            f"replication: {action} on the source", Request(role.arn, action, resource, account, plain), role.policies, b.policy, True
        )
    for action in ("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"):
        resource = object_arn(replica, OBJECT)
        yield Row(
            f"replication: {action} on the replica",
            Request(role.arn, action, resource, account, plain),
            role.policies,
            replica.policy,
            True,
        )
    source_key = str(b.kms_key_id) if b.sse_algorithm == "aws:kms" and b.kms_key_id else None
    replica_key = str(replica.kms_key_id) if replica.sse_algorithm == "aws:kms" and replica.kms_key_id else None
    if source_key:
        context = via_s3_context(role.arn, account, str(b.region))
        yield Row(
            "replication: S3 decrypts the source",
            Request(role.arn, "kms:Decrypt", source_key, account, context),
            role.policies,
            s.keys.get(source_key),
            True,
        )
    if replica_key:
        context = via_s3_context(role.arn, account, str(replica.region))
        for action in ("kms:GenerateDataKey", "kms:Encrypt"):
            yield Row(
                f"replication: S3 {action} with the replica key",
                Request(role.arn, action, replica_key, account, context),
                role.policies,
                s.keys.get(replica_key),
                True,
            )


def log_delivery_rows(s: StackView) -> Iterator[Row]:
    logs = s.logs
    if logs is None:
        return
    service = "logging.s3.amazonaws.com"
    target = f"{logs.arn}/{names.ACCESS_LOG_PREFIX}2026-12-06-00-00-00-ABCDEF"
    context = {
        "aws:SecureTransport": "true",
        "aws:PrincipalIsAWSService": "true",
        "aws:SourceAccount": s.account,
        "aws:SourceArn": str(s.artifacts.arn),
    }
    yield Row(
        "S3 delivers the artifact bucket's access logs", Request(service, "s3:PutObject", target, s.account, context), (), logs.policy, True
    )
    forged = {**context, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket"}
    yield Row(
        "S3 delivers another bucket's logs into it", Request(service, "s3:PutObject", target, s.account, forged), (), logs.policy, False
    )
