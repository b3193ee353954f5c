"""Identity policies: what Kubeflow's roles and the replication role may do, and who may assume them."""

from __future__ import annotations

from collections.abc import Sequence

import awacs.aws as iam
import awacs.kms as kms
import awacs.s3 as s3
import awacs.sts as sts

from .. import names
from .common import document

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
# Replication (S3 User Guide, "Setting up permissions for live replication").
REPLICATION_SOURCE_BUCKET_ACTIONS = [s3.GetReplicationConfiguration, s3.ListBucket]
REPLICATION_SOURCE_OBJECT_ACTIONS = [s3.GetObjectVersionForReplication, s3.GetObjectVersionAcl, s3.GetObjectVersionTagging]
REPLICATION_DESTINATION_ACTIONS = [s3.ReplicateObject, s3.ReplicateDelete, s3.ReplicateTags]


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Only this ServiceAccount's projected token, minted for STS, can assume the role."""
    return document(
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


def _list_under(sid: str, bucket_arn: str, prefix: str) -> iam.Statement:
    """ListBucket only with an `s3:prefix` under `prefix`."""
    return iam.Statement(
        Sid=sid,
        Effect=iam.Allow,
        Action=[s3.ListBucket],
        Resource=[bucket_arn],
        Condition=iam.Condition(iam.StringLike("s3:prefix", [prefix, f"{prefix}*"])),
    )


def _via_s3(sid: str, actions: list[kms.Action], key_arn: str, region: str) -> iam.Statement:
    return iam.Statement(
        Sid=sid,
        Effect=iam.Allow,
        Action=actions,
        Resource=[key_arn],
        Condition=iam.Condition(iam.StringEquals("kms:ViaService", names.s3_service_principal_host(region))),
    )


def artifact_access_policy(
    bucket_arn: str,
    kms_key_arn: str | None,
    region: str,
    prefix: str = "",
    read_only: bool = False,
    previous_key_arns: Sequence[str] = (),
    legacy_prefix: str = "",
) -> str:
    """Least privilege for a Kubeflow identity: this bucket, its objects and (SSE-KMS) its key via S3.

    `prefix` ('private-artifacts/<ns>/'): listing only under it (an `s3:prefix` condition) and
    objects only under it. `legacy_prefix` ('private/<ns>/'): the profile's former prefix, list and
    read only, so artifacts written before the layout changed stay readable until migrated.
    `read_only` (the UI): list and read, and with SSE-KMS only Decrypt.
    `previous_key_arns`: keys older objects are encrypted with; Decrypt only (never GenerateDataKey),
    so history stays readable while every new object uses the current key."""
    if prefix:
        statements = [
            iam.Statement(Sid="ArtifactBucketLocation", Effect=iam.Allow, Action=[s3.GetBucketLocation], Resource=[bucket_arn]),
            _list_under("ArtifactListOwnPrefix", bucket_arn, prefix),
        ]
    else:
        bucket_actions = [s3.ListBucket, s3.GetBucketLocation] if read_only else BUCKET_ACTIONS
        statements = [iam.Statement(Sid="ArtifactBucket", Effect=iam.Allow, Action=bucket_actions, Resource=[bucket_arn])]
    object_actions = READ_OBJECT_ACTIONS if read_only else OBJECT_ACTIONS
    statements.append(iam.Statement(Sid="ArtifactObjects", Effect=iam.Allow, Action=object_actions, Resource=[f"{bucket_arn}/{prefix}*"]))
    if legacy_prefix:
        statements += [
            _list_under("LegacyListOwnPrefix", bucket_arn, legacy_prefix),
            iam.Statement(
                Sid="LegacyReadOwnPrefix", Effect=iam.Allow, Action=READ_OBJECT_ACTIONS, Resource=[f"{bucket_arn}/{legacy_prefix}*"]
            ),
        ]
    if kms_key_arn:
        statements.append(_via_s3("ArtifactKeyThroughS3", [kms.Decrypt] if read_only else KMS_USE_ACTIONS, kms_key_arn, region))
    for index, key_arn in enumerate(previous_key_arns):
        statements.append(_via_s3(f"PreviousKey{index}DecryptThroughS3", [kms.Decrypt], key_arn, region))
    return document(statements)


def replication_trust_policy(account_id: str) -> str:
    """Only S3, replicating for this account's buckets, may assume the replication role."""
    return document(
        [
            iam.Statement(
                Effect=iam.Allow,
                Principal=iam.Principal("Service", "s3.amazonaws.com"),
                Action=[sts.AssumeRole],
                Condition=iam.Condition(iam.StringEquals("aws:SourceAccount", account_id)),
            )
        ]
    )


def replication_policy(
    source_arn: str,
    destination_arn: str,
    source_region: str,
    destination_region: str,
    source_key_arn: str | None,
    destination_key_arn: str | None,
    previous_key_arns: Sequence[str] = (),
) -> str:
    """Read versions from the source, write replicas to the destination; with SSE-KMS, decrypt with
    the source key and encrypt with the replica key, each only through S3 in its own region."""
    statements = [
        iam.Statement(Sid="ReplicationSourceBucket", Effect=iam.Allow, Action=REPLICATION_SOURCE_BUCKET_ACTIONS, Resource=[source_arn]),
        iam.Statement(
            Sid="ReplicationSourceObjects", Effect=iam.Allow, Action=REPLICATION_SOURCE_OBJECT_ACTIONS, Resource=[f"{source_arn}/*"]
        ),
        iam.Statement(
            Sid="ReplicationDestination", Effect=iam.Allow, Action=REPLICATION_DESTINATION_ACTIONS, Resource=[f"{destination_arn}/*"]
        ),
    ]
    source_keys = [k for k in (source_key_arn, *previous_key_arns) if k]
    if source_keys:
        statements.append(
            iam.Statement(
                Sid="ReplicationDecryptSource",
                Effect=iam.Allow,
                Action=[kms.Decrypt],
                Resource=source_keys,
                Condition=iam.Condition(iam.StringEquals("kms:ViaService", names.s3_service_principal_host(source_region))),
            )
        )
    if destination_key_arn:
        statements.append(_via_s3("ReplicationEncryptReplica", [kms.Encrypt, kms.GenerateDataKey], destination_key_arn, destination_region))
    return document(statements)
