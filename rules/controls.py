"""Every security control, defined once: id, title, severity, benchmark ids, and a check.

A check returns None when the state satisfies the control, or a one-line reason when it
does not. Checks never see NOT_REPORTED: `evaluate` answers those before calling them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .policy_eval import Request, allowed
from .state import (
    ACCESS_LOGS,
    ARTIFACTS,
    REPLICA,
    BucketState,
    Expectations,
    IdentityState,
    KeyState,
    WiringState,
    as_list,
    is_everyone,
    statements,
)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
OPERATORS_IF_EXISTS = "StringNotEqualsIfExists"


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


def _denies(policy: Any, condition_key: str, operator: str | None = None) -> list[dict[str, Any]]:
    """Deny-to-everyone statements whose condition tests `condition_key`."""
    found = []
    for statement in statements(policy):
        if statement.get("Effect") != "Deny" or not is_everyone(statement.get("Principal")):
            continue
        for op, tests in (statement.get("Condition") or {}).items():
            if condition_key in tests and (operator is None or op == operator):
                found.append(statement)
    return found


def _check_public_access(b: BucketState) -> str | None:
    flags = b.public_access_block or {}
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if flags.get(flag) is not True]
    return f"public access block flags not on: {', '.join(off)}" if off else None


def _check_ownership(b: BucketState) -> str | None:
    return None if b.ownership == "BucketOwnerEnforced" else f"object ownership is {b.ownership or 'unset'}, ACLs stay usable"


def _check_encryption(b: BucketState) -> str | None:
    if b.sse_algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
        return "no default encryption"
    return None


def _check_no_public_grant(b: BucketState) -> str | None:
    for statement in statements(b.policy):
        if statement.get("Effect") == "Allow" and is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            return f"policy statement {statement.get('Sid', '?')} allows everyone without conditions"
    return None


def _check_tls(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:SecureTransport", "Bool"):
        resources = as_list(statement.get("Resource"))
        covers_objects = any(str(r).endswith("/*") for r in resources)
        covers_bucket = any(not str(r).endswith("/*") for r in resources)
        if str(statement["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false" and covers_objects and covers_bucket:
            return None
    return "bucket policy does not deny aws:SecureTransport=false on the bucket and its objects"


def _check_tls12(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "s3:TlsVersion", "NumericLessThan"):
        if str(statement["Condition"]["NumericLessThan"]["s3:TlsVersion"]) == "1.2":
            return None
    return "bucket policy does not deny TLS below 1.2"


def _check_versioning(b: BucketState) -> str | None:
    return None if b.versioning == "Enabled" else f"versioning is {b.versioning or 'off'}"


def _check_lifecycle(b: BucketState) -> str | None:
    enabled = [rule for rule in b.lifecycle_rules or [] if rule.get("status") == "Enabled"]
    if not enabled:
        return "no enabled lifecycle rule"
    if not any(rule.get("abort_days") for rule in enabled):
        return "no lifecycle rule aborts incomplete multipart uploads"
    if b.versioning == "Enabled" and not any(rule.get("noncurrent_days") for rule in enabled):
        return "versioned bucket without noncurrent version expiration"
    return None


def _check_kms(b: BucketState) -> str | None:
    if b.sse_algorithm != "aws:kms":
        return f"default encryption is {b.sse_algorithm or 'none'}, not SSE-KMS"
    if not b.kms_key_id:
        return "SSE-KMS without a key ARN"
    if not b.bucket_key_enabled:
        return "S3 bucket key off (every object costs a KMS call)"
    return None


def _check_upload_headers(b: BucketState) -> str | None:
    """Uploads cannot pick another algorithm, another key or SSE-C, and default encryption keeps working."""
    for statement in statements(b.policy):
        if statement.get("Effect") == "Deny" and "StringNotEquals" in (statement.get("Condition") or {}):
            tests = statement["Condition"]["StringNotEquals"]
            if any(key.startswith("s3:x-amz-server-side-encryption") for key in tests):
                return f"statement {statement.get('Sid', '?')} uses StringNotEquals: uploads without a header are refused"
    if not _denies(b.policy, "s3:x-amz-server-side-encryption", OPERATORS_IF_EXISTS):
        return "bucket policy lets uploads choose another encryption algorithm"
    if b.sse_algorithm == "aws:kms" and not _denies(b.policy, "s3:x-amz-server-side-encryption-aws-kms-key-id", OPERATORS_IF_EXISTS):
        return "bucket policy lets uploads choose another KMS key"
    sse_c_blocked = "SSE-C" in (b.blocked_encryption_types or [])
    if not sse_c_blocked and not _denies(b.policy, "s3:x-amz-server-side-encryption-customer-algorithm", "Null"):
        return "SSE-C uploads are not refused"
    return None


def _check_identity_perimeter(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:PrincipalAccount", "StringNotEqualsIfExists"):
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        exempt = (statement["Condition"].get("BoolIfExists") or {}).get("aws:PrincipalIsAWSService")
        accounts = as_list(statement["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalAccount"])
        if "s3:*" in as_list(statement.get("Action")) and any(r.endswith("/*") for r in resources) and accounts:
            return None if str(exempt).lower() == "false" else "identity perimeter does not exempt AWS services (log delivery, replication)"
    return "bucket policy has no identity perimeter (Deny s3:* to principals outside aws:PrincipalAccount)"


def _check_network_perimeter(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:SourceVpce", "StringNotEqualsIfExists"):
        if not (statement["Condition"].get("ArnNotLike") or {}).get("aws:PrincipalArn"):
            return "network perimeter exempts no principal: it locks out the roles that deploy and verify"
        return None
    return "bucket policy has no network perimeter (Deny s3:* outside aws:SourceVpce)"


def _check_replication(b: BucketState) -> str | None:
    replication = b.replication or {}
    if replication.get("status") != "Enabled":
        return "cross-region replication off"
    if replication.get("delete_markers") != "Enabled":
        return "delete markers are not replicated"
    if b.sse_algorithm == "aws:kms" and (replication.get("sse_kms_objects") != "Enabled" or not replication.get("replica_kms_key_id")):
        return "SSE-KMS objects are not selected and re-encrypted with a replica key"
    return None


def _check_logging(b: BucketState) -> str | None:
    return None if b.logging_target else "server access logging off"


def _check_events(b: BucketState) -> str | None:
    return None if b.eventbridge else "no EventBridge notifications"


def _check_log_delivery(b: BucketState) -> str | None:
    if b.sse_algorithm != "AES256":
        return "log bucket must use SSE-S3: S3 cannot deliver access logs into an SSE-KMS bucket"
    for statement in statements(b.policy):
        principal = statement.get("Principal") or {}
        if statement.get("Effect") == "Allow" and "logging.s3.amazonaws.com" in as_list(
            principal.get("Service") if isinstance(principal, dict) else None
        ):
            tests = {key for op in (statement.get("Condition") or {}).values() for key in op}
            if {"aws:SourceAccount", "aws:SourceArn"} <= tests:
                return None
            return "log delivery grant lacks aws:SourceAccount and aws:SourceArn conditions"
    return "no policy grant for logging.s3.amazonaws.com"


def _check_rotation(k: KeyState) -> str | None:
    return None if k.rotation_enabled else "automatic key rotation off"


def _check_key_alive(k: KeyState) -> str | None:
    if k.key_state == "PendingDeletion":
        return "key is scheduled for deletion"
    if k.enabled is False or k.key_state not in ("Enabled", None):
        return f"key is not enabled ({k.key_state})"
    return None


def _check_key_policy(k: KeyState) -> str | None:
    if not statements(k.policy):
        return "no explicit key policy"
    if k.bypass_lockout_check:
        return "policy lockout safety check bypassed"
    for statement in statements(k.policy):
        if statement.get("Effect") == "Allow" and is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            return f"statement {statement.get('Sid', '?')} allows everyone without conditions"
    if not any(arn.endswith(":root") for s in statements(k.policy) for arn in _aws_principals(s)):
        return "account root statement missing: the key can become unmanageable"
    return None


def _aws_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    return [str(p) for p in as_list(principal.get("AWS"))] if isinstance(principal, dict) else []


# An identity policy as broad as a platform administrator's: the worst case IAM can add.
EVERYTHING_IN_KMS = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
CRYPTO_PROBES = ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom")


def _key_account(k: KeyState) -> str | None:
    for statement in statements(k.policy):
        for arn in _aws_principals(statement):
            if arn.endswith(":root"):
                return arn.split(":")[4]
    return None


def _admins(k: KeyState) -> list[str]:
    return [arn for s in statements(k.policy) if s.get("Sid") == "AllowKeyAdministration" for arn in _aws_principals(s)]


def _check_key_admins(k: KeyState) -> str | None:
    """Effective: an administrator whose IAM policy says kms:* still cannot use the key, directly or through S3."""
    account = _key_account(k)
    region_host = next((str(v) for s in statements(k.policy) for v in _via_services(s)), "s3.amazonaws.com")
    for admin in _admins(k):
        for action in CRYPTO_PROBES:
            for context in ({}, {"kms:ViaService": region_host}):
                if allowed(k.policy, EVERYTHING_IN_KMS, Request(admin, account or "", action, context)):
                    how = "through S3" if context else "directly"
                    return f"key administrator {admin} with kms:* in IAM can {action} {how}"
    return None


def _via_services(statement: dict[str, Any]) -> list[str]:
    return [str(v) for tests in (statement.get("Condition") or {}).values() for key, v in tests.items() if key == "kms:ViaService"]


def _check_use_through_s3(k: KeyState) -> str | None:
    """Effective: a principal of the key's account with kms:* in IAM cannot use the key outside S3."""
    account = _key_account(k)
    if account is None:
        return "no account root statement: cannot tell who may use the key"
    anyone = f"arn:aws:iam::{account}:role/any-role-with-kms-star"
    for action in CRYPTO_PROBES:
        if allowed(k.policy, EVERYTHING_IN_KMS, Request(anyone, account, action)):
            return f"an IAM principal with kms:* can {action} directly, outside S3 (no Deny on kms:ViaService)"
    return None


