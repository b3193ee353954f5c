"""Build a Snapshot from Pulumi resources (camelCase properties), as the mock engine records
them for `check` and as CrossGuard hands them to a stack policy at preview and update.

Side resources are matched to their bucket by parent component, not by bucket name: at
preview a generated name is still unknown, but the component tree is not."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .state import ACCESS_LOGS, ARTIFACTS, BucketState, IdentityState, KeyState, Snapshot

BUCKET = "aws:s3/bucket:Bucket"
HARDENED_BUCKET = "kubeflow:storage:HardenedBucket"


@dataclass(frozen=True)
class Resource:
    """The little the rules need of a resource: its type, name, properties and parent's URN."""

    type: str
    name: str
    urn: str
    parent: str
    props: dict[str, Any]


def _json(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return None


def _lifecycle(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "status": rule.get("status"),
            "abort_days": (rule.get("abortIncompleteMultipartUpload") or {}).get("daysAfterInitiation"),
            "noncurrent_days": (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays"),
            "expiration_days": (rule.get("expiration") or {}).get("days"),
        }
        for rule in rules or []
    ]


def _apply_side_resource(bucket: BucketState, r: Resource) -> None:
    p = r.props
    kind = r.type.split(":")[-1]
    if kind == "BucketPublicAccessBlock":
        bucket.public_access_block = {
            k: bool(p.get(k)) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        }
    elif kind == "BucketOwnershipControls":
        bucket.ownership = (p.get("rule") or {}).get("objectOwnership")
    elif kind == "BucketServerSideEncryptionConfiguration":
        rule = (p.get("rules") or [{}])[0]
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        bucket.sse_algorithm = default.get("sseAlgorithm")
        bucket.kms_key_id = default.get("kmsMasterKeyId")
        bucket.bucket_key_enabled = rule.get("bucketKeyEnabled")
        bucket.blocked_encryption_types = rule.get("blockedEncryptionTypes")
    elif kind == "BucketPolicy":
        bucket.policy = _json(p.get("policy"))
    elif kind == "BucketVersioning":
        bucket.versioning = (p.get("versioningConfiguration") or {}).get("status")
    elif kind == "BucketLifecycleConfiguration":
        bucket.lifecycle_rules = _lifecycle(p.get("rules"))
    elif kind == "BucketLogging":
        bucket.logging_target = p.get("targetBucket") or "(unknown until deployed)"
    elif kind == "BucketNotification":
        bucket.eventbridge = bool(p.get("eventbridge"))


def snapshot_from_resources(resources: Iterable[Resource]) -> Snapshot:
    resources = list(resources)
    by_urn = {r.urn: r for r in resources}
    snapshot = Snapshot()
    buckets: dict[str, BucketState] = {}  # keyed by the HardenedBucket component's URN
    for r in resources:
        if r.type == BUCKET:
            role = ACCESS_LOGS if r.name.endswith(ACCESS_LOGS) else ARTIFACTS
            buckets[r.parent or r.urn] = BucketState(name=r.name, role=role)
    snapshot.buckets = list(buckets.values())
    for r in resources:
        if r.type.startswith("aws:s3/bucket") and r.type != BUCKET:
            if r.parent in buckets:
                _apply_side_resource(buckets[r.parent], r)
            else:  # logging and notifications belong to the store: its artifact buckets
                for urn, bucket in buckets.items():
                    owner = by_urn.get(urn)
                    if bucket.role == ARTIFACTS and owner is not None and owner.parent == r.parent:
                        _apply_side_resource(bucket, r)
        elif r.type == "aws:kms/key:Key":
            p = r.props
            snapshot.keys.append(
                KeyState(
                    name=r.name,
                    enabled=p.get("isEnabled", True),
                    key_state="Enabled",
                    rotation_enabled=p.get("enableKeyRotation"),
                    rotation_days=p.get("rotationPeriodInDays"),
                    policy=_json(p.get("policy")),
                    bypass_lockout_check=bool(p.get("bypassPolicyLockoutSafetyCheck")),
                )
            )
    _identities(resources, snapshot)
    return snapshot


def _identities(resources: list[Resource], snapshot: Snapshot) -> None:
    """Roles and users with their inline policies (matched by the role/user resource's parent and name)."""
    principals: dict[str, IdentityState] = {}
    for r in resources:
        if r.type == "aws:iam/role:Role":
            principals[r.name] = IdentityState(r.name, trust_policy=_json(r.props.get("assumeRolePolicy")))
        elif r.type == "aws:iam/user:User":
            principals[r.name] = IdentityState(r.name)
    for r in resources:
        if r.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy"):
            owner = max((name for name in principals if r.name.startswith(name)), key=len, default=None)
            target = principals[owner] if owner else principals.setdefault(r.name, IdentityState(r.name))
            if (document := _json(r.props.get("policy"))) is not None:
                target.policies.append(document)
    snapshot.identities = list(principals.values())
