"""The request matrix: the requests that really happen to a stack's buckets and keys, each with
the verdict it must get, judged by effect with the evaluator (policy_eval) rather than by
reading statements.

Who sends what (shared/reference/kubeflow-releases.md, iam-effects.md):
- every run identity (a profile's `default-editor`, the kubeflow namespace's runner) uploads
  with NO encryption header (Argo's S3 driver without `encryptionOptions`, the KFP v2 launcher
  and the API server never send one), reads, lists its own prefix; multipart uploads are
  authorised as s3:PutObject; with SSE-KMS, S3 calls KMS for the caller
  (`kms:ViaService = s3.<region>.amazonaws.com`);
- the API server stores pipeline packages; the UI reads;
- S3 replicates as the replication role (a principal of this account, with no aws:SourceVpce);
  S3 server access logs arrive from `logging.s3.amazonaws.com`;
- and what must be refused: another profile's prefix, plain HTTP, TLS < 1.2, SSE-C, another key,
  another account's principal holding s3:*, anonymous requests, the key administrators' use.

Every request carries its context keys explicitly, the same facts the differential test hands
to @cloud-copilot/iam-simulate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components import names

from .checks.key import key_admins
from .matrix_services import log_delivery_rows, replication_rows
from .policy_eval import ANONYMOUS, Request
from .requests import (
    FOREIGN_ACCOUNT,
    KMS_STAR,
    OBJECT,
    S3_STAR,
    Caller,
    NotJudgedError,
    Row,
    StackView,
    object_arn,
    signed_context,
    via_s3_context,
)
from .state import (
    ACCESS_LOGS,
    ARTIFACTS,
    REPLICA,
    UNKNOWN,
    Expectations,
    IdentityState,
    Snapshot,
    _NotReported,
    statements,
)


def _known(value: Any, what: str) -> Any:
    if isinstance(value, _NotReported):
        why = "unknown until the update computes it" if value is UNKNOWN else "not readable or not reported"
        raise NotJudgedError(f"{what}: {why}")
    return value


def _trusted_service_account(identity: IdentityState) -> tuple[str, str] | None:
    for statement in statements(identity.trust_policy):
        for key, value in ((statement.get("Condition") or {}).get("StringEquals") or {}).items():
            if key.endswith(":sub") and str(value).startswith("system:serviceaccount:"):
                _, _, namespace, account = str(value).split(":", 3)
                return namespace, account
    return None


def callers(snapshot: Snapshot, expectations: Expectations) -> list[Caller]:
    """The stack's identities, classified by whom they serve (IRSA trust, service trust, user)."""
    found = []
    for identity in snapshot.identities:
        if identity.not_judged:
            raise NotJudgedError(f"{identity.name}: {identity.not_judged}")
        arn = _known(identity.arn, f"{identity.name} ARN")
        policies = tuple(_known(identity.policies, f"{identity.name} policies"))
        trust = _known(identity.trust_policy, f"{identity.name} trust policy")
        if not arn:
            continue
        bound = _trusted_service_account(identity)
        if ":user/" in arn:
            found.append(Caller(arn, "user", "", "", policies))
        elif bound is None and "s3.amazonaws.com" in str(trust):
            found.append(Caller(arn, "replication", "", "", policies))
        elif bound is not None:
            namespace, account = bound
            isolated = namespace in expectations.isolated_namespaces
            prefix = f"{names.PROFILE_PREFIX_ROOT}/{namespace}/" if isolated else ""
            kind = "ui" if account == names.UI_SERVICE_ACCOUNT else "pipeline" if account == "ml-pipeline" else "runner"
            found.append(Caller(arn, kind, namespace, prefix, policies))
    return found


def _stack(snapshot: Snapshot, expectations: Expectations) -> StackView | None:
    by_role = {b.role: b for b in snapshot.buckets if b.role != ACCESS_LOGS}
    artifacts = by_role.get(ARTIFACTS)
    if artifacts is None:
        return None
    replica = by_role.get(REPLICA)
    # A log bucket serves the bucket of its own region (S3 delivers access logs within a region).
    logs = {str(b.region): b for b in snapshot.buckets if b.role == ACCESS_LOGS}
    for bucket in snapshot.buckets:
        for field in ("arn", "region", "policy", "sse_algorithm", "kms_key_id"):
            _known(getattr(bucket, field), f"{bucket.name} {field}")
    keys: dict[str, Any] = {}
    for key in snapshot.keys:
        keys[str(_known(key.arn, f"{key.name} ARN"))] = _known(key.policy, f"{key.name} policy")
    arns = [str(i.arn) for i in snapshot.identities if isinstance(i.arn, str)] + list(keys)
    account = next((arn.split(":")[4] for arn in arns if arn.count(":") >= 5 and arn.split(":")[4]), "")
    if not account:
        return None
    replica_logs = logs.get(str(replica.region)) if replica is not None else None
    return StackView(account, artifacts, logs.get(str(artifacts.region)), replica, replica_logs, keys, expectations)


