"""Build a Snapshot from Pulumi resources (camelCase properties), as the mock engine records
them for `check` and as CrossGuard hands them to a stack policy at preview and update.

Every bucket is judged on its own (keyed by its URN). A side resource belongs to the bucket of
its HardenedBucket component, else to the bucket whose name its `bucket` property names; at
preview, where a generated name is still unknown, to the artifact bucket of its component. A value the engine
has not computed yet (a preview's unknowns, which the policy pack sees as sentinel strings)
becomes UNKNOWN in the state, so the rule says "not judged" instead of passing or failing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from components import names

from .managed_policies import aws_managed
from .state import ACCESS_LOGS, ARTIFACTS, REPLICA, UNKNOWN, BucketState, IdentityState, KeyState, Snapshot, WiringState

BUCKET = "aws:s3/bucket:Bucket"
HARDENED_BUCKET = "kubeflow:storage:HardenedBucket"

# The unknown-value sentinels the engine sends at preview, as pulumi-policy hands them to a
# policy (pulumi_policy/proxy.py UNKNOWN_*_VALUE; the string one is also pulumi.runtime.rpc.UNKNOWN).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return is_unknown(value)


def _at(value: Any, *path: str | int) -> Any:
    """value[path...], None where absent, UNKNOWN where the engine has not computed it yet."""
    for step in path:
        if is_unknown(value):
            return UNKNOWN
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and len(value) > step else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return UNKNOWN if _contains_unknown(value) else value


@dataclass(frozen=True)
class Resource:
    """The little the rules need of a resource: its type, name, properties and parent's URN."""

    type: str
    name: str
    urn: str
    parent: str
    props: dict[str, Any]


def _json(value: Any) -> Any:
    if value is UNKNOWN or is_unknown(value):
        return UNKNOWN
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return None