def _check_least_privilege(i: IdentityState) -> str | None:
    for document in i.policies:
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in as_list(statement.get("Action"))]
            wild = [a for a in actions if a == "*" or a.endswith(":*")]
            if wild or statement.get("NotAction"):
                return f"allows wildcard actions {wild or 'NotAction'}"
            if "*" in as_list(statement.get("Resource")) or statement.get("NotResource"):
                return f"allows {', '.join(actions)} on every resource"
    return None


def _check_irsa_trust(i: IdentityState) -> str | None:
    if i.trust_policy is None:
        return None  # an IAM user (static mode): no trust policy to judge
    for statement in statements(i.trust_policy):
        tests = (statement.get("Condition") or {}).get("StringEquals", {})
        principal = statement.get("Principal") or {}
        if isinstance(principal, dict) and "Service" in principal:
            # A service role (S3 replication): only for this account's resources (confused deputy).
            if "aws:SourceAccount" not in tests:
                return "service trust without an aws:SourceAccount condition"
            continue
        if not any(key.endswith(":sub") for key in tests) or not any(key.endswith(":aud") for key in tests):
            return "trust policy does not pin both the ServiceAccount (sub) and audience (aud)"
    return None


def _s3_host(host: Any, region: Any) -> bool:
    suffix = ".amazonaws.com.cn" if str(region).startswith("cn-") else ".amazonaws.com"
    return isinstance(host, str) and host.startswith("s3") and host.endswith(suffix) and "/" not in host and ":" not in host


