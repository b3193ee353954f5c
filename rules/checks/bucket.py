"""Checks on one bucket's state: public access, encryption, TLS, perimeters, logging, replication."""

from __future__ import annotations

from typing import Any

from components import names

from ..policy_eval import Request, decide
from ..state import (
    BucketState,
    as_list,
    is_everyone,
    statements,
)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


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


def check_public_access(b: BucketState) -> str | None:
    flags = b.public_access_block or {}
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if flags.get(flag) is not True]
    return f"public access block flags not on: {', '.join(off)}" if off else None


def check_ownership(b: BucketState) -> str | None:
    return None if b.ownership == "BucketOwnerEnforced" else f"object ownership is {b.ownership or 'unset'}, ACLs stay usable"


def check_encryption(b: BucketState) -> str | None:
    if b.sse_algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
        return "no default encryption"
    return None


def check_no_public_grant(b: BucketState) -> str | None:
    for statement in statements(b.policy):
        if statement.get("Effect") == "Allow" and is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            return f"policy statement {statement.get('Sid', '?')} allows everyone without conditions"
    return None


def check_tls(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:SecureTransport", "Bool"):
        resources = as_list(statement.get("Resource"))
        covers_objects = any(str(r).endswith("/*") for r in resources)
        covers_bucket = any(not str(r).endswith("/*") for r in resources)
        if str(statement["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false" and covers_objects and covers_bucket:
            return None
    return "bucket policy does not deny aws:SecureTransport=false on the bucket and its objects"


def check_tls12(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "s3:TlsVersion", "NumericLessThan"):
        if str(statement["Condition"]["NumericLessThan"]["s3:TlsVersion"]) == "1.2":
            return None
    return "bucket policy does not deny TLS below 1.2"


def check_versioning(b: BucketState) -> str | None:
    return None if b.versioning == "Enabled" else f"versioning is {b.versioning or 'off'}"


def check_lifecycle(b: BucketState) -> str | None:
    enabled = [rule for rule in b.lifecycle_rules or [] if rule.get("status") == "Enabled"]
    if not enabled:
        return "no enabled lifecycle rule"
    if not any(rule.get("abort_days") for rule in enabled):
        return "no lifecycle rule aborts incomplete multipart uploads"
    if b.versioning == "Enabled" and not any(rule.get("noncurrent_days") for rule in enabled):
        return "versioned bucket without noncurrent version expiration"
    return None


def check_kms(b: BucketState) -> str | None:
    if b.sse_algorithm != "aws:kms":
        return f"default encryption is {b.sse_algorithm or 'none'}, not SSE-KMS"
    if not b.kms_key_id:
        return "SSE-KMS without a key ARN"
    if not b.bucket_key_enabled:
        return "S3 bucket key off (every object costs a KMS call)"
    return None


UPLOAD_HEADERS = (names.HEADER_ALGORITHM, names.HEADER_KMS_KEY, names.HEADER_CUSTOMER_ALGORITHM)
PROBE_ACCOUNT = "111111111111"
PROBE_PRINCIPAL = f"arn:aws:iam::{PROBE_ACCOUNT}:role/kubeflow-writer"
PUT_ANYWHERE = {"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}


def _header_statements(policy: Any) -> list[dict[str, Any]]:
    """The statements that test an upload header: the ones this control is about (TLS and the
    perimeter are judged by their own controls and, together, by the request matrix)."""
    return [
        statement
        for statement in statements(policy)
        if any(key in UPLOAD_HEADERS for tests in (statement.get("Condition") or {}).values() for key in tests)
    ]


def upload_probes(algorithm: str, key_arn: str | None) -> list[tuple[str, dict[str, str], bool]]:
    """(what, the headers an upload sends, must it be refused?): the uploads that really happen
    (none of Kubeflow's writers sends a header) and the ones the bucket must refuse."""
    other_algorithm = "AES256" if algorithm == "aws:kms" else "aws:kms"
    probes = [
        ("an upload relying on default encryption (no header, as Kubeflow sends)", {}, False),
        (f"an upload choosing {other_algorithm}", {UPLOAD_HEADERS[0]: other_algorithm}, True),
        ("an SSE-C upload", {UPLOAD_HEADERS[2]: "AES256"}, True),
    ]
    if key_arn:
        probes += [
            (
                "an upload naming another KMS key",
                {UPLOAD_HEADERS[0]: "aws:kms", UPLOAD_HEADERS[1]: key_arn.rsplit("/", 1)[0] + "/other"},
                True,
            ),
            ("an upload asking for aws:kms without a key id (S3 would use aws/s3)", {UPLOAD_HEADERS[0]: "aws:kms"}, True),
        ]
    return probes


def check_upload_headers(b: BucketState) -> str | None:
    """Judged by effect: every upload Kubeflow makes (no header) goes through, every upload that
    picks another algorithm, another key or SSE-C is refused (the evaluator in policy_eval)."""
    if b.sse_algorithm not in ("aws:kms", "AES256"):
        return None  # no default encryption to keep uploads to: KF-S3-04 fails the bucket
    header_policy = {"Statement": _header_statements(b.policy)}
    resources = [str(r) for s in header_policy["Statement"] for r in as_list(s.get("Resource"))]
    objects = next((r for r in resources if r.endswith("/*")), "arn:aws:s3:::bucket/*")
    key_arn = str(b.kms_key_id) if b.sse_algorithm == "aws:kms" and b.kms_key_id else None
    sse_c_blocked = "SSE-C" in (b.blocked_encryption_types or [])
    for what, headers, refused in upload_probes(str(b.sse_algorithm), key_arn):
        if refused and what == "an SSE-C upload" and sse_c_blocked:
            continue  # the bucket itself refuses SSE-C (blocked_encryption_types)
        context = {"aws:PrincipalArn": PROBE_PRINCIPAL, "aws:PrincipalAccount": PROBE_ACCOUNT, "aws:SecureTransport": "true", **headers}
        request = Request(PROBE_PRINCIPAL, "s3:PutObject", objects[:-1] + "v2/artifacts/probe", PROBE_ACCOUNT, context)
        decision = decide(request, [PUT_ANYWHERE], header_policy)
        if refused and decision.allowed:
            return f"{what} is accepted: no Deny refuses it"
        if not refused and not decision.allowed:
            return f"refuses uploads that rely on default encryption: {what} is denied by {decision.by}"
    return None


def check_identity_perimeter(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:PrincipalAccount", "StringNotEqualsIfExists"):
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        exempt = (statement["Condition"].get("BoolIfExists") or {}).get("aws:PrincipalIsAWSService")
        accounts = as_list(statement["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalAccount"])
        if "s3:*" in as_list(statement.get("Action")) and any(r.endswith("/*") for r in resources) and accounts:
            return None if str(exempt).lower() == "false" else "identity perimeter does not exempt AWS services (log delivery, replication)"
    return "bucket policy has no identity perimeter (Deny s3:* to principals outside aws:PrincipalAccount)"


def check_network_perimeter(b: BucketState) -> str | None:
    for statement in _denies(b.policy, "aws:SourceVpce", "StringNotEqualsIfExists"):
        if not (statement["Condition"].get("ArnNotLike") or {}).get("aws:PrincipalArn"):
            return "network perimeter exempts no principal: it locks out the roles that deploy and verify"
        return None
    return "bucket policy has no network perimeter (Deny s3:* outside aws:SourceVpce)"


def check_replication(b: BucketState) -> str | None:
    replication = b.replication or {}
    if replication.get("status") != "Enabled":
        return "cross-region replication off"
    if replication.get("delete_markers") != "Enabled":
        return "delete markers are not replicated"
    if b.sse_algorithm == "aws:kms" and (replication.get("sse_kms_objects") != "Enabled" or not replication.get("replica_kms_key_id")):
        return "SSE-KMS objects are not selected and re-encrypted with a replica key"
    return None


def check_logging(b: BucketState) -> str | None:
    return None if b.logging_target else "server access logging off"


def check_events(b: BucketState) -> str | None:
    return None if b.eventbridge else "no EventBridge notifications"


def check_log_delivery(b: BucketState) -> str | None:
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
