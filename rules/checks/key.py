"""Checks on the KMS key: alive, rotated, an explicit policy, and its effective result (policy_eval)."""

from __future__ import annotations

from typing import Any

from ..policy_eval import Request, decide
from ..state import (
    KeyState,
    as_list,
    is_everyone,
    statements,
)


def check_rotation(k: KeyState) -> str | None:
    return None if k.rotation_enabled else "automatic key rotation off"


def check_key_alive(k: KeyState) -> str | None:
    if k.key_state == "PendingDeletion":
        return "key is scheduled for deletion"
    if k.enabled is False or k.key_state not in ("Enabled", None):
        return f"key is not enabled ({k.key_state})"
    return None


def check_key_policy(k: KeyState) -> str | None:
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


def _uses_key(k: KeyState, principal: str, account: str, action: str, via: str | None = None) -> bool:
    """Would a principal of the key's account whose IAM policy says kms:* get `action` on this key?"""
    context = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account, "kms:CallerAccount": account}
    if via:
        context["kms:ViaService"] = via
    key_arn = f"arn:{principal.split(':')[1]}:kms:{_key_region(k)}:{account}:key/probe"
    return decide(Request(principal, action, key_arn, account, context), [EVERYTHING_IN_KMS], k.policy).allowed


def _key_region(k: KeyState) -> str:
    via = next((v for s in statements(k.policy) for v in _via_services(s)), "s3.us-east-1.amazonaws.com")
    return via.split(".")[1] if via.count(".") >= 2 else "us-east-1"


def _key_account(k: KeyState) -> str | None:
    for statement in statements(k.policy):
        for arn in _aws_principals(statement):
            if arn.endswith(":root"):
                return arn.split(":")[4]
    return None


def key_admins(policy: Any) -> list[str]:
    """The principals of a key policy's administration statement."""
    return [arn for s in statements(policy) if s.get("Sid") == "AllowKeyAdministration" for arn in _aws_principals(s)]


def check_key_admins(k: KeyState) -> str | None:
    """Effective: an administrator whose IAM policy says kms:* still cannot use the key, directly or through S3."""
    account = _key_account(k)
    region_host = next((str(v) for s in statements(k.policy) for v in _via_services(s)), "s3.amazonaws.com")
    for admin in key_admins(k.policy):
        for action in CRYPTO_PROBES:
            for context in ({}, {"kms:ViaService": region_host}):
                if _uses_key(k, admin, account or "", action, context.get("kms:ViaService")):
                    how = "through S3" if context else "directly"
                    return f"key administrator {admin} with kms:* in IAM can {action} {how}"
    return None


def _via_services(statement: dict[str, Any]) -> list[str]:
    return [str(v) for tests in (statement.get("Condition") or {}).values() for key, v in tests.items() if key == "kms:ViaService"]


def check_use_through_s3(k: KeyState) -> str | None:
    """Effective: a principal of the key's account with kms:* in IAM cannot use the key outside S3."""
    account = _key_account(k)
    if account is None:
        return "no account root statement: cannot tell who may use the key"
    anyone = f"arn:aws:iam::{account}:role/any-role-with-kms-star"
    for action in CRYPTO_PROBES:
        if _uses_key(k, anyone, account, action):
            return f"an IAM principal with kms:* can {action} directly, outside S3 (no Deny on kms:ViaService)"
    return None
