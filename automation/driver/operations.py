"""Operations: preview, up, refresh, destroy, outputs, promote, pipeline; with their gates.

Talks only to StackLike objects from an opener, so the tests drive it with a double that
speaks the engine's event shapes (automation/events.py names the source)."""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi.automation import CommandError, ConcurrentUpdateError, StackNotFoundError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from automation.driver import signals
from automation.driver.engine import POLICY_PACK, StackLike, StackOpener
from automation.driver.events import BUCKET_TYPE, IDENTITY_ROLE_PREFIX, EventLog, PreviewReport, reduce_error, result_summary
from automation.environments import Environment, environment, environments, previous, through
from automation.errors import OperationError, UsageError, VerificationError
from automation.stackfiles import expectations_for, settings_for
from rules import POLICY_NAMES
from rules.crossguard import ADVISORY_POLICY, NOT_JUDGED_POLICY

LOCK_ATTEMPTS = 5


def _pending(deployment: Any) -> list[dict[str, str]]:
    """The state's pending operations (apitype.OperationV2: resource, type), simplified."""
    operations = ((getattr(deployment, "deployment", None) or {}).get("pending_operations")) or []
    return [
        {
            "type": str(op.get("type")),
            "urn": str((op.get("resource") or {}).get("urn")),
            "resourceType": str((op.get("resource") or {}).get("type")),
        }
        for op in operations
    ]