def rows(snapshot: Snapshot, expectations: Expectations) -> list[Row]:
    """Every row for this stack; [] when the stack has no artifact bucket or no known account.
    Raises NotJudgedError when a value it needs is unknown."""
    stack = _stack(snapshot, expectations)
    if stack is None:
        return []
    found = callers(snapshot, expectations)
    return list(_rows(stack, found))


def _rows(s: StackView, found: list[Caller]) -> Iterator[Row]:
    b, e, account = s.artifacts, s.expectations, s.account
    region = str(b.region)
    key = str(b.kms_key_id) if b.sse_algorithm == "aws:kms" and b.kms_key_id else None
    endpoints = e.vpc_endpoint_ids

    def s3(row_id: str, caller: str, action: str, resource: str, allowed: bool, policies: tuple[Any, ...], **extra: str) -> Row:
        context = signed_context(caller, caller.split(":")[4], e, endpoints, **extra)
        return Row(row_id, Request(caller, action, resource, account, context), policies, b.policy, allowed)

    def kms(row_id: str, caller: Caller | str, action: str, key_arn: str, allowed: bool, policies: tuple[Any, ...], via: str = "") -> Row:
        arn = caller.arn if isinstance(caller, Caller) else caller
        context = (
            via_s3_context(arn, account, via)
            if via
            else {k: v for k, v in signed_context(arn, account, e, ()).items() if k != "s3:TlsVersion"}
        )
        context["kms:CallerAccount"] = account
        return Row(row_id, Request(arn, action, key_arn, account, context), policies, s.keys.get(key_arn), allowed)

    writers = [c for c in found if c.kind in ("runner", "pipeline", "user")]
    isolated = [c for c in found if c.kind == "runner" and c.prefix]
    neighbours = _neighbours(isolated)
    for c in found:
        who = f"{c.kind} {c.namespace}".strip()
        if c.kind in ("runner", "pipeline", "user"):
            own = c.prefix or ""
            yield s3(f"{who}: upload with no SSE header", c.arn, "s3:PutObject", object_arn(b, own + OBJECT), True, c.policies)
            yield s3(
                f"{who}: Argo archives a log (multipart, no header)",
                c.arn,
                "s3:PutObject",
                object_arn(b, own + "artifacts/wf-1/2026/12/06/pod-1/main.log"),
                True,
                c.policies,
            )
            yield s3(f"{who}: read its artifact", c.arn, "s3:GetObject", object_arn(b, own + OBJECT), True, c.policies)
            yield s3(f"{who}: list its prefix", c.arn, "s3:ListBucket", str(b.arn), True, c.policies, **{"s3:prefix": own + "v2/"})
            if key:
                yield kms(f"{who}: S3 encrypts for it", c, "kms:GenerateDataKey", key, True, c.policies, region)
                yield kms(f"{who}: S3 decrypts for it", c, "kms:Decrypt", key, True, c.policies, region)
                yield kms(f"{who}: decrypt directly, outside S3", c, "kms:Decrypt", key, False, c.policies)
        if c.kind == "pipeline":
            yield s3(
                f"{who}: API server stores a pipeline package", c.arn, "s3:PutObject", object_arn(b, "pipelines/p-1"), True, c.policies
            )
        if c.kind == "ui":
            yield s3(f"{who}: UI reads an artifact", c.arn, "s3:GetObject", object_arn(b, OBJECT), True, c.policies)
            yield s3(f"{who}: UI cannot write", c.arn, "s3:PutObject", object_arn(b, OBJECT), False, c.policies)
            if key:
                yield kms(f"{who}: S3 decrypts for the UI", c, "kms:Decrypt", key, True, c.policies, region)
        for other in neighbours.get(id(c), []):
            theirs = other.prefix + OBJECT
            for action in ("s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:ListMultipartUploadParts", "s3:DeleteObject"):
                yield s3(f"{who}: {action} in {other.namespace}'s prefix", c.arn, action, object_arn(b, theirs), False, c.policies)
            yield s3(
                f"{who}: list {other.namespace}'s prefix",
                c.arn,
                "s3:ListBucket",
                str(b.arn),
                False,
                c.policies,
                **{"s3:prefix": other.prefix},
            )
        if c.kind == "runner" and c.prefix:
            yield s3(f"{who}: list the whole bucket", c.arn, "s3:ListBucket", str(b.arn), False, c.policies, **{"s3:prefix": ""})
            legacy = f"{names.LEGACY_PROFILE_PREFIX_ROOT}/{c.namespace}/"
            readable = e.read_legacy_prefix
            yield s3(f"{who}: read its former prefix", c.arn, "s3:GetObject", object_arn(b, legacy + OBJECT), readable, c.policies)
            yield s3(f"{who}: write into its former prefix", c.arn, "s3:PutObject", object_arn(b, legacy + OBJECT), False, c.policies)
            for other in neighbours.get(id(c), []):
                theirs = f"{names.LEGACY_PROFILE_PREFIX_ROOT}/{other.namespace}/{OBJECT}"
                yield s3(f"{who}: read {other.namespace}'s former prefix", c.arn, "s3:GetObject", object_arn(b, theirs), False, c.policies)
    if writers:
        w = writers[0]
        obj = object_arn(b, w.prefix + OBJECT)
        yield s3("plain HTTP upload", w.arn, "s3:PutObject", obj, False, w.policies, **{"aws:SecureTransport": "false"})
        yield s3("TLS 1.1 read", w.arn, "s3:GetObject", obj, False, w.policies, **{"s3:TlsVersion": "1.1"})
        sse_c = names.HEADER_CUSTOMER_ALGORITHM
        yield s3("SSE-C upload", w.arn, "s3:PutObject", obj, False, w.policies, **{sse_c: "AES256"})
        algorithm = names.HEADER_ALGORITHM
        key_header = names.HEADER_KMS_KEY
        if key:
            yield s3(
                "upload naming the bucket's key", w.arn, "s3:PutObject", obj, True, w.policies, **{algorithm: "aws:kms", key_header: key}
            )
            other_key = key.rsplit("/", 1)[0] + "/0000aaaa-other-key"
            yield s3(
                "upload naming another KMS key",
                w.arn,
                "s3:PutObject",
                obj,
                False,
                w.policies,
                **{algorithm: "aws:kms", key_header: other_key},
            )
            yield s3(
                "upload asking for aws:kms with no key id (aws/s3)", w.arn, "s3:PutObject", obj, False, w.policies, **{algorithm: "aws:kms"}
            )
            yield s3("upload choosing SSE-S3 instead of the key", w.arn, "s3:PutObject", obj, False, w.policies, **{algorithm: "AES256"})
        else:
            yield s3("upload naming SSE-S3", w.arn, "s3:PutObject", obj, True, w.policies, **{algorithm: "AES256"})
            yield s3("upload choosing aws:kms", w.arn, "s3:PutObject", obj, False, w.policies, **{algorithm: "aws:kms"})
        if endpoints:
            yield Row(
                "run identity from outside the VPC endpoints",
                Request(w.arn, "s3:GetObject", obj, account, signed_context(w.arn, account, e, ())),
                w.policies,
                b.policy,
                False,
            )
    foreign = f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/holds-s3-star"
    for action in ("s3:GetObject", "s3:PutObject"):
        yield s3(f"another account's principal with s3:* ({action})", foreign, action, object_arn(b, OBJECT), False, (S3_STAR,))
    yield Row(
        "anonymous read",
        Request(ANONYMOUS, "s3:GetObject", object_arn(b, OBJECT), account, {"aws:SecureTransport": "true"}),
        (),
        b.policy,
        False,
    )
    if key:
        for admin in (a for a in key_admins(s.keys.get(key)) if not a.endswith(":root")):
            yield kms(
                f"key administrator {admin.rsplit('/', 1)[-1]}: S3 decrypts for it", admin, "kms:Decrypt", key, False, (KMS_STAR,), region
            )
            yield kms(f"key administrator {admin.rsplit('/', 1)[-1]}: decrypt directly", admin, "kms:Decrypt", key, False, (KMS_STAR,))
    yield from replication_rows(s, found)
    yield from log_delivery_rows(s)


def _neighbours(isolated: list[Caller]) -> dict[int, list[Caller]]:
    """For each isolated runner (by id), the other profiles it is tried against: every one up to
    ten profiles; beyond, the next and the previous in order (a ring). A role's grants name its own
    prefix only, so a denial against one other prefix stands for all; the ring keeps the matrix
    linear in profiles."""
    count = len(isolated)
    if count <= 10:
        return {id(c): [o for o in isolated if o is not c] for c in isolated}
    return {id(c): [isolated[(i + 1) % count], isolated[i - 1]] for i, c in enumerate(isolated)}


def check_requests(snapshot: Snapshot, expectations: Expectations) -> str | None:
    """The matrix control: every row gets its verdict, else the first rows that do not."""
    wrong = []
    for row in rows(snapshot, expectations):
        decision = row.judge()
        if decision.allowed != row.expect_allowed:
            by = f" by {decision.by}" if decision.by else " (no statement allows it)"
            verdict = f"allowed{by}" if decision.allowed else f"denied{by}"
            wrong.append(f"{row.id}: {verdict}")
    if not wrong:
        return None
    more = f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else ""
    return "; ".join(wrong[:3]) + more
