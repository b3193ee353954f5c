"""A double of `pulumi.automation.Stack` that answers as the Pulumi CLI and engine do.

Events are built as the JSON the CLI writes to its event log and parsed with the SDK's own
`EngineEvent.from_json`, as `Stack._setup_event_log` does. Their shapes follow the engine
(pulumi/pulumi pkg/engine/update.go, OnResourceStepPre/Post and previewActions; events.go):
- every step sends a resourcePreEvent with the step's op; on success a resOutputsEvent;
- for a refresh the pre-event's op is always `refresh`; the outputs event carries
  RefreshStep.ResultOp() (`same`, `update`, `delete`) and the summary counts by that op;
- the summaryEvent closes every operation; `preview_refresh` takes its change summary from it,
  `up` returns the summary of the update it recorded in the stack's history.
Opening a stack: `create=False` on a missing stack raises StackNotFoundError, as `select_stack`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pulumi.automation import CommandResult, OutputValue, StackNotFoundError
from pulumi.automation.errors import create_command_error
from pulumi.automation.events import EngineEvent


@dataclass
class UpdateEntry:
    """An entry of `pulumi stack history` (pulumi.automation.UpdateSummary's fields we read)."""

    kind: str
    result: str


@dataclass
class Result:
    change_summary: dict[str, int] | None = None
    summary: Any = None


@dataclass
class World:
    """Everything the double's stacks know: existing stacks, plans, live drift, history, failures."""

    stacks: set[str] = field(default_factory=set)
    # env -> [(op, urn, type)] or [(op, urn, type, old id)]: the old state's ID rides on replaces and deletes
    plans: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    state: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # env -> [(urn, type)] in state
    drift: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = field(default_factory=dict)  # env -> urn -> (result op, diffs)
    history: dict[str, list[UpdateEntry]] = field(default_factory=dict)
    policy: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[tuple[str, str], Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, OutputValue]] = field(default_factory=dict)
    # env -> the state's pending_operations (apitype.OperationV2 as `pulumi stack export` writes them)
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    opens: list[tuple[str, bool, float, float]] = field(default_factory=list)
    delay: float = 0.0
    open_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, env: str, create: bool) -> FakeStack:
        started = time.monotonic()
        time.sleep(self.open_delay)  # `pulumi stack select` takes a while; overlapping opens show here
        with self.lock:
            if env not in self.stacks:
                if not create:
                    self.opens.append((env, create, started, time.monotonic()))
                    raise StackNotFoundError(CommandResult("", f"error: no stack named '{env}' found", 255))
                self.stacks.add(env)
            self.opens.append((env, create, started, time.monotonic()))
        return FakeStack(env, self)

    def ops(self, env: str | None = None) -> list[tuple[str, str]]:
        return [(e, op) for e, op, _ in self.calls if env is None or e == env]


# The CLI's messages for a locked stack (pkg/backend: httpstate 409, diy lock file), which the SDK's
# create_command_error classifies as ConcurrentUpdateError.
LOCKED_SERVICE = "error: [409] Conflict: Another update is currently in progress."
LOCKED_DIY = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file"


def locked(message: str = LOCKED_DIY) -> Exception:
    return create_command_error(CommandResult("", message, 255))


def _event(sequence: int, **payload: Any) -> EngineEvent:
    return EngineEvent.from_json({"sequence": sequence, "timestamp": int(time.time()), **payload})


def _metadata(op: str, urn: str, type_: str, diffs: tuple[str, ...] = (), old_id: str = "") -> dict[str, Any]:
    metadata: dict[str, Any] = {"op": op, "urn": urn, "type": type_, "provider": "", "diffs": list(diffs) or None}
    if old_id:  # StepEventStateMetadata of the resource before the step (engine: makeStepEventStateMetadata)
        metadata["old"] = {
            "type": type_,
            "urn": urn,
            "id": old_id,
            "custom": True,
            "delete": False,
            "protect": False,
            "inputs": {},
            "outputs": {},
        }
    return metadata


