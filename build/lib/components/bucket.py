"""HardenedBucket: one S3 bucket with every hardening setting as its own resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .settings import Settings

BUCKET_COMPONENT_TYPE = "kubeflow:storage:HardenedBucket"
SSE_S3 = "AES256"
SSE_KMS = "aws:kms"


@dataclass(frozen=True)
class HardenedBucketArgs:
    """What varies between the artifact bucket and its log bucket; the rest is not negotiable."""

    # Builds the bucket policy document from the bucket's ARN.
    policy: Callable[[pulumi.Output[str]], pulumi.Output[str]]
    # Exactly one of name / name_prefix.
    name: str = ""
    name_prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # None: SSE-S3. Otherwise the full ARN of the key for SSE-KMS with a bucket key.
    kms_key_arn: pulumi.Input[str] | None = None
    versioning: bool = True
    noncurrent_version_expiration_days: int = 90
    abort_incomplete_upload_days: int = 7
    # Expire current objects (log buckets); None keeps them.
    expiration_days: int | None = None
    protect: bool = False
    # `name` is an existing bucket to import and harden in place (never deleted by Pulumi).
    adopt: bool = False


def bucket_args(settings: Settings, policy: Callable[[pulumi.Output[str]], pulumi.Output[str]], **specific: Any) -> HardenedBucketArgs:
    """The stack-wide part of every bucket's arguments (tags, lifecycle, protection), plus `specific`."""
    c = settings.config
    return HardenedBucketArgs(
        policy=policy,
        tags=settings.tags,
        noncurrent_version_expiration_days=c.noncurrent_version_expiration_days,
        abort_incomplete_upload_days=c.abort_incomplete_upload_days,
        protect=c.protect,
        **specific,
    )


class HardenedBucket(pulumi.ComponentResource):
    """Bucket + public access block + ownership controls + default encryption + TLS policy +
    versioning + lifecycle, created in the order S3 needs (PAB, then policy, then ownership)."""

    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    versioning: aws.s3.BucketVersioning

    def __init__(self, name: str, args: HardenedBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(BUCKET_COMPONENT_TYPE, name, None, opts)
        # With protect, every hardening resource is retained too: decommissioning a protected stack
        # leaves the bucket as hardened as it was (public access block, policy, encryption...).
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.protect)

        # Only non-deprecated arguments; every other setting is a resource of its own.
        # bucketPrefix matters only at creation: ignoring later changes keeps the bucket when the
        # stack is renamed (the generated prefix carries the stack name). An adopted bucket is
        # imported as it is (its own tags kept) and, not being ours, is never deleted.
        ignored = ["bucketPrefix", "tags", "tagsAll"] if args.adopt else ["bucketPrefix"]
        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.name or None,
            bucket_prefix=None if args.name else args.name_prefix,
            force_destroy=False,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect or args.adopt,
                ignore_changes=ignored,
                import_=args.name if args.adopt else None,
            ),
        )
        bucket_id = self.bucket.id

        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm=SSE_KMS if args.kms_key_arn else SSE_S3,
                        kms_master_key_id=args.kms_key_arn,
                    ),
                    bucket_key_enabled=True if args.kms_key_arn else None,
                    blocked_encryption_types=["SSE-C"],
                )
            ],
            opts=child,
        )
        # S3 answers 409 when policy and public access block change in parallel.
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=args.policy(self.bucket.arn),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[public_access])),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.policy])),
        )
        self.versioning = versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled" if args.versioning else "Suspended"
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[_lifecycle_rule(args)],
            # The provider documents that lifecycle must follow versioning on versioned buckets.
            opts=child.merge(pulumi.ResourceOptions(depends_on=[versioning])),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})


def _lifecycle_rule(args: HardenedBucketArgs) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="abort-uploads-and-expire-old-versions",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=args.abort_incomplete_upload_days
        ),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=args.noncurrent_version_expiration_days
        ),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expiration_days) if args.expiration_days else None,
    )
