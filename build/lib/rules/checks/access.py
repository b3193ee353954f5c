"""Checks on Kubeflow's identities (least privilege, trust, profile isolation) and its wiring."""

from __future__ import annotations

from typing import Any

from components import names

from ..state import (
    Expectations,
    IdentityState,
    WiringState,
    as_list,
    statements,
)


def check_least_privilege(i: IdentityState) -> str | None:
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


def check_irsa_trust(i: IdentityState) -> str | None:
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


def check_wiring_targets(w: WiringState) -> str | None:
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


def check_pipeline_roots(w: WiringState, expectations: Expectations) -> str | None:
    """Every namespace the stack wires has a root in the bucket; isolated ones under private-artifacts/<ns>/."""
    for namespace in expectations.wired_namespaces:
        launcher = w.launchers.get(namespace) if isinstance(w.launchers, dict) else None
        repository = w.repositories.get(namespace) if isinstance(w.repositories, dict) else None
        if not launcher or not repository:
            return f"namespace {namespace} has no {'kfp-launcher' if not launcher else 'Argo artifact repository'}"
        if namespace in expectations.isolated_namespaces:
            prefix = f"{names.PROFILE_PREFIX_ROOT}/{namespace}/"
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


def check_isolation(i: IdentityState, expectations: Expectations) -> str | None:
    """An isolated profile's identity reaches objects only under its prefix (and reads, never
    writes, its former prefix), and lists only there."""
    namespace = _profile_namespace(i)
    if namespace not in expectations.isolated_namespaces:
        return None
    prefix = f"{names.PROFILE_PREFIX_ROOT}/{namespace}/"
    legacy = f"{names.LEGACY_PROFILE_PREFIX_ROOT}/{namespace}/"
    for document in i.policies:  # type: ignore[union-attr]
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = {str(a) for a in as_list(statement.get("Action"))}
            read_only = actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
            own = (prefix, legacy) if read_only else (prefix,)
            for resource in as_list(statement.get("Resource")):
                resource = str(resource)
                if ":s3:::" in resource and "/" in resource and not any("/" + p in resource for p in own):
                    return f"{namespace}: {', '.join(sorted(actions))} on {resource}, outside {prefix}"
            if "s3:ListBucket" in actions:
                allowed = (statement.get("Condition") or {}).get("StringLike", {}).get("s3:prefix")
                if not allowed or not all(str(p).startswith(own) for p in as_list(allowed)):
                    return f"{namespace}: s3:ListBucket without an s3:prefix condition inside {prefix}"
    return None