class FakeStack:
    def __init__(self, name: str, world: World) -> None:
        self.name, self.world = name, world

    def _start(self, operation: str, kwargs: dict[str, Any]) -> None:
        self.world.calls.append((self.name, operation, kwargs))
        failure = self.world.failures.get((self.name, operation))
        if isinstance(failure, list):
            if failure:
                raise failure.pop(0)
        elif failure is not None:
            raise failure

    def _emit(self, operation: str, kwargs: dict[str, Any], steps: list[tuple[Any, ...]], planning: bool) -> dict[str, int]:
        """steps: (pre op, result op, urn, type, diffs[, old id]); returns the summary's counts."""
        on_event = kwargs.get("on_event") or (lambda event: None)
        sequence = 0
        counts: Counter[str] = Counter()
        for pre_op, result_op, urn, type_, diffs, *old in steps:
            sequence += 1
            on_event(
                _event(
                    sequence, resourcePreEvent={"metadata": _metadata(pre_op, urn, type_, old_id=(old or [""])[0]), "planning": planning}
                )
            )
            sequence += 1
            on_event(_event(sequence, resOutputsEvent={"metadata": _metadata(result_op, urn, type_, diffs), "planning": planning}))
            counts[result_op] += 1
        policies = self.world.policy.get((self.name, operation), [])
        for policy in policies:
            sequence += 1
            on_event(_event(sequence, policyEvent=policy))
        if any(p.get("enforcementLevel") == "mandatory" for p in policies):
            # The CLI ends a run with a mandatory violation as a failure (exit 255) after the events:
            # built with the SDK's own classifier, as the Automation API raises it.
            verb = "preview" if planning else "update"
            raise create_command_error(CommandResult("", f"error: {verb} failed", 255))
        time.sleep(self.world.delay)
        sequence += 1
        on_event(_event(sequence, summaryEvent={"maybeCorrupt": False, "durationSeconds": 0, "resourceChanges": dict(counts)}))
        return dict(counts)

    def _plan_steps(self) -> list[tuple[Any, ...]]:
        """A replace or delete carries the resource's `old` state, as the engine's steps do
        (makeStepEventStateMetadata); its id is `<name>-id` unless the plan names one, or None
        for a step the engine reports without it."""
        steps = []
        for op, urn, type_, *given in self.world.plans.get(self.name, []):
            old_id = given[0] if given else (f"{urn.rsplit('::', 1)[-1]}-id" if op in ("replace", "delete") else "")
            steps.append((op, op, urn, type_, (), *([old_id] if old_id else [])))
        return steps

    def preview(self, **kwargs: Any) -> Result:
        self._start("preview", kwargs)
        return Result(change_summary=self._emit("preview", kwargs, self._plan_steps(), planning=True))

    def up(self, **kwargs: Any) -> Result:
        self._start("up", kwargs)
        counts = self._emit("up", kwargs, self._plan_steps(), planning=False)
        self.world.history.setdefault(self.name, []).insert(0, UpdateEntry("update", "succeeded"))
        return Result(summary=type("UpdateSummary", (), {"resource_changes": counts})())

    def preview_refresh(self, **kwargs: Any) -> Result:
        self._start("preview_refresh", kwargs)
        drift = self.world.drift.get(self.name, {})
        steps = [("refresh", *drift.get(urn, ("same", ())), urn, type_) for urn, type_ in self.world.state.get(self.name, [])]
        steps = [(pre, result, urn, type_, diffs) for pre, result, diffs, urn, type_ in steps]
        return Result(change_summary=self._emit("preview_refresh", kwargs, steps, planning=True))

    def export_stack(self) -> Any:
        self._start("export_stack", {})
        deployment = {"resources": [], "pending_operations": list(self.world.pending.get(self.name, []))}
        return type("Deployment", (), {"version": 3, "deployment": deployment})()

    def refresh(self, **kwargs: Any) -> Result:
        """`pulumi refresh --clear-pending-creates` drops pending creates; a refresh settles the others."""
        self._start("refresh", kwargs)
        if kwargs.get("clear_pending_creates"):
            self.world.pending[self.name] = []
        else:
            self.world.pending[self.name] = [op for op in self.world.pending.get(self.name, []) if op["type"] == "creating"]
        return Result(summary=type("UpdateSummary", (), {"resource_changes": {"same": 1}})())

    def destroy(self, **kwargs: Any) -> Result:
        self._start("destroy", kwargs)
        return Result(summary=type("UpdateSummary", (), {"resource_changes": {"delete": 1}})())

    def history(self, **kwargs: Any) -> list[UpdateEntry]:
        self._start("history", kwargs)
        return list(self.world.history.get(self.name, []))

    def outputs(self, **kwargs: Any) -> dict[str, OutputValue]:
        self._start("outputs", kwargs)
        default = {"bucketName": OutputValue(f"kf-artifacts-{self.name}-x", False), "credentialsSecretArn": OutputValue("arn:secret", True)}
        return self.world.outputs.get(self.name, default)
