"""Operations: preview, up, refresh, destroy, outputs, promote, pipeline; with their gates.

Talks only to StackLike objects from an opener, so the tests drive it with a double."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pulumi.automation import CommandError, ConcurrentUpdateError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from rules import POLICY_NAMES

from .engine import POLICY_PACK, StackOpener
from .environments import ENVIRONMENTS, Environment, environment, previous, through
from .errors import OperationError, UsageError
from .stackfiles import expectations_for, settings_for

GUARDED_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:kms/key:Key"})
DESTRUCTIVE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "delete"})
QUIET_OPS = frozenset({"same", "read", "refresh"})
LOCK_ATTEMPTS = 5


@dataclass(frozen=True)
class Change:
    op: str
    urn: str
    type: str

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class EventLog:
    """Collects what the engine reports during one operation."""

    changes: list[Change] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    progress: Callable[[str], None] | None = None

    def __call__(self, event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            meta = pre.metadata
            op = getattr(meta.op, "value", meta.op)
            if op not in QUIET_OPS:
                change = Change(op, meta.urn, meta.type)
                self.changes.append(change)
                if self.progress:
                    self.progress(f"  {op:<18} {change.type}  {change.name}")
        policy = getattr(event, "policy_event", None)
        if policy is not None and policy.enforcement_level == "mandatory":
            self.violations.append(f"{policy.policy_name}: {policy.message.strip()}")


@dataclass
class PreviewReport:
    env: str
    summary: dict[str, int]
    changes: list[Change]
    violations: list[str]

    def named(self, ops: frozenset[str]) -> list[str]:
        return sorted({c.name for c in self.changes if c.op in ops})

    def guarded_changes(self) -> list[Change]:
        return [c for c in self.changes if c.type in GUARDED_TYPES and c.op in DESTRUCTIVE_OPS]

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "summary": self.summary,
            "replace": self.named(frozenset({"replace", "create-replacement", "delete-replaced"})),
            "delete": self.named(frozenset({"delete"})),
            "policyViolations": self.violations,
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


def _summary(result: Any) -> dict[str, int]:
    summary = getattr(result, "change_summary", None) or getattr(getattr(result, "summary", None), "resource_changes", None) or {}
    return {getattr(k, "value", k): int(v) for k, v in summary.items()}


class Driver:
    def __init__(
        self,
        open_stack: StackOpener,
        say: Callable[[str], None],
        verify: Callable[[str], int] | None = None,
        verbose: bool = False,
        stream: bool = True,
        lock_wait: Any = None,
        workers: int = 3,
    ) -> None:
        self.open_stack = open_stack
        self.say = say
        self.verify = verify
        self.verbose = verbose
        self.stream = stream
        self.lock_wait = lock_wait if lock_wait is not None else wait_exponential(multiplier=2, max=60)
        self.workers = workers
        self.current_env: str | None = None

    # -- plumbing -----------------------------------------------------------------------------
    def _call(self, env: str, operation: str, **kwargs: Any) -> Any:
        """One CLI operation on stack `env`: lock conflicts retried with backoff, failures reduced."""
        stack = self.open_stack(env)
        retrying = Retrying(
            retry=retry_if_exception_type(ConcurrentUpdateError), stop=stop_after_attempt(LOCK_ATTEMPTS), wait=self.lock_wait, reraise=True
        )
        try:
            return retrying(getattr(stack, operation), **kwargs)
        except ConcurrentUpdateError:
            raise OperationError(
                f"{operation} {env}: stack {env!r} is locked by another update after {LOCK_ATTEMPTS} attempts; "
                f"wait for it to finish, or if none is running: pulumi cancel --stack {env}"
            ) from None
        except CommandError as error:
            raise OperationError(f"{operation} {env} failed:\n{reduce_error(error, self.verbose)}") from None

    def _policy_args(self, env: str) -> dict[str, Any]:
        """The policy pack, with this environment's expectations as its config."""
        expectations = expectations_for(settings_for(env), environment(env)).as_config()
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix=f"policy-{env}-", delete=False) as handle:
            json.dump({name: expectations for name in POLICY_NAMES}, handle)
        return {"policy_packs": [str(POLICY_PACK)], "policy_pack_configs": [handle.name]}

    def _require_yes(self, envs: tuple[Environment, ...] | list[Environment], yes: bool, what: str) -> None:
        protected = [e.name for e in envs if e.protected]
        if protected and not yes:
            raise UsageError(f"--yes: required to {what} protected environment(s) {', '.join(protected)}; nothing was run")

    # -- operations ---------------------------------------------------------------------------
    def preview(self, env: str) -> PreviewReport:
        environment(env)
        settings_for(env)  # invalid config: exit 2 before the CLI runs
        self.current_env = env
        log = EventLog()
        try:
            result = self._call(env, "preview", on_event=log, **self._policy_args(env))
        except OperationError as error:
            if log.violations:
                raise OperationError(f"preview {env}: policy violations:\n  " + "\n  ".join(log.violations)) from None
            raise error
        return PreviewReport(env, _summary(result), log.changes, log.violations)

    def gate(self, report: PreviewReport, allow_replace: bool) -> None:
        if report.violations:
            raise OperationError(f"{report.env}: stopped by policy: " + "; ".join(report.violations))
        guarded = report.guarded_changes()
        if guarded and not allow_replace:
            named = ", ".join(f"{c.op} {c.type} {c.name}" for c in guarded)
            raise OperationError(f"{report.env}: stopped before update: {named} would lose data; rerun with --allow-replace if intended")

    def up(self, env: str, allow_replace: bool = False, yes: bool = False) -> dict[str, Any]:
        self._require_yes([environment(env)], yes, "update")
        report = self.preview(env)
        self.gate(report, allow_replace)
        log = EventLog(progress=self.say if self.stream else None)
        result = self._call(env, "up", on_event=log, show_secrets=False, **self._policy_args(env))
        outcome: dict[str, Any] = {"env": env, "preview": report.as_dict(), "summary": _summary(result)}
        if self.verify is not None:
            outcome["verifyExitCode"] = code = self.verify(env)
            if code:
                raise OperationError(f"{env}: updated, but live verification failed (exit {code})")
        return outcome

    def refresh(self, env: str) -> list[str]:
        """Drift detection without touching state: the resources that changed outside Pulumi."""
        environment(env)
        self.current_env = env
        log = EventLog()
        self._call(env, "refresh", preview_only=True, on_event=log)
        return sorted({f"{c.type} {c.name}" for c in log.changes})

    def outputs(self, env: str, show_secrets: bool = False) -> dict[str, Any]:
        environment(env)
        values = self._call(env, "outputs")
        return {key: value.value if show_secrets or not getattr(value, "secret", False) else "[secret]" for key, value in values.items()}

    def destroy(
        self, env: str, force_empty: bool, object_count: Callable[[str], int], empty_bucket: Callable[[str], None]
    ) -> dict[str, Any]:
        target = environment(env)
        if target.protected:
            raise UsageError(f"--env: destroy is refused for protected environment {env}; unprotect it in code review first")
        bucket = self.outputs(env, show_secrets=False).get("bucketName")
        if bucket and bucket != "[secret]":
            count = object_count(bucket)
            if count and not force_empty:
                raise OperationError(
                    f"destroy {env}: bucket {bucket} still holds {count} object versions; rerun with --force-empty to delete them first"
                )
            if count:
                empty_bucket(bucket)
        self.current_env = env
        result = self._call(env, "destroy")
        return {"env": env, "summary": _summary(result)}

    def promote(self, to: str, allow_replace: bool = False, yes: bool = False) -> dict[str, Any]:
        source = previous(to)
        if source is None:
            raise UsageError(f"--to: {to} is the first environment; nothing to promote from")
        self._require_yes([environment(to)], yes, "promote to")
        drift = self.refresh(source.name)
        if drift:
            raise OperationError(f"promote {to}: source {source.name} is not current (drift: {', '.join(drift)})")
        return self.up(to, allow_replace=allow_replace, yes=yes)

    def pipeline(
        self, through_env: str | None = None, preview_only: bool = False, yes: bool = False, allow_replace: bool = False
    ) -> list[dict[str, Any]]:
        envs = through(through_env) if through_env else ENVIRONMENTS
        if preview_only:
            return self.preview_all(envs)
        self._require_yes(envs, yes, "update")
        results = []
        for env in envs:
            self.say(f"== {env.name}")
            try:
                results.append({**self.up(env.name, allow_replace=allow_replace, yes=yes), "status": "updated"})
            except OperationError as error:
                skipped = [e.name for e in envs[envs.index(env) + 1 :]]
                raise OperationError(f"{error}\npipeline stopped at {env.name}; not updated: {', '.join(skipped) or 'none'}") from None
        return results

    def preview_all(self, envs: tuple[Environment, ...]) -> list[dict[str, Any]]:
        """Previews in parallel (bounded); every result reported, failures included."""
        for env in envs:
            settings_for(env.name)

        def one(env: Environment) -> dict[str, Any]:
            try:
                return {**self.preview(env.name).as_dict(), "status": "ok"}
            except OperationError as error:
                return {"env": env.name, "status": "failed", "error": str(error)}

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(envs)))) as pool:
            return list(pool.map(one, envs))
