"""What the engine reports during one operation, read from its event stream.

The shapes are the engine's (pulumi/pulumi pkg/engine/update.go, events.go): every step sends a
ResourcePreEvent carrying the step's op, and on success a ResOutputsEvent. For a refresh the
pre-event's op is always `refresh`; the result (`same`, `update`, `delete`: RefreshStep.ResultOp)
is only in the outputs event and in the closing SummaryEvent's counts. Drift is read from those."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.names import STORE_NAME
from rules.crossguard import ADVISORY_POLICY, NOT_JUDGED_POLICY

BUCKET_TYPE = "aws:s3/bucket:Bucket"
GUARDED_TYPES = frozenset({BUCKET_TYPE, "aws:kms/key:Key"})
ROLE_TYPE = "aws:iam/role:Role"
DESTRUCTIVE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "delete"})
REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
QUIET_OPS = frozenset({"same", "read", "refresh"})
DRIFT_OPS = frozenset({"update", "delete"})
# Kubeflow identities' role resources: KubeflowAccess "<store>-access" names them "<store>-access-<ns>-<sa>".
IDENTITY_ROLE_PREFIX = f"{STORE_NAME}-access-"
# pulumi-policy's note when a policy read an unknown value at preview (pulumi_policy/policy.py).
UNJUDGED_NOTE = "during preview"


def op_of(metadata: Any) -> str:
    return str(getattr(metadata.op, "value", metadata.op))


@dataclass(frozen=True)
class Change:
    op: str
    urn: str
    type: str
    diffs: tuple[str, ...] = ()
    old_id: str = ""  # the provider ID before the step (a bucket's name), for replaces and deletes

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def describe(self) -> str:
        changed = f" ({', '.join(self.diffs)})" if self.diffs else ""
        return f"{self.type} {self.name}: {'deleted outside Pulumi' if self.op == 'delete' else 'changed'}{changed}"


@dataclass
class EventLog:
    """Collects one operation's changes, refresh results, policy findings and summary."""

    changes: list[Change] = field(default_factory=list)
    refreshed: list[Change] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)
    advisories: list[str] = field(default_factory=list)  # advisory controls and excepted resources, with their reasons
    summary: dict[str, int] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None

    def __call__(self, event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            op = op_of(pre.metadata)
            if op not in QUIET_OPS:
                old = getattr(pre.metadata, "old", None)
                change = Change(op, pre.metadata.urn, pre.metadata.type, old_id=str(getattr(old, "id", "") or ""))
                self.changes.append(change)
                if self.progress:
                    self.progress(f"  {op:<18} {change.type}  {change.name}")
        outputs = getattr(event, "res_outputs_event", None)
        if outputs is not None:
            meta = outputs.metadata
            self.refreshed.append(Change(op_of(meta), meta.urn, meta.type, tuple(getattr(meta, "diffs", None) or ())))
        summary = getattr(event, "summary_event", None)
        if summary is not None:
            self.summary = {str(getattr(k, "value", k)): int(v) for k, v in (summary.resource_changes or {}).items()}
        policy = getattr(event, "policy_event", None)
        if policy is not None:
            message = f"{policy.policy_name}: {policy.message.strip()}"
            if policy.enforcement_level == "mandatory":
                self.violations.append(message)
            elif policy.policy_name == NOT_JUDGED_POLICY or UNJUDGED_NOTE in policy.message:
                self.not_judged.append(policy.message.strip())
            elif policy.policy_name == ADVISORY_POLICY:
                self.advisories.append(policy.message.strip())

    def drift(self) -> list[str]:
        """Resources a refresh found changed or gone, named; counted ones the engine did not name."""
        named = sorted({c.describe() for c in self.refreshed if c.op in DRIFT_OPS})
        counted = sum(self.summary.get(op, 0) for op in DRIFT_OPS)
        if counted > len(named):
            named.append(f"{counted - len(named)} more resource(s) changed outside Pulumi (counted in the summary, not named)")
        return named


@dataclass
class PreviewReport:
    env: str
    summary: dict[str, int]
    changes: list[Change]
    violations: list[str]
    not_judged: list[str] = field(default_factory=list)

    def named(self, ops: frozenset[str]) -> list[str]:
        return sorted({c.name for c in self.changes if c.op in ops})

    def guarded_changes(self) -> list[Change]:
        return [c for c in self.changes if c.type in GUARDED_TYPES and c.op in DESTRUCTIVE_OPS]

    def removed_identities(self, prefix: str) -> list[str]:
        """Kubeflow IAM roles (named `<prefix><namespace>-<serviceaccount>`) the update would delete
        or replace: a profile namespace removed, or profileServiceAccount changed."""
        return sorted(
            {
                c.name.removeprefix(prefix)
                for c in self.changes
                if c.type == ROLE_TYPE and c.op in DESTRUCTIVE_OPS and c.name.startswith(prefix)
            }
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "summary": self.summary,
            "replace": self.named(REPLACE_OPS),
            "delete": self.named(frozenset({"delete"})),
            "identitiesRemoved": self.removed_identities(IDENTITY_ROLE_PREFIX),
            "policyViolations": self.violations,
            "notJudgedAtPreview": self.not_judged,
        }


def reduce_error(error: Exception, verbose: bool = False) -> str:
    """The meaningful lines of a CLI failure; all of it with --verbose."""
    text = str(error)
    if verbose:
        return text
    lines = [re.sub(r"^\s*(code|stdout|stderr):\s*", "", line).strip() for line in text.splitlines()]
    keep = [line for line in lines if re.search(r"\berror\b|mandatory|violat|refused|locked", line, re.IGNORECASE)]
    keep = list(dict.fromkeys(keep)) or [line for line in lines if line][-3:]
    return "\n".join(keep[:10])


def result_summary(result: Any) -> dict[str, int]:
    summary = getattr(result, "change_summary", None) or getattr(getattr(result, "summary", None), "resource_changes", None) or {}
    return {str(getattr(k, "value", k)): int(v) for k, v in summary.items()}
