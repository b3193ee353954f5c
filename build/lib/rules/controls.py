"""Every security control, defined once: id, title, severity, benchmark ids, and a check.

A check returns None when the state satisfies the control, or a one-line reason when it
does not. Checks never see NOT_REPORTED: `evaluate` answers those before calling them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import matrix
from .checks import access, bucket, deployments, key
from .state import ACCESS_LOGS, ARTIFACTS, REPLICA, Expectations


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str  # "high" | "medium" | "low"
    benchmarks: tuple[str, ...]
    scope: str  # "bucket" | "artifact-bucket" | "log-bucket" | "key" | "identity"
    fields: tuple[str, ...]  # state fields the check reads (NOT_REPORTED on any: not judged)
    check: Callable[..., str | None]
    required: Callable[[Expectations], bool] = lambda expectations: True
    # The check takes the stack's expectations as its second argument.
    uses_expectations: bool = False


CONTROLS: tuple[Control, ...] = (
    Control(
        "KF-S3-01",
        "Public access block: all four flags on",
        "high",
        ("S3.8", "S3.1", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"),
        "bucket",
        ("public_access_block",),
        bucket.check_public_access,
    ),
    Control(
        "KF-S3-02",
        "No public read or write through policy or ACL",
        "high",
        ("S3.2", "S3.3"),
        "bucket",
        ("policy",),
        bucket.check_no_public_grant,
    ),
    Control(
        "KF-S3-03",
        "ACLs disabled (ownership BucketOwnerEnforced)",
        "medium",
        ("S3.12", "CKV2_AWS_65"),
        "bucket",
        ("ownership",),
        bucket.check_ownership,
    ),
    Control("KF-S3-04", "Default encryption at rest", "high", ("CKV_AWS_19",), "bucket", ("sse_algorithm",), bucket.check_encryption),
    Control(
        "KF-S3-05", "Bucket policy denies requests without TLS", "high", ("S3.5", "CIS 2.1.1"), "bucket", ("policy",), bucket.check_tls
    ),
    Control("KF-S3-06", "Bucket policy denies TLS below 1.2", "medium", (), "bucket", ("policy",), bucket.check_tls12),
    Control(
        "KF-S3-07",
        "Versioning enabled",
        "medium",
        ("S3.14", "CKV_AWS_21"),
        "bucket",
        ("versioning",),
        bucket.check_versioning,
        required=lambda e: e.require_versioning,
    ),
    Control(
        "KF-S3-08",
        "Lifecycle: abort incomplete uploads, expire noncurrent versions",
        "low",
        ("S3.10", "S3.13", "CKV2_AWS_61", "CKV_AWS_300"),
        "bucket",
        ("lifecycle_rules", "versioning"),
        bucket.check_lifecycle,
    ),
    Control(
        "KF-S3-09",
        "SSE-KMS with a customer key and bucket key",
        "medium",
        ("S3.17", "CKV_AWS_145"),
        "data-bucket",
        ("sse_algorithm", "kms_key_id", "bucket_key_enabled"),
        bucket.check_kms,
        required=lambda e: e.require_kms,
    ),
    Control(
        "KF-S3-10",
        "Uploads cannot choose another algorithm, key or SSE-C",
        "medium",
        (),
        "data-bucket",
        ("policy", "sse_algorithm", "blocked_encryption_types"),
        bucket.check_upload_headers,
    ),
    Control(
        "KF-S3-11",
        "Server access logging on",
        "medium",
        ("S3.9", "CKV_AWS_18"),
        "data-bucket",
        ("logging_target",),
        bucket.check_logging,
        required=lambda e: e.require_logging,
    ),
    Control(
        "KF-S3-12",
        "Event notifications to EventBridge",
        "low",
        ("CKV2_AWS_62",),
        "data-bucket",
        ("eventbridge",),
        bucket.check_events,
        required=lambda e: e.require_notifications,
    ),
    Control(
        "KF-S3-13",
        "Log bucket: SSE-S3 and a conditioned delivery grant",
        "medium",
        (),
        "log-bucket",
        ("sse_algorithm", "policy"),
        bucket.check_log_delivery,
    ),
    Control(
        "KF-S3-14",
        "Identity perimeter: only this account's (or trusted) principals reach the bucket",
        "high",
        (),
        "bucket",
        ("policy",),
        bucket.check_identity_perimeter,
        required=lambda e: e.require_identity_perimeter,
    ),
    Control(
        "KF-S3-15",
        "Network perimeter: requests only through the allowed VPC endpoints",
        "medium",
        (),
        "bucket",
        ("policy",),
        bucket.check_network_perimeter,
        required=lambda e: e.require_network_perimeter,
    ),
    Control(
        "KF-S3-16",
        "Cross-region replication of every object and delete marker, re-encrypted with a replica key",
        "medium",
        ("CKV_AWS_144",),
        "artifact-bucket",
        ("replication", "sse_algorithm"),
        bucket.check_replication,
        required=lambda e: e.require_replication,
    ),
    Control(
        "KF-KMS-01",
        "Key enabled and not scheduled for deletion",
        "high",
        ("KMS.3", "CKV_AWS_227"),
        "key",
        ("enabled", "key_state"),
        key.check_key_alive,
    ),
    Control("KF-KMS-02", "Automatic key rotation on", "medium", ("KMS.4", "CKV_AWS_7"), "key", ("rotation_enabled",), key.check_rotation),
    Control(
        "KF-KMS-03",
        "Explicit key policy, root kept, no public principal",
        "high",
        ("KMS.5", "CKV_AWS_33", "CKV2_AWS_64"),
        "key",
        ("policy", "bypass_lockout_check"),
        key.check_key_policy,
    ),
    Control(
        "KF-KMS-04", "Key administrators cannot use the key (effective policy)", "medium", (), "key", ("policy",), key.check_key_admins
    ),
    Control(
        "KF-KMS-05",
        "Cryptographic use only through S3, whatever IAM grants (effective policy)",
        "high",
        (),
        "key",
        ("policy",),
        key.check_use_through_s3,
    ),
    Control(
        "KF-IAM-01",
        "Kubeflow identities: no wildcard action or resource",
        "high",
        ("KMS.1", "KMS.2", "CKV_AWS_63", "CKV_AWS_355"),
        "identity",
        ("policies",),
        access.check_least_privilege,
    ),
    Control(
        "KF-IAM-02",
        "Role trust pinned: IRSA to one ServiceAccount and audience, a service to this account",
        "high",
        (),
        "identity",
        ("trust_policy",),
        access.check_irsa_trust,
    ),
    Control(
        "KF-IAM-03",
        "Profile isolation: no profile identity reaches another profile's prefix",
        "high",
        (),
        "identity",
        ("policies", "trust_policy"),
        access.check_isolation,
        uses_expectations=True,
    ),
    Control(
        "KF-REQ-01",
        "Requests that really happen get their verdict: Kubeflow reads and writes, everything else is refused (effective policies)",
        "high",
        ("S3.2", "S3.3", "S3.5", "KMS.5"),
        "stack",
        (),
        matrix.check_requests,
        uses_expectations=True,
    ),
    Control(
        "KF-K8S-01",
        "Argo and KFP point at this bucket over TLS, in its region",
        "high",
        (),
        "wiring",
        ("bucket", "region", "repositories", "launchers"),
        access.check_wiring_targets,
    ),
    Control(
        "KF-K8S-02",
        "Every wired namespace has a pipeline root in the bucket (its own prefix when isolated)",
        "medium",
        (),
        "wiring",
        ("bucket", "repositories", "launchers"),
        access.check_pipeline_roots,
        uses_expectations=True,
    ),
    Control(
        "KF-K8S-03",
        "API server and UI read this bucket over TLS in its region, each setting in the form the installed release uses",
        "high",
        (),
        "wiring",
        ("bucket", "region", "deployments"),
        deployments.check_deployments,
        uses_expectations=True,
    ),
)

# How to fix a failure, in the project's words: the config key and value, or, for what the program
# always writes, that the live or planned resource was changed elsewhere. Appended to every failure.
RESTORE = (
    "the program writes this by default: a change made outside it (run `up --refresh` to restore) or a resource not made by the component"
)
FIXES: dict[str, str] = {
    "KF-S3-01": RESTORE,
    "KF-S3-02": "remove the Allow to everyone from the bucket policy (the component writes Deny statements only)",
    "KF-S3-03": RESTORE,
    "KF-S3-04": "encryption: sse-s3 or sse-kms",
    "KF-S3-05": RESTORE,
    "KF-S3-06": RESTORE,
    "KF-S3-07": "versioning: true (required by the `versioning` baseline or the stack's own setting)",
    "KF-S3-08": "noncurrentVersionExpirationDays and abortIncompleteUploadDays (the component writes the lifecycle)",
    "KF-S3-09": "encryption: sse-kms (required by the `kms` baseline in environments.yaml, or the stack's own setting)",
    "KF-S3-10": "the component's header Denies (StringNotEquals with Null: false): re-run `up`; never StringNotEqualsIfExists",
    "KF-S3-11": "accessLogging: true (required by the `logging` baseline, or the stack's own setting)",
    "KF-S3-12": "eventNotifications: true (required by the `notifications` baseline, or the stack's own setting)",
    "KF-S3-13": RESTORE,
    "KF-S3-14": "the component's identity perimeter (trustedAccountIds, organizationId); required by the `identityPerimeter` baseline",
    "KF-S3-15": "allowedVpcEndpointIds and perimeterExemptPrincipalArns (required by the `networkPerimeter` baseline)",
    "KF-S3-16": "replicaRegion: <another region> with versioning: true (required by the `replication` baseline)",
    "KF-KMS-01": "cancel the key's deletion (aws kms cancel-key-deletion) and enable it; keys are retained by the program",
    "KF-KMS-02": "kmsKeyRotationDays (rotation is always on for a key the program creates)",
    "KF-KMS-03": "the program's key policy (root kept, lockout check never bypassed): re-run `up`",
    "KF-KMS-04": "kmsKeyAdminArns holds administrators only; the program's key policy denies them use",
    "KF-KMS-05": "the program's key policy denies use outside S3: re-run `up`",
    "KF-IAM-01": "attach no wildcard or AWS-managed broad policy to a Kubeflow role; the program's roles are scoped to the bucket and key",
    "KF-IAM-02": "eksOidcProviderArn, pipelineServiceAccount, profileServiceAccount (trust is pinned to one ServiceAccount)",
    "KF-IAM-03": "profileIsolation: true and no extra grant on the profile's role",
    "KF-REQ-01": "see the request and the statement named; the component's policies pass every row",
    "KF-K8S-01": "manageKubernetes: true, or write the objects `manifests` renders",
    "KF-K8S-02": "profileObjects: managed (or the objects `manifests` renders for each profile namespace)",
    "KF-K8S-03": "kubeflowPipelinesVersion: the release installed, and patchDeployments: true",
}


# Which buckets each bucket scope covers: None = every bucket.
SCOPES: dict[str, tuple[str, ...] | None] = {
    "bucket": None,
    "artifact-bucket": (ARTIFACTS,),
    "data-bucket": (ARTIFACTS, REPLICA),
    "log-bucket": (ACCESS_LOGS,),
}


def control(control_id: str) -> Control:
    return next(c for c in CONTROLS if c.id == control_id)


def policy_name(c: Control) -> str:
    """The CrossGuard policy name of a control (policy names are lowercase)."""
    return c.id.lower()


POLICY_NAMES: tuple[str, ...] = tuple(policy_name(c) for c in CONTROLS)