def _check_wiring_targets(w: WiringState) -> str | None:
    """Argo and KFP point at this bucket, over TLS, in its region, through an S3 host."""
    for namespace, repository in sorted(w.repositories.items()):  # type: ignore[union-attr]
        s3 = (repository or {}).get("s3") or {}
        where = f"Argo repository in {namespace}"
        if s3.get("bucket") != w.bucket:
            return f"{where} names bucket {s3.get('bucket')!r}, not {w.bucket!r}"
        if s3.get("insecure") is not False:
            return f"{where} does not set insecure: false (plain HTTP)"
        if s3.get("region") != w.region or not _s3_host(s3.get("endpoint"), w.region):
            return f"{where}: endpoint {s3.get('endpoint')!r} / region {s3.get('region')!r} are not S3 in {w.region}"
    for namespace, launcher in sorted(w.launchers.items()):  # type: ignore[union-attr]
        default = (((launcher or {}).get("providers") or {}).get("s3") or {}).get("default") or {}
        where = f"kfp-launcher in {namespace}"
        if not str((launcher or {}).get("defaultPipelineRoot", "")).startswith(f"s3://{w.bucket}/"):
            return f"{where}: pipeline root {(launcher or {}).get('defaultPipelineRoot')!r} is not in bucket {w.bucket!r}"
        if default.get("disableSSL") is not False:
            return f"{where}: providers.s3.default.disableSSL is not false"
        if default.get("region") != w.region or not _s3_host(default.get("endpoint"), w.region):
            return f"{where}: endpoint {default.get('endpoint')!r} / region {default.get('region')!r} are not S3 in {w.region}"
    return None


