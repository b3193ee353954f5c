"""The state the rules judge, whatever it was read from (program inputs, a preview, live AWS).

Each field is the value, None when the setting is absent, NOT_REPORTED when the source
cannot tell (an endpoint that does not report it), or UNKNOWN when the value is computed
during the update (a preview): a rule never turns either into a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final


class _NotReported:
    def __repr__(self) -> str:
        return "NOT_REPORTED"


class _Unknown(_NotReported):
    def __repr__(self) -> str:
        return "UNKNOWN"


# The source cannot tell (an endpoint that does not report the setting).
NOT_REPORTED: Final = _NotReported()
# Not known yet: a value Pulumi computes during the update (a preview's unknowns).
UNKNOWN: Final = _Unknown()


class _NotReadable(_NotReported):
    def __repr__(self) -> str:
        return "NOT_READABLE"


# The credentials may not read it (AccessDenied): never a pass, and verify goes on.
NOT_READABLE: Final = _NotReadable()

ARTIFACTS = "artifacts"
ACCESS_LOGS = "access-logs"
REPLICA = "replica"


@dataclass
class BucketState:
    name: str
    role: str = ARTIFACTS
    arn: str | None | _NotReported = None
    region: str | None | _NotReported = None
    public_access_block: dict[str, bool] | None | _NotReported = None
    ownership: str | None | _NotReported = None
    sse_algorithm: str | None | _NotReported = None
    kms_key_id: str | None | _NotReported = None
    bucket_key_enabled: bool | None | _NotReported = None
    blocked_encryption_types: list[str] | None | _NotReported = None
    policy: dict[str, Any] | None | _NotReported = None
    versioning: str | None | _NotReported = None
    # Normalised rules: {"status", "abort_days", "noncurrent_days", "expiration_days"}
    lifecycle_rules: list[dict[str, Any]] | None | _NotReported = None
    logging_target: str | None | _NotReported = None
    eventbridge: bool | None | _NotReported = None
    # Normalised: {"status", "destination", "replica_kms_key_id", "delete_markers", "sse_kms_objects"}
    replication: dict[str, Any] | None | _NotReported = None


@dataclass
class KeyState:
    name: str
    arn: str | None | _NotReported = None
    enabled: bool | None | _NotReported = True
    key_state: str | None | _NotReported = "Enabled"
    rotation_enabled: bool | None | _NotReported = None
    rotation_days: int | None | _NotReported = None
    policy: dict[str, Any] | None | _NotReported = None
    bypass_lockout_check: bool | None | _NotReported = False


@dataclass
class IdentityState:
    """An IAM role or user and the policies attached to it."""

    name: str
    policies: list[dict[str, Any]] | _NotReported = field(default_factory=list)
    trust_policy: dict[str, Any] | None | _NotReported = None
    arn: str | None | _NotReported = None
    not_judged: str = ""  # why its policies cannot be judged (an attached policy not known offline)


@dataclass
class WiringState:
    """What Kubeflow's readers and writers are told about the bucket, per namespace.

    `repositories` holds each namespace's Argo ArtifactRepository (parsed), `launchers` each
    namespace's kfp-launcher data with `providers` parsed; UNKNOWN where not computed yet."""

    name: str = "kubernetes"
    bucket: str | None | _NotReported = None  # pipeline-install-config bucketName
    region: str | None | _NotReported = None  # pipeline-install-config minioServiceRegion
    repositories: dict[str, Any] | _NotReported = field(default_factory=dict)
    launchers: dict[str, Any] | _NotReported = field(default_factory=dict)
    # Deployment name -> {"env": [EnvVar dicts of its first container], "image": str | None}: the
    # program's patches (check, the pack) or the live, merged objects (verify).
    deployments: dict[str, Any] | _NotReported = field(default_factory=dict)


@dataclass
class Snapshot:
    buckets: list[BucketState] = field(default_factory=list)
    keys: list[KeyState] = field(default_factory=list)
    identities: list[IdentityState] = field(default_factory=list)
    wiring: list[WiringState] = field(default_factory=list)
    name: str = "stack"  # the subject name of stack-wide controls (the request matrix)