class Driver:
    def __init__(
        self,
        open_stack: StackOpener,
        say: Callable[[str], None],
        preflight: Callable[[str], None],
        verify: Callable[[str], int] | None = None,
        object_count: Callable[[str, str], int] | None = None,
        empty_bucket: Callable[[str, str], None] | None = None,
        verbose: bool = False,
        stream: bool = True,
        lock_wait: Any = None,
        workers: int = 3,
    ) -> None:
        self.open_stack = open_stack
        self.say = say
        self.preflight = preflight
        self.verify = verify
        # Live bucket reads (boto3 in the CLI): the non-empty-bucket gate and destroy --force-empty.
        self.object_count = object_count
        self.empty_bucket = empty_bucket
        self.verbose = verbose
        self.stream = stream
        self.lock_wait = lock_wait if lock_wait is not None else wait_exponential(multiplier=2, max=60)
        self.workers = workers
        self._stacks: dict[str, StackLike] = {}
        self._open_lock = threading.Lock()
        self._running: list[str] = []
        self.pipeline_results: list[dict[str, Any]] = []  # per environment, as far as the pipeline got
        self._interrupted: list[str] = []
        self._running_lock = threading.Lock()

    @property
    def current_env(self) -> str | None:
        """The environment(s) an operation is running on right now (for the interrupt message)."""
        with self._running_lock:
            return ", ".join(dict.fromkeys(self._running + self._interrupted)) or None

    # -- plumbing -----------------------------------------------------------------------------
    def _stack(self, env: str, create: bool = False) -> StackLike:
        """Each stack is selected (or created) once, one at a time: `stack select` writes the
        workspace's current-stack file, so it must never run concurrently (pulumi/pulumi#8186).
        Every later operation passes `--stack NAME` and selects nothing."""
        with self._open_lock:
            if env not in self._stacks:
                self._stacks[env] = self.open_stack(env, create)
            return self._stacks[env]

    def _call(self, env: str, operation: str, **kwargs: Any) -> Any:
        """One CLI operation on stack `env` (opened before, or selected now: never created here):
        lock conflicts retried with backoff, failures reduced."""
        stack = self._existing(env)
        retrying = Retrying(
            retry=retry_if_exception_type(ConcurrentUpdateError), stop=stop_after_attempt(LOCK_ATTEMPTS), wait=self.lock_wait, reraise=True
        )
        with self._running_lock:
            self._running.append(env)
        try:
            return retrying(getattr(stack, operation), **kwargs)
        except ConcurrentUpdateError:
            raise OperationError(
                f"{operation} {env}: stack {env!r} is locked by another update after {LOCK_ATTEMPTS} attempts; "
                f"wait for it to finish, or if none is running: pulumi cancel --stack {env}"
            ) from None
        except CommandError as error:
            if signals.interrupted:  # cancelled by a forwarded SIGTERM/Ctrl-C: the CLI names it
                self._interrupted.append(env)
            raise OperationError(f"{operation} {env} failed:\n{reduce_error(error, self.verbose)}") from None
        except KeyboardInterrupt:
            self._interrupted.append(env)  # the CLI's message names it after the stack unwound
            raise
        finally:
            with self._running_lock:
                self._running.remove(env)

    def _existing(self, env: str) -> StackLike:
        try:
            return self._stack(env, create=False)
        except StackNotFoundError:
            raise OperationError(f"{env}: no stack {env!r} yet; `up --env {env}` creates it (previews never create stacks)") from None

    def _policy_args(self, env: str) -> dict[str, Any]:
        """The policy pack, with this environment's expectations as its config."""
        expectations = expectations_for(settings_for(env), environment(env)).as_config()
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix=f"policy-{env}-", delete=False) as handle:
            json.dump({name: expectations for name in (*POLICY_NAMES, ADVISORY_POLICY, NOT_JUDGED_POLICY)}, handle)
        return {"policy_packs": [str(POLICY_PACK)], "policy_pack_configs": [handle.name]}

    def _require_yes(self, envs: tuple[Environment, ...] | list[Environment], yes: bool, what: str) -> None:
        protected = [e.name for e in envs if e.protected]
        if protected and not yes:
            raise UsageError(f"--yes: required to {what} protected environment(s) {', '.join(protected)}; nothing was run")

    # -- operations ---------------------------------------------------------------------------
    def preview(self, env: str, refresh: bool = False) -> PreviewReport:
        environment(env)
        settings_for(env)  # invalid config: exit 2 before the CLI runs
        log = EventLog()
        try:
            result = self._call(env, "preview", on_event=log, refresh=refresh or None, **self._policy_args(env))
        except OperationError as error:
            if log.violations:
                raise OperationError(f"preview {env}: policy violations:\n  " + "\n  ".join(log.violations)) from None
            raise error
        report = PreviewReport(env, result_summary(result), log.changes, log.violations, log.not_judged)
        for line in log.advisories:
            self.say(f"  {env}: advisory (not blocking here, environments.yaml): {line}")
        for line in report.not_judged:
            self.say(f"  {env}: not judged at preview (unknown until the update; judged offline before it): {line}")
        return report

    def gate(self, report: PreviewReport, allow_replace: bool, allow_profile_changes: bool = False) -> None:
        if report.violations:
            raise OperationError(f"{report.env}: stopped by policy: " + "; ".join(report.violations))
        guarded = report.guarded_changes()
        for change in guarded:
            if change.type != BUCKET_TYPE:
                continue
            # Fail closed: a bucket that cannot be named or counted is treated as holding data.
            if not change.old_id:
                raise OperationError(
                    f"{report.env}: refused: {change.op} of bucket {change.urn}: the engine did not name the bucket, so its objects "
                    "cannot be counted; no flag lifts this. Run `preview --refresh` and retry, or pin the bucket with bucketName"
                )
            if self.object_count is None:
                raise OperationError(
                    f"{report.env}: refused: {change.op} of bucket {change.old_id} ({change.urn}): its objects cannot be counted "
                    "without live AWS access; no flag lifts this. Run the driver with the stack's AWS credentials"
                )
            count = self.object_count(report.env, change.old_id)  # an uncountable bucket raises: refused
            if count:  # no flag lifts this: the history would be lost or left unhardened
                raise OperationError(
                    f"{report.env}: refused: {change.op} of bucket {change.old_id}, which holds {count} object versions. "
                    f"Keep it: set bucketName: {change.old_id} in Pulumi.{report.env}.yaml (the same name does not replace), "
                    f"or adoptBucket: {change.old_id} (README: adopting a bucket)"
                )
        if guarded and not allow_replace:
            named = ", ".join(f"{c.op} {c.type} {c.name}" for c in guarded)
            raise OperationError(f"{report.env}: stopped before update: {named} would lose data; rerun with --allow-replace if intended")
        removed = report.removed_identities(IDENTITY_ROLE_PREFIX)
        if removed and not allow_profile_changes:
            raise OperationError(
                f"{report.env}: stopped before update: the IAM roles of {', '.join(removed)} would be deleted while their pods may "
                "still run (a profile namespace removed or profileServiceAccount changed); rerun with --allow-profile-changes if intended"
            )

    def up(
        self, env: str, allow_replace: bool = False, yes: bool = False, allow_profile_changes: bool = False, refresh: bool = False
    ) -> dict[str, Any]:
        self._require_yes([environment(env)], yes, "update")
        self.preflight(env)
        return self._update(env, allow_replace, allow_profile_changes, refresh)

    def repair(self, env: str, yes: bool = False) -> dict[str, Any]:
        """After an interrupted update: list the pending operations the state holds, clear them with
        a refresh (`--clear-pending-creates`: a create that may have happened is dropped from the
        state, and named so it can be checked by hand), and show that none remain."""
        self._require_yes([environment(env)], yes, "repair")
        pending = _pending(self._call(env, "export_stack"))
        if not pending:
            return {"env": env, "pending": [], "cleared": [], "summary": "nothing to repair: no pending operations"}
        for operation in pending:
            self.say(f"  pending {operation['type']:<8} {operation['resourceType']}  {operation['urn'].rsplit('::', 1)[-1]}")
        self._call(env, "refresh", clear_pending_creates=True, on_event=EventLog())
        remaining = _pending(self._call(env, "export_stack"))
        if remaining:
            raise OperationError(f"repair {env}: {len(remaining)} pending operations remain after the refresh; see `pulumi stack export`")
        creates = [p for p in pending if p["type"] == "creating"]
        note = (
            "; check by hand whether these were created and, if so, import or delete them: "
            + ", ".join(f"{p['resourceType']} {p['urn'].rsplit('::', 1)[-1]}" for p in creates)
            if creates
            else ""
        )
        return {"env": env, "pending": pending, "cleared": pending, "summary": f"cleared {len(pending)} pending operations{note}"}

    def _update(self, env: str, allow_replace: bool, allow_profile_changes: bool = False, refresh: bool = False) -> dict[str, Any]:
        """Preview, gates, update, verify; the caller has run the preflight. Only an update creates
        a stack (with its environment's secrets provider). `refresh`: read the live state first, so
        the update reverts manual edits and recreates what was deleted outside Pulumi."""
        self._stack(env, create=True)
        report = self.preview(env, refresh=refresh)
        self.gate(report, allow_replace, allow_profile_changes)
        log = EventLog(progress=self.say if self.stream else None)
        result = self._call(env, "up", on_event=log, show_secrets=False, refresh=refresh or None, **self._policy_args(env))
        outcome: dict[str, Any] = {"env": env, "preview": report.as_dict(), "summary": result_summary(result)}
        if self.verify is None:
            outcome["verify"] = "skipped"
        else:
            verdict = self.verify(env)
            code, failures = (verdict, ()) if isinstance(verdict, int) else (verdict.exit_code, tuple(verdict.failures))
            outcome["verifyExitCode"], outcome["verifyFailures"] = code, list(failures)
            outcome["verify"] = "passed" if not code else "failed"
            if code:
                for line in failures:  # what failed, before the one-line summary (and in --json)
                    self.say(f"  {env}: verify: {line}")
                raise VerificationError(f"{env}: updated, but live verification failed (exit {code})", list(failures))
        return outcome

    def refresh(self, env: str) -> list[str]:
        """Drift, without touching state: a preview refresh, read from the outputs events' result
        ops and the summary (the pre-events all say `refresh`)."""
        environment(env)
        log = EventLog()
        result = self._call(env, "preview_refresh", on_event=log)
        if not log.summary:
            log.summary = result_summary(result)
        return log.drift()

    def require_deployed(self, env: str, why: str) -> None:
        """The stack exists (never created here) and has at least one successful update."""
        try:
            stack = self._stack(env, create=False)
        except StackNotFoundError:
            raise OperationError(f"{why}: {env} was never deployed (no stack {env!r}); run `up --env {env}` first") from None
        history = self._call(env, "history", show_secrets=False)
        if not any(entry.kind == "update" and entry.result == "succeeded" for entry in history):
            raise OperationError(f"{why}: {env} was never deployed (no successful update in the history of stack {stack.name!r})")

    def outputs(self, env: str, show_secrets: bool = False) -> dict[str, Any]:
        environment(env)
        values = self._call(env, "outputs")
        return {key: value.value if show_secrets or not getattr(value, "secret", False) else "[secret]" for key, value in values.items()}

    def destroy(self, env: str, force_empty: bool) -> dict[str, Any]:
        target = environment(env)
        if self.object_count is None or self.empty_bucket is None:
            raise UsageError("destroy: needs live bucket access to check for objects")
        object_count, empty_bucket = self.object_count, self.empty_bucket
        if target.protected:
            raise UsageError(f"--env: destroy is refused for protected environment {env}; unprotect it in code review first")
        outputs = self.outputs(env, show_secrets=False)
        buckets = [b for b in (outputs.get("bucketName"), outputs.get("logBucketName")) if b and b != "[secret]"]
        counts = {bucket: object_count(env, bucket) for bucket in buckets}
        full = {bucket: n for bucket, n in counts.items() if n}
        if full and not force_empty:
            named = ", ".join(f"{bucket} holds {n} object versions" for bucket, n in full.items())
            raise OperationError(f"destroy {env}: {named}; rerun with --force-empty to delete them first")
        for bucket in full:
            empty_bucket(env, bucket)
        if outputs.get("logBucketName") in full:
            self.say(
                f"note: S3 may still deliver access logs into {outputs['logBucketName']} for a while; destroy retries fail until it stops"
            )
        result = self._call(env, "destroy")
        return {"env": env, "emptied": sorted(full), "summary": result_summary(result)}

    def promote(self, to: str, allow_replace: bool = False, yes: bool = False, allow_profile_changes: bool = False) -> dict[str, Any]:
        source = previous(to)
        if source is None:
            raise UsageError(f"--to: {to} is the first environment; nothing to promote from")
        self._require_yes([environment(to)], yes, "promote to")
        why = f"promote {to}"
        self.require_deployed(source.name, why)
        drift = self.refresh(source.name)
        if drift:
            raise OperationError(f"{why}: source {source.name} has drifted: {'; '.join(drift)}")
        return self.up(to, allow_replace=allow_replace, yes=yes, allow_profile_changes=allow_profile_changes)

    def pipeline(
        self,
        through_env: str | None = None,
        preview_only: bool = False,
        yes: bool = False,
        allow_replace: bool = False,
        allow_profile_changes: bool = False,
    ) -> list[dict[str, Any]]:
        envs = through(through_env) if through_env else environments()
        if preview_only:
            return self.preview_all(envs)
        self._require_yes(envs, yes, "update")
        for env in envs:  # every environment's binding and rules before the first change
            self.preflight(env.name)
        self.pipeline_results = results = []
        for env in envs:
            self.say(f"== {env.name}")
            started = time.monotonic()
            try:
                outcome = self._update(env.name, allow_replace, allow_profile_changes)
                results.append({**outcome, "status": "updated", "seconds": round(time.monotonic() - started, 1)})
            except OperationError as error:
                results.append({"env": env.name, "status": "failed", "seconds": round(time.monotonic() - started, 1), "error": str(error)})
                skipped = [e.name for e in envs[envs.index(env) + 1 :]]
                results += [{"env": name, "status": "not run"} for name in skipped]
                raise OperationError(f"{error}\npipeline stopped at {env.name}; not updated: {', '.join(skipped) or 'none'}") from None
        return results

    def preview_all(self, envs: tuple[Environment, ...]) -> list[dict[str, Any]]:
        """Previews in parallel (bounded); stacks are opened first, one after another."""
        for env in envs:
            settings_for(env.name)
        for env in envs:  # opened one after another; a missing stack is reported by its preview
            with contextlib.suppress(StackNotFoundError):
                self._stack(env.name, create=False)

        def one(env: Environment) -> dict[str, Any]:
            try:
                return {**self.preview(env.name).as_dict(), "status": "ok"}
            except OperationError as error:
                return {"env": env.name, "status": "failed", "error": str(error)}

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(envs)))) as pool:
            return list(pool.map(one, envs))
