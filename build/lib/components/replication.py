"""ArtifactReplica: cross-region replication of the artifact bucket into an equally hardened bucket.

Everything in the replica region goes through an explicit AWS provider for that region, bound
to the same account(s) and assumed role as the stack's default provider (an explicit provider
reads none of the stack's `aws:` config). The replica is a HardenedBucket like the source (so the
same bucket rules judge it), with its own customer-managed key under SSE-KMS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import names, policies
from .bucket import HardenedBucket, bucket_args
from .kms import ArtifactKey, key_args
from .settings import Settings

REPLICA_COMPONENT_TYPE = "kubeflow:storage:ArtifactReplica"
REPLICATION_RULE_ID = "replicate-everything"
LOG_RETENTION_DAYS = 365  # as the source's log bucket


@dataclass(frozen=True)
class ArtifactReplicaArgs:
    source: HardenedBucket
    source_key_arn: pulumi.Output[str] | None
    account_id: pulumi.Output[str]
    # Builds the replica bucket's policy from (bucket ARN, key ARN).
    policy: Callable[[pulumi.Output[str], pulumi.Output[str] | None], pulumi.Output[str]]
    # With accessLogging: builds the replica's log bucket policy from (log bucket ARN, replica ARN).
    log_policy: Callable[[pulumi.Output[str], pulumi.Output[str]], pulumi.Output[str]] | None = None


class ArtifactReplica(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str] | None
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings, args: ArtifactReplicaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(REPLICA_COMPONENT_TYPE, name, None, opts)
        c = settings.config
        region = c.replica_region
        provider = aws.Provider(
            f"{name}-region",
            region=region,
            allowed_account_ids=list(settings.account_ids) or None,
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=arn) for arn in settings.assume_role_arns] or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_region = pulumi.ResourceOptions(parent=self, provider=provider)
        self.kms_key_arn = None
        if settings.kms_enabled:
            key = ArtifactKey(
                f"{name}-key",
                key_args(settings, names.replica_kms_alias(settings.stack), args.account_id, region),
                opts=in_region,
            )
            self.kms_key_arn = key.arn
        replica_key = self.kms_key_arn
        replica = HardenedBucket(
            f"{name}-bucket",
            bucket_args(
                settings,
                lambda arn: args.policy(arn, replica_key),
                name_prefix=names.replica_bucket_prefix(settings.stack),
                kms_key_arn=replica_key,
                versioning=True,
            ),
            opts=in_region,
        )
        self.bucket_name = replica.bucket.bucket
        self.bucket_arn = replica.bucket.arn
        self._observe(name, settings, replica, args, in_region)

        role = aws.iam.Role(
            f"{name}-role",
            name_prefix="kf-artifact-replication-",
            description="S3 replication of the Kubeflow artifact bucket",
            assume_role_policy=args.account_id.apply(policies.replication_trust_policy),
            tags=settings.tags,
            **settings.iam_identity_args,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = role.arn
        source_key = args.source_key_arn if args.source_key_arn is not None else pulumi.Output.from_input(None)
        destination_key = replica_key if replica_key is not None else pulumi.Output.from_input(None)
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.all(args.source.bucket.arn, self.bucket_arn, source_key, destination_key).apply(
                lambda v: policies.replication_policy(v[0], v[1], settings.region, region, v[2], v[3], c.previous_kms_key_arns)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-configuration",
            bucket=args.source.bucket.id,
            role=role.arn,
            rules=[self._rule(settings, replica_key)],
            # S3 refuses a replication configuration until versioning is on at both ends.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.source.versioning, replica.versioning, policy], retain_on_delete=c.protect
            ),
        )
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn, "kmsKeyArn": self.kms_key_arn})

    def _observe(
        self, name: str, settings: Settings, replica: HardenedBucket, args: ArtifactReplicaArgs, in_region: pulumi.ResourceOptions
    ) -> None:
        """The replica is logged and watched like the source: in a failover it is what Kubeflow
        reads and writes. S3 delivers access logs only within a region: a log bucket of its own."""
        c = settings.config
        kept = pulumi.ResourceOptions(parent=self, provider=in_region.provider, retain_on_delete=c.protect)
        if c.access_logging and args.log_policy is not None:
            log_policy = args.log_policy
            logs = HardenedBucket(
                f"{name}-access-logs",
                bucket_args(
                    settings,
                    lambda arn: log_policy(arn, replica.bucket.arn),
                    name_prefix=names.replica_log_bucket_prefix(settings.stack),
                    expiration_days=LOG_RETENTION_DAYS,
                ),
                opts=in_region,
            )
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=replica.bucket.id,
                target_bucket=logs.bucket.id,
                target_prefix=names.ACCESS_LOG_PREFIX,
                opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[logs.policy])),
            )
        if c.event_notifications:
            aws.s3.BucketNotification(f"{name}-events", bucket=replica.bucket.id, eventbridge=True, opts=kept)

    def _rule(self, settings: Settings, replica_key: pulumi.Output[str] | None) -> aws.s3.BucketReplicationConfigRuleArgs:
        rtc = settings.config.replication_time_control
        return aws.s3.BucketReplicationConfigRuleArgs(
            id=REPLICATION_RULE_ID,
            status="Enabled",
            filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
            delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
            source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                    status="Enabled"
                )
            )
            if replica_key is not None
            else None,
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                bucket=self.bucket_arn,
                storage_class="STANDARD",
                encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                    replica_kms_key_id=replica_key
                )
                if replica_key is not None
                else None,
                replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                    status="Enabled", time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=15)
                )
                if rtc
                else None,
                metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                    status="Enabled", event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(minutes=15)
                )
                if rtc
                else None,
            ),
        )