@dataclass(frozen=True)
class Expectations:
    """Which optional controls this stack must pass (from its settings and its environment)."""

    require_kms: bool = False
    require_logging: bool = False
    require_notifications: bool = False
    require_versioning: bool = True
    require_identity_perimeter: bool = True
    require_network_perimeter: bool = False
    require_replication: bool = False
    # Namespaces whose artifacts must stay under private/<ns>/ (profileIsolation), and the
    # namespaces whose wiring this stack writes (each must have a pipeline root in the bucket).
    isolated_namespaces: tuple[str, ...] = ()
    wired_namespaces: tuple[str, ...] = ()
    # Where requests come from, for the request matrix: the VPC endpoints in-cluster requests use
    # (the bucket's region, the replica's), and the organization its principals belong to.
    vpc_endpoint_ids: tuple[str, ...] = ()
    replica_vpc_endpoint_ids: tuple[str, ...] = ()
    organization_id: str = ""
    read_legacy_prefix: bool = False  # isolated profiles may still read private/<ns>/ (readLegacyProfilePrefix)
    kfp_version: str = "2.17"  # kubeflowPipelinesVersion: the release whose Deployments the patches merge onto
    # Per-control enforcement (environments.yaml `controls`): control id -> advisory | disabled;
    # every other control is mandatory. `exceptions`: (control, resource, reason), each a reason said.
    control_levels: tuple[tuple[str, str], ...] = ()
    exceptions: tuple[tuple[str, str, str], ...] = ()

    def level(self, control_id: str) -> str:
        return dict(self.control_levels).get(control_id, "mandatory")

    def exception_for(self, control_id: str, resource: str) -> str | None:
        return next((reason for c, r, reason in self.exceptions if c == control_id and r == resource), None)

    def merged(self, other: Expectations) -> Expectations:
        return Expectations(
            require_kms=self.require_kms or other.require_kms,
            require_logging=self.require_logging or other.require_logging,
            require_notifications=self.require_notifications or other.require_notifications,
            require_versioning=self.require_versioning or other.require_versioning,
            require_identity_perimeter=self.require_identity_perimeter or other.require_identity_perimeter,
            require_network_perimeter=self.require_network_perimeter or other.require_network_perimeter,
            require_replication=self.require_replication or other.require_replication,
            isolated_namespaces=tuple(dict.fromkeys(self.isolated_namespaces + other.isolated_namespaces)),
            wired_namespaces=tuple(dict.fromkeys(self.wired_namespaces + other.wired_namespaces)),
            vpc_endpoint_ids=tuple(dict.fromkeys(self.vpc_endpoint_ids + other.vpc_endpoint_ids)),
            replica_vpc_endpoint_ids=tuple(dict.fromkeys(self.replica_vpc_endpoint_ids + other.replica_vpc_endpoint_ids)),
            organization_id=self.organization_id or other.organization_id,
            read_legacy_prefix=self.read_legacy_prefix or other.read_legacy_prefix,
            kfp_version=self.kfp_version,  # the stack's own: a baseline names no release
            control_levels=tuple({**dict(other.control_levels), **dict(self.control_levels)}.items()),
            exceptions=tuple(dict.fromkeys(self.exceptions + other.exceptions)),
        )

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Expectations:
        """From CrossGuard policy config (camelCase keys); absent keys keep the defaults."""
        config = config or {}
        default = cls()
        return cls(
            require_kms=bool(config.get("requireKms", default.require_kms)),
            require_logging=bool(config.get("requireLogging", default.require_logging)),
            require_notifications=bool(config.get("requireNotifications", default.require_notifications)),
            require_versioning=bool(config.get("requireVersioning", default.require_versioning)),
            require_identity_perimeter=bool(config.get("requireIdentityPerimeter", default.require_identity_perimeter)),
            require_network_perimeter=bool(config.get("requireNetworkPerimeter", default.require_network_perimeter)),
            require_replication=bool(config.get("requireReplication", default.require_replication)),
            isolated_namespaces=tuple(config.get("isolatedNamespaces") or ()),
            wired_namespaces=tuple(config.get("wiredNamespaces") or ()),
            vpc_endpoint_ids=tuple(config.get("vpcEndpointIds") or ()),
            replica_vpc_endpoint_ids=tuple(config.get("replicaVpcEndpointIds") or ()),
            organization_id=str(config.get("organizationId") or ""),
            read_legacy_prefix=bool(config.get("readLegacyPrefix", False)),
            kfp_version=str(config.get("kubeflowPipelinesVersion") or default.kfp_version),
            control_levels=tuple(sorted((str(k), str(v)) for k, v in (config.get("controlLevels") or {}).items())),
            exceptions=tuple((str(e["control"]), str(e["resource"]), str(e["reason"])) for e in config.get("exceptions") or []),
        )

    def as_config(self) -> dict[str, Any]:
        return {
            "requireKms": self.require_kms,
            "requireLogging": self.require_logging,
            "requireNotifications": self.require_notifications,
            "requireVersioning": self.require_versioning,
            "requireIdentityPerimeter": self.require_identity_perimeter,
            "requireNetworkPerimeter": self.require_network_perimeter,
            "requireReplication": self.require_replication,
            "isolatedNamespaces": list(self.isolated_namespaces),
            "wiredNamespaces": list(self.wired_namespaces),
            "vpcEndpointIds": list(self.vpc_endpoint_ids),
            "replicaVpcEndpointIds": list(self.replica_vpc_endpoint_ids),
            "organizationId": self.organization_id,
            "readLegacyPrefix": self.read_legacy_prefix,
            "kubeflowPipelinesVersion": self.kfp_version,
            "controlLevels": dict(self.control_levels),
            "exceptions": [{"control": c, "resource": r, "reason": why} for c, r, why in self.exceptions],
        }


def statements(policy: Any) -> list[dict[str, Any]]:
    """A policy document's statements as a list, whatever shape it came in."""
    if not isinstance(policy, dict):
        return []
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in as_list(v) for v in principal.values())
    return False
