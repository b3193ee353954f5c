"""The effect of a KMS key policy together with an identity policy, for one request.

Follows AWS's evaluation logic for a same-account request to a KMS key ("Determining access to
an AWS KMS key" in the KMS developer guide; "Policy evaluation logic" in the IAM user guide):
an explicit Deny in either policy wins; otherwise the request is allowed when the key policy
allows the principal itself, or when the key policy's account-root statement delegates to IAM
and the principal's identity policy allows the action. Condition operators: the String*, Arn*,
Bool and Null families with ...IfExists; a key missing from the request makes a negated operator
true and a positive one false, and any ...IfExists true. Resources are not modelled (a key policy
names `*`, meaning this key)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .state import as_list, statements


@dataclass(frozen=True)
class Request:
    principal_arn: str
    account_id: str
    action: str
    context: Mapping[str, str] = field(default_factory=dict)  # e.g. {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}


def _matches(pattern: str, value: str, case: bool = False) -> bool:
    return fnmatch.fnmatchcase(value, pattern) if case else fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base == "Null":
        return (key not in context) == (str(expected).lower() == "true")
    if key not in context:
        return if_exists or base.startswith(("StringNot", "ArnNot"))
    actual, values = context[key], [str(v) for v in as_list(expected)]
    tests = {
        "StringEquals": lambda: actual in values,
        "StringNotEquals": lambda: actual not in values,
        "StringLike": lambda: any(_matches(v, actual, case=True) for v in values),
        "StringNotLike": lambda: not any(_matches(v, actual, case=True) for v in values),
        "ArnEquals": lambda: actual in values,
        "ArnLike": lambda: any(_matches(v, actual, case=True) for v in values),
        "ArnNotEquals": lambda: actual not in values,
        "ArnNotLike": lambda: not any(_matches(v, actual, case=True) for v in values),
        "Bool": lambda: actual.lower() in [v.lower() for v in values],
    }
    if base not in tests:
        raise ValueError(f"condition operator {operator} is not modelled")
    return tests[base]()


def _applies(statement: dict[str, Any], request: Request, principal: str | None) -> bool:
    """Action and conditions match; `principal` (key policies) must be named, or '*'."""
    if not any(_matches(str(a), request.action) for a in as_list(statement.get("Action"))):
        return False
    if principal is not None:
        named = statement.get("Principal")
        names = ["*"] if named == "*" else [str(p) for p in as_list((named or {}).get("AWS"))]
        if "*" not in names and principal not in names:
            return False
    context = {"aws:PrincipalArn": request.principal_arn, "kms:CallerAccount": request.account_id, **request.context}
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, tests in (statement.get("Condition") or {}).items()
        for key, expected in tests.items()
    )


def allowed(key_policy: Any, identity_policy: Any, request: Request) -> bool:
    root = f"arn:{request.principal_arn.split(':')[1]}:iam::{request.account_id}:root"
    for document, principal in ((key_policy, request.principal_arn), (identity_policy, None)):
        for statement in statements(document):
            if statement.get("Effect") == "Deny" and _applies(statement, request, principal):
                return False
    key_allows = any(s.get("Effect") == "Allow" and _applies(s, request, request.principal_arn) for s in statements(key_policy))
    delegated = any(
        s.get("Effect") == "Allow" and _applies(s, request, root) and root in str(s.get("Principal")) for s in statements(key_policy)
    )
    iam_allows = any(s.get("Effect") == "Allow" and _applies(s, request, None) for s in statements(identity_policy))
    return key_allows or (delegated and iam_allows)
