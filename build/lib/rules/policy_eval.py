"""The effect of IAM policies on one request: Allowed, ExplicitlyDenied or ImplicitlyDenied.

AWS's evaluation logic ("Policy evaluation logic" and "Cross-account policy evaluation logic" in
the IAM User Guide; "Determining access to an AWS KMS key" in the KMS Developer Guide):
- an explicit Deny in any policy that applies (identity, resource, permissions boundary) wins;
- same account: an Allow in the identity policies (within the boundary) or a resource-policy Allow
  naming the principal itself is enough; a resource policy naming the account root only delegates
  to IAM;
- another account: the resource policy must allow the principal (or its account) AND the identity
  policies must allow;
- KMS: on a key, the key policy must allow, directly or through the account-root statement that
  delegates to IAM; an identity policy alone never opens a key (aliases and CreateKey: IAM alone);
- unsigned (anonymous) requests and AWS service principals are judged by the resource policy alone.

Conditions (the "Condition operators" reference): String*, Numeric*, Bool, Arn*, IpAddress, Null,
each with ...IfExists, and the ForAnyValue:/ForAllValues: set prefixes. A key absent from the
request makes a plain operator false, a negated operator (StringNotEquals, ArnNotLike, ...) true
and any ...IfExists operator true; `Null: true` holds only when the key is absent. The request's
context carries every key explicitly (aws:PrincipalArn, aws:SecureTransport, ...), exactly as the
differential test hands it to @cloud-copilot/iam-simulate: the two evaluators see the same facts."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .state import as_list, statements

ALLOWED = "Allowed"
EXPLICITLY_DENIED = "ExplicitlyDenied"
IMPLICITLY_DENIED = "ImplicitlyDenied"
ANONYMOUS = "anonymous"  # an unsigned request


class NotModelledError(ValueError):
    """A policy element this evaluator does not model: never guessed, always raised."""


@dataclass(frozen=True)
class Request:
    """One request: who (an IAM ARN, a service principal such as `logging.s3.amazonaws.com`, or
    ANONYMOUS), what, on which resource (and the account that owns it), with which context keys."""

    principal: str
    action: str
    resource: str
    resource_account: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    @property
    def principal_account(self) -> str:
        parts = self.principal.split(":")
        return parts[4] if self.principal.startswith("arn:") and len(parts) > 4 else ""


@dataclass(frozen=True)
class Decision:
    result: str
    by: str = ""  # the Sid (or position) of the statement that decided: the Deny, or an Allow

    @property
    def allowed(self) -> bool:
        return self.result == ALLOWED


@lru_cache(maxsize=4096)
def _glob(pattern: str, case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one; nothing else is special."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", re.DOTALL if case else re.DOTALL | re.IGNORECASE)


def _like(pattern: str, value: str, case: bool = True) -> bool:
    return _glob(pattern, case).match(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts is matched separately."""
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(_like(w, a) for w, a in zip(wanted, actual, strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _ip_in(network: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


# Positive base operators: (request value, policy value) -> match. The negated ones are `not any`.
_MATCHERS = {
    "StringEquals": lambda actual, wanted: actual == wanted,
    "StringEqualsIgnoreCase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "StringLike": lambda actual, wanted: _like(wanted, actual),
    "ArnEquals": lambda actual, wanted: actual == wanted,
    "ArnLike": lambda actual, wanted: _arn_like(wanted, actual),
    "Bool": lambda actual, wanted: actual.lower() == wanted.lower(),
    "IpAddress": lambda actual, wanted: _ip_in(wanted, actual),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
    "NumericNotEquals": "NumericEquals",
}
_NUMERIC = {
    "NumericEquals": lambda a, b: a == b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}


def _one_value_matches(base: str, actual: str, wanted: list[str]) -> bool:
    """Does one request value satisfy `base` (positive or negated) against the policy's values?"""
    positive = _NEGATED.get(base, base)
    if positive in _NUMERIC:
        number = _number(actual)
        hit = number is not None and any((w := _number(v)) is not None and _NUMERIC[positive](number, w) for v in wanted)
    elif positive in _MATCHERS:
        hit = any(_MATCHERS[positive](actual, v) for v in wanted)
    else:
        raise NotModelledError(f"condition operator {base} is not modelled")
    return not hit if base in _NEGATED else hit


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str | Sequence[str]]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(expected)]
    present = key in context and as_list(context[key]) != []
    values = [str(v) for v in as_list(context.get(key))]
    if base == "Null":
        return (not present) == (wanted[0].lower() == "true")
    if qualifier == "ForAllValues":
        return all(_one_value_matches(base, v, wanted) for v in values)  # absent or empty: true
    if qualifier == "ForAnyValue":
        return any(_one_value_matches(base, v, wanted) for v in values)  # absent or empty: false
    if qualifier:
        raise NotModelledError(f"condition set operator {qualifier} is not modelled")
    if not present:
        return if_exists or base in _NEGATED
    return any(_one_value_matches(base, v, wanted) for v in values)


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, str | Sequence[str]]) -> bool:
    return all(
        condition_holds(operator, key, expected, context)
        for operator, tests in (statement.get("Condition") or {}).items()
        for key, expected in tests.items()
    )


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_like(str(a), action, case=False) for a in as_list(statement["NotAction"]))
    return any(_like(str(a), action, case=False) for a in as_list(statement.get("Action")))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_like(str(r), resource) for r in as_list(statement["NotResource"]))
    if "Resource" not in statement:
        return True  # resource policies may leave it out: the resource they are attached to
    return any(_like(str(r), resource) for r in as_list(statement["Resource"]))