def _check_pipeline_roots(w: WiringState, expectations: Expectations) -> str | None:
    """Every namespace the stack wires has a root in the bucket; isolated ones under private/<ns>/."""
    for namespace in expectations.wired_namespaces:
        launcher = w.launchers.get(namespace) if isinstance(w.launchers, dict) else None
        repository = w.repositories.get(namespace) if isinstance(w.repositories, dict) else None
        if not launcher or not repository:
            return f"namespace {namespace} has no {'kfp-launcher' if not launcher else 'Argo artifact repository'}"
        if namespace in expectations.isolated_namespaces:
            prefix = f"private/{namespace}/"
            if not str(launcher.get("defaultPipelineRoot", "")).startswith(f"s3://{w.bucket}/{prefix}"):
                return f"namespace {namespace}: pipeline root {launcher.get('defaultPipelineRoot')!r} is outside {prefix}"
            if not str(((repository or {}).get("s3") or {}).get("keyFormat", "")).startswith(prefix):
                return f"namespace {namespace}: Argo keyFormat is outside {prefix}"
    return None


def _profile_namespace(identity: IdentityState) -> str | None:
    for statement in statements(identity.trust_policy):
        for key, value in ((statement.get("Condition") or {}).get("StringEquals") or {}).items():
            if key.endswith(":sub") and str(value).startswith("system:serviceaccount:"):
                return str(value).split(":")[2]
    return None


def _check_isolation(i: IdentityState, expectations: Expectations) -> str | None:
    """An isolated profile's identity reaches objects only under its prefix, and lists only there."""
    namespace = _profile_namespace(i)
    if namespace not in expectations.isolated_namespaces:
        return None
    prefix = f"private/{namespace}/"
    for document in i.policies:  # type: ignore[union-attr]
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = {str(a) for a in as_list(statement.get("Action"))}
            for resource in as_list(statement.get("Resource")):
                resource = str(resource)
                if ":s3:::" in resource and "/" in resource and "/" + prefix not in resource:
                    return f"{namespace}: {', '.join(sorted(actions))} on {resource}, outside {prefix}"
            if "s3:ListBucket" in actions:
                allowed = (statement.get("Condition") or {}).get("StringLike", {}).get("s3:prefix")
                if not allowed or not all(str(p).startswith(prefix) for p in as_list(allowed)):
                    return f"{namespace}: s3:ListBucket without an s3:prefix condition inside {prefix}"
    return None