def _lifecycle(rules: Any) -> Any:
    if _contains_unknown(rules):
        return UNKNOWN
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
        flags = {k: _at(p, k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}
        bucket.public_access_block = UNKNOWN if UNKNOWN in flags.values() else {k: bool(v) for k, v in flags.items()}
    elif kind == "BucketOwnershipControls":
        bucket.ownership = _at(p, "rule", "objectOwnership")
    elif kind == "BucketServerSideEncryptionConfiguration":
        rule = ("rules", 0)
        bucket.sse_algorithm = _at(p, *rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        bucket.kms_key_id = _at(p, *rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId")
        bucket.bucket_key_enabled = _at(p, *rule, "bucketKeyEnabled")
        bucket.blocked_encryption_types = _at(p, *rule, "blockedEncryptionTypes")
    elif kind == "BucketPolicy":
        bucket.policy = _json(p.get("policy"))
    elif kind == "BucketVersioning":
        bucket.versioning = _at(p, "versioningConfiguration", "status")
    elif kind == "BucketLifecycleConfiguration":
        bucket.lifecycle_rules = _lifecycle(p.get("rules"))
    elif kind == "BucketLogging":
        # The logging resource exists: logging is on, whichever (possibly not yet known) target it names.
        target = _at(p, "targetBucket")
        bucket.logging_target = target if isinstance(target, str) and target else "(unknown until deployed)"
    elif kind == "BucketReplicationConfig":
        rule = ("rules", 0)
        bucket.replication = {
            "status": _at(p, *rule, "status"),
            "destination": _at(p, *rule, "destination", "bucket"),
            "replica_kms_key_id": _at(p, *rule, "destination", "encryptionConfiguration", "replicaKmsKeyId"),
            "delete_markers": _at(p, *rule, "deleteMarkerReplication", "status"),
            "sse_kms_objects": _at(p, *rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status"),
        }
        if UNKNOWN in bucket.replication.values():
            # Whether it is on is known; only the destination's name and key may be computed later.
            bucket.replication = {k: (v if v is not UNKNOWN else "(unknown until deployed)") for k, v in bucket.replication.items()}
    elif kind == "BucketNotification":
        events = _at(p, "eventbridge")
        bucket.eventbridge = events if events is UNKNOWN else bool(events)


def _ancestors(r: Resource, by_urn: dict[str, Resource]) -> set[str]:
    found, parent = set(), r.parent
    while parent and parent not in found:
        found.add(parent)
        parent = by_urn[parent].parent if parent in by_urn else ""
    return found


def _apply_side_resource_by_tree(r: Resource, buckets: dict[str, BucketState], by_urn: dict[str, Resource]) -> None:
    """The data bucket (not a log bucket) whose component is a sibling of the side resource (the
    replica's logging goes to the replica); else the artifact buckets of the same ancestry."""

    def component_parent(urn: str) -> str | None:
        component = by_urn.get(by_urn[urn].parent) if urn in by_urn else None
        return component.parent if component is not None else None

    # A replication configuration sits with the replica but configures its source.
    replication = r.type.endswith("BucketReplicationConfig")
    siblings = [b for urn, b in buckets.items() if b.role != ACCESS_LOGS and component_parent(urn) == r.parent and not replication]
    if siblings:
        for bucket in siblings:
            _apply_side_resource(bucket, r)
        return
    ancestors = _ancestors(r, by_urn)
    for urn, bucket in buckets.items():
        if bucket.role == ARTIFACTS and component_parent(urn) in ancestors:
            _apply_side_resource(bucket, r)


def snapshot_from_resources(resources: Iterable[Resource]) -> Snapshot:
    resources = list(resources)
    by_urn = {r.urn: r for r in resources}
    snapshot = Snapshot()
    buckets: dict[str, BucketState] = {}  # keyed by each bucket's own URN: every bucket judged
    component_of: dict[str, str] = {}  # a HardenedBucket component's URN -> its bucket's URN
    named: dict[str, str] = {}  # a bucket's name (its provider ID), where known -> its URN
    for r in resources:
        if r.type == BUCKET:
            role = ACCESS_LOGS if r.name.endswith(ACCESS_LOGS) else REPLICA if r.name.endswith("replica-bucket") else ARTIFACTS
            buckets[r.urn] = BucketState(name=r.name, role=role, arn=_at(r.props, "arn"), region=_at(r.props, "region"))
            parent = by_urn.get(r.parent)
            if parent is not None and parent.type == HARDENED_BUCKET:
                component_of[r.parent] = r.urn
            name = r.props.get("bucket")
            if isinstance(name, str) and name and not is_unknown(name):
                named[name] = r.urn
    snapshot.buckets = list(buckets.values())
    for r in resources:
        if r.type.startswith("aws:s3/bucket") and r.type != BUCKET:
            reference = r.props.get("bucket")
            target = component_of.get(r.parent) or (named.get(reference) if isinstance(reference, str) else None)
            if target is not None:
                _apply_side_resource(buckets[target], r)
            else:  # the bucket it names is unknown until the update (a preview): the data bucket of its component
                _apply_side_resource_by_tree(r, buckets, by_urn)
        elif r.type == "aws:kms/key:Key":
            p = r.props
            snapshot.keys.append(
                KeyState(
                    name=r.name,
                    arn=_at(p, "arn"),
                    enabled=p.get("isEnabled", True) if not is_unknown(p.get("isEnabled")) else UNKNOWN,
                    key_state="Enabled",
                    rotation_enabled=_at(p, "enableKeyRotation"),
                    rotation_days=_at(p, "rotationPeriodInDays"),
                    policy=_json(p.get("policy")),
                    bypass_lockout_check=UNKNOWN
                    if is_unknown(p.get("bypassPolicyLockoutSafetyCheck"))
                    else bool(p.get("bypassPolicyLockoutSafetyCheck")),
                )
            )
    _identities(resources, snapshot)
    wiring = wiring_from_objects(
        (r.props.get("metadata") or {}, r.props.get("data")) for r in resources if r.type.startswith("kubernetes:core/v1:ConfigMap")
    )
    patches = [r for r in resources if r.type == "kubernetes:apps/v1:DeploymentPatch"]
    if wiring is not None:
        for r in patches:
            name = (r.props.get("metadata") or {}).get("name")
            containers = _at(r.props, "spec", "template", "spec", "containers")
            if containers is UNKNOWN or wiring.deployments is UNKNOWN:
                wiring.deployments = UNKNOWN
            elif name and containers:
                wiring.deployments[name] = {"env": containers[0].get("env") or [], "image": containers[0].get("image")}  # type: ignore[index]
        snapshot.wiring.append(wiring)
    return snapshot


LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster


def _yaml(text: Any) -> Any:
    if is_unknown(text) or text is UNKNOWN:
        return UNKNOWN
    try:
        return yaml.load(text, Loader=LOADER) if isinstance(text, str) else None
    except yaml.YAMLError:
        return None


def wiring_from_objects(objects: Iterable[tuple[dict[str, Any], Any]]) -> WiringState | None:
    """ConfigMaps (metadata, data) -> what Argo and the KFP launcher are told, per namespace.
    Shared by the adapter (program inputs, a preview) and `verify` (live objects)."""
    wiring: WiringState | None = None
    for metadata, data in objects:
        name, namespace = metadata.get("name"), metadata.get("namespace")
        if name not in (names.KUBEFLOW_CONFIGMAP_NAME, names.LAUNCHER_CONFIGMAP, names.ARTIFACT_REPOSITORIES_CONFIGMAP):
            continue
        wiring = wiring or WiringState()
        if _contains_unknown(data):
            if name == names.KUBEFLOW_CONFIGMAP_NAME:
                wiring.bucket = wiring.region = UNKNOWN
            else:
                getattr(wiring, "launchers" if name == names.LAUNCHER_CONFIGMAP else "repositories")[namespace] = UNKNOWN
            continue
        data = data or {}
        if name == names.KUBEFLOW_CONFIGMAP_NAME:
            wiring.bucket, wiring.region = data.get("bucketName"), data.get("minioServiceRegion")
        elif name == names.LAUNCHER_CONFIGMAP:
            wiring.launchers[namespace] = {**data, "providers": _yaml(data.get("providers"))}  # type: ignore[index]
        else:
            key = (metadata.get("annotations") or {}).get(names.DEFAULT_REPOSITORY_ANNOTATION)
            wiring.repositories[namespace] = _yaml(data.get(key)) if key else None  # type: ignore[index]
    if wiring is not None:
        for attribute in ("launchers", "repositories"):
            if UNKNOWN in getattr(wiring, attribute).values():
                setattr(wiring, attribute, UNKNOWN)
    return wiring


def _identities(resources: list[Resource], snapshot: Snapshot) -> None:
    """Roles and users with every policy AWS weighs for them: inline (RolePolicy, UserPolicy,
    Role.inlinePolicies), attached (RolePolicyAttachment, UserPolicyAttachment,
    Role.managedPolicyArns) to a Policy of the program or an AWS-managed one (rules/managed_policies).
    An attachment whose document cannot be known is "not judged", its ARN named."""
    principals: dict[str, IdentityState] = {}
    by_name: dict[str, IdentityState] = {}  # the role's or user's IAM name, where known
    for r in resources:
        if r.type in ("aws:iam/role:Role", "aws:iam/user:User"):
            trust = _json(r.props.get("assumeRolePolicy")) if r.type.endswith("Role") else None
            identity = IdentityState(r.name, trust_policy=trust, arn=_at(r.props, "arn"))
            principals[r.name] = identity
            name = r.props.get("name")
            if isinstance(name, str) and name and not is_unknown(name):
                by_name[name] = identity
            for inline in r.props.get("inlinePolicies") or []:
                _add(identity, _json((inline or {}).get("policy")))
            managed = r.props.get("managedPolicyArns")
            if is_unknown(managed):
                identity.policies = UNKNOWN
            for arn in managed if isinstance(managed, list) else []:
                _attach(identity, arn, resources)
    for r in resources:
        kind = r.type.split(":")[-1]
        if kind not in ("RolePolicy", "UserPolicy", "RolePolicyAttachment", "UserPolicyAttachment"):
            continue
        ref = r.props.get("role" if kind.startswith("Role") else "user")
        target = by_name.get(ref) if isinstance(ref, str) else None
        if target is None:  # matched by the resource names the program gives them (unknown names at preview)
            owner = max((name for name in principals if r.name.startswith(name)), key=len, default=None)
            target = principals[owner] if owner else principals.setdefault(r.name, IdentityState(r.name))
        if kind.endswith("Attachment"):
            _attach(target, r.props.get("policyArn"), resources)
        else:
            _add(target, _json(r.props.get("policy")))
    snapshot.identities = list(principals.values())


def _add(identity: IdentityState, document: Any) -> None:
    if document is UNKNOWN:
        identity.policies = UNKNOWN
    elif document is not None and isinstance(identity.policies, list):
        identity.policies.append(document)


def _attach(identity: IdentityState, arn: Any, resources: list[Resource]) -> None:
    """A managed policy by ARN: one of the program's Policy resources, or an AWS-managed one."""
    if not isinstance(arn, str) or is_unknown(arn):
        identity.policies = UNKNOWN
        return
    own = next((r for r in resources if r.type == "aws:iam/policy:Policy" and r.props.get("arn") == arn), None)
    document = _json(own.props.get("policy")) if own is not None else aws_managed(arn)
    if document is None:
        identity.not_judged = f"attached policy {arn} is not known offline"
        return
    _add(identity, document)