DIRECT, VIA_ACCOUNT = "direct", "account"


def _principal_match(statement: Mapping[str, Any], request: Request) -> str | None:
    """How a resource-policy statement names the caller: DIRECT (itself, '*', its service),
    VIA_ACCOUNT (its account root: a delegation to IAM), or None."""
    if "NotPrincipal" in statement:
        raise NotModelledError("NotPrincipal is not modelled")
    named = statement.get("Principal")
    if named == "*":
        return DIRECT
    if not isinstance(named, Mapping):
        return None
    caller, account = request.principal, request.principal_account
    for kind, values in named.items():
        for value in (str(v) for v in as_list(values)):
            if value == "*" and (kind == "AWS" or caller == ANONYMOUS):
                return DIRECT
            if kind == "AWS" and account and value in (account, f"arn:{caller.split(':')[1]}:iam::{account}:root"):
                return VIA_ACCOUNT
            if value == caller or (kind == "AWS" and _session_of(caller) == value):
                return DIRECT
    return None


def _session_of(principal: str) -> str:
    """arn:aws:sts::A:assumed-role/R/session -> arn:aws:iam::A:role/R (a role's session is the role)."""
    parts = principal.split(":")
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return ""


def _label(statement: Mapping[str, Any], index: int, where: str) -> str:
    return str(statement.get("Sid") or f"{where} statement {index}")


def _matching(
    documents: Iterable[Any], request: Request, effect: str, where: str, resource_policy: bool = False
) -> list[tuple[str, str | None]]:
    """(label, principal match) of the statements with `effect` that apply to the request."""
    found = []
    for document in documents:
        for index, statement in enumerate(statements(document)):
            if statement.get("Effect") != effect or not _action_matches(statement, request.action):
                continue
            if not _resource_matches(statement, request.resource):
                continue
            match = _principal_match(statement, request) if resource_policy else None
            if resource_policy and match is None:
                continue
            if _conditions_hold(statement, request.context):
                found.append((_label(statement, index, where), match))
    return found


def decide(
    request: Request,
    identity_policies: Sequence[Any] = (),
    resource_policy: Any = None,
    boundary: Any = None,
) -> Decision:
    """The verdict AWS gives `request` under these policies (no SCPs, RCPs or session policies)."""
    signed_iam = request.principal.startswith("arn:")
    identity = list(identity_policies) if signed_iam else []
    boundaries = [boundary] if signed_iam and boundary is not None else []
    resource = [resource_policy] if resource_policy is not None else []
    for documents, where, is_resource in ((resource, "resource", True), (identity, "identity", False), (boundaries, "boundary", False)):
        denies = _matching(documents, request, "Deny", where, is_resource)
        if denies:
            return Decision(EXPLICITLY_DENIED, denies[0][0])
    identity_allows = _matching(identity, request, "Allow", "identity")
    within_boundary = not boundaries or bool(_matching(boundaries, request, "Allow", "boundary"))
    resource_allows = _matching(resource, request, "Allow", "resource", resource_policy=True)
    direct = [label for label, how in resource_allows if how == DIRECT]
    via_account = [label for label, how in resource_allows if how == VIA_ACCOUNT]
    iam_ok = bool(identity_allows) and within_boundary
    if not signed_iam:
        return Decision(ALLOWED, direct[0]) if direct else Decision(IMPLICITLY_DENIED)
    same_account = request.principal_account == request.resource_account
    kms = request.action.lower().startswith("kms:") and ":key/" in request.resource  # aliases and CreateKey: IAM alone
    if same_account and not kms:
        if iam_ok:
            return Decision(ALLOWED, identity_allows[0][0])
        if direct and within_boundary:
            return Decision(ALLOWED, direct[0])
        return Decision(IMPLICITLY_DENIED)
    if same_account:  # KMS: the key policy decides, directly or by delegating to IAM
        if direct and within_boundary:
            return Decision(ALLOWED, direct[0])
        if via_account and iam_ok:
            return Decision(ALLOWED, via_account[0])
        return Decision(IMPLICITLY_DENIED)
    if (direct or via_account) and iam_ok:
        return Decision(ALLOWED, (direct or via_account)[0])
    return Decision(IMPLICITLY_DENIED)