CONTROLS: tuple[Control, ...] = (
    Control(
        "KF-S3-01",
        "Public access block: all four flags on",
        "high",
        ("S3.8", "S3.1", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"),
        "bucket",
        ("public_access_block",),
        _check_public_access,
    ),
    Control(
        "KF-S3-02", "No public read or write through policy or ACL", "high", ("S3.2", "S3.3"), "bucket", ("policy",), _check_no_public_grant
    ),
    Control(
        "KF-S3-03",
        "ACLs disabled (ownership BucketOwnerEnforced)",
        "medium",
        ("S3.12", "CKV2_AWS_65"),
        "bucket",
        ("ownership",),
        _check_ownership,
    ),
    Control("KF-S3-04", "Default encryption at rest", "high", ("CKV_AWS_19",), "bucket", ("sse_algorithm",), _check_encryption),
    Control("KF-S3-05", "Bucket policy denies requests without TLS", "high", ("S3.5", "CIS 2.1.1"), "bucket", ("policy",), _check_tls),
    Control("KF-S3-06", "Bucket policy denies TLS below 1.2", "medium", (), "bucket", ("policy",), _check_tls12),
    Control(
        "KF-S3-07",
        "Versioning enabled",
        "medium",
        ("S3.14", "CKV_AWS_21"),
        "bucket",
        ("versioning",),
        _check_versioning,
        required=lambda e: e.require_versioning,
    ),
    Control(
        "KF-S3-08",
        "Lifecycle: abort incomplete uploads, expire noncurrent versions",
        "low",
        ("S3.10", "S3.13", "CKV2_AWS_61", "CKV_AWS_300"),
        "bucket",
        ("lifecycle_rules", "versioning"),
        _check_lifecycle,
    ),
    Control(
        "KF-S3-09",
        "SSE-KMS with a customer key and bucket key",
        "medium",
        ("S3.17", "CKV_AWS_145"),
        "data-bucket",
        ("sse_algorithm", "kms_key_id", "bucket_key_enabled"),
        _check_kms,
        required=lambda e: e.require_kms,
    ),
    Control(
        "KF-S3-10",
        "Uploads cannot choose another algorithm, key or SSE-C",
        "medium",
        (),
        "data-bucket",
        ("policy", "sse_algorithm", "blocked_encryption_types"),
        _check_upload_headers,
    ),
    Control(
        "KF-S3-11",
        "Server access logging on",
        "medium",
        ("S3.9", "CKV_AWS_18"),
        "artifact-bucket",
        ("logging_target",),
        _check_logging,
        required=lambda e: e.require_logging,
    ),
    Control(
        "KF-S3-12",
        "Event notifications to EventBridge",
        "low",
        ("CKV2_AWS_62",),
        "artifact-bucket",
        ("eventbridge",),
        _check_events,
        required=lambda e: e.require_notifications,
    ),
    Control(
        "KF-S3-13",
        "Log bucket: SSE-S3 and a conditioned delivery grant",
        "medium",
        (),
        "log-bucket",
        ("sse_algorithm", "policy"),
        _check_log_delivery,
    ),
    Control(
        "KF-S3-14",
        "Identity perimeter: only this account's (or trusted) principals reach the bucket",
        "high",
        (),
        "bucket",
        ("policy",),
        _check_identity_perimeter,
        required=lambda e: e.require_identity_perimeter,
    ),
    Control(
        "KF-S3-15",
        "Network perimeter: requests only through the allowed VPC endpoints",
        "medium",
        (),
        "bucket",
        ("policy",),
        _check_network_perimeter,
        required=lambda e: e.require_network_perimeter,
    ),
    Control(
        "KF-S3-16",
        "Cross-region replication of every object and delete marker, re-encrypted with a replica key",
        "medium",
        ("CKV_AWS_144",),
        "artifact-bucket",
        ("replication", "sse_algorithm"),
        _check_replication,
        required=lambda e: e.require_replication,
    ),
    Control(
        "KF-KMS-01",
        "Key enabled and not scheduled for deletion",
        "high",
        ("KMS.3", "CKV_AWS_227"),
        "key",
        ("enabled", "key_state"),
        _check_key_alive,
    ),
    Control("KF-KMS-02", "Automatic key rotation on", "medium", ("KMS.4", "CKV_AWS_7"), "key", ("rotation_enabled",), _check_rotation),
    Control(
        "KF-KMS-03",
        "Explicit key policy, root kept, no public principal",
        "high",
        ("KMS.5", "CKV_AWS_33", "CKV2_AWS_64"),
        "key",
        ("policy", "bypass_lockout_check"),
        _check_key_policy,
    ),
    Control("KF-KMS-04", "Key administrators cannot use the key (effective policy)", "medium", (), "key", ("policy",), _check_key_admins),
    Control(
        "KF-KMS-05",
        "Cryptographic use only through S3, whatever IAM grants (effective policy)",
        "high",
        (),
        "key",
        ("policy",),
        _check_use_through_s3,
    ),
    Control(
        "KF-IAM-01",
        "Kubeflow identities: no wildcard action or resource",
        "high",
        ("KMS.1", "KMS.2", "CKV_AWS_63", "CKV_AWS_355"),
        "identity",
        ("policies",),
        _check_least_privilege,
    ),
    Control(
        "KF-IAM-02",
        "Role trust pinned: IRSA to one ServiceAccount and audience, a service to this account",
        "high",
        (),
        "identity",
        ("trust_policy",),
        _check_irsa_trust,
    ),
    Control(
        "KF-IAM-03",
        "Profile isolation: no profile identity reaches another profile's prefix",
        "high",
        (),
        "identity",
        ("policies", "trust_policy"),
        _check_isolation,
        uses_expectations=True,
    ),
    Control(
        "KF-K8S-01",
        "Argo and KFP point at this bucket over TLS, in its region",
        "high",
        (),
        "wiring",
        ("bucket", "region", "repositories", "launchers"),
        _check_wiring_targets,
    ),
    Control(
        "KF-K8S-02",
        "Every wired namespace has a pipeline root in the bucket (its own prefix when isolated)",
        "medium",
        (),
        "wiring",
        ("bucket", "repositories", "launchers"),
        _check_pipeline_roots,
        uses_expectations=True,
    ),
)

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
