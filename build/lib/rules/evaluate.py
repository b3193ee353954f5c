"""Evaluate every control over a Snapshot: one Finding per (control, resource)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .controls import CONTROLS, FIXES, SCOPES, Control
from .matrix import NotJudgedError
from .state import NOT_READABLE, NOT_REPORTED, UNKNOWN, Expectations, Snapshot

PASS = "pass"
FAIL = "fail"
WAIVED = "waived"  # failed, but the stack's settings do not require it
ADVISORY = "advisory"  # failed, and the environment runs this control as advisory (environments.yaml)
EXCEPTED = "excepted"  # failed on a resource the environment excepts, with the reason it gives
NOT_REPORTED_VERDICT = "not reported by endpoint"
NOT_JUDGED = "not judged"  # a value the rule reads is unknown until the update computes it
NOT_READABLE_VERDICT = "not readable"  # the credentials may not read it: AccessDenied


@dataclass(frozen=True)
class Finding:
    control: str
    title: str
    severity: str
    benchmarks: tuple[str, ...]
    resource: str
    verdict: str
    detail: str = ""

    @property
    def blocking(self) -> bool:
        return self.verdict == FAIL

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "benchmarks": list(self.benchmarks)}


def _subjects(control: Control, snapshot: Snapshot) -> list[object]:
    if control.scope == "key":
        return list(snapshot.keys)
    if control.scope == "identity":
        return list(snapshot.identities)
    if control.scope == "wiring":
        return list(snapshot.wiring)
    if control.scope == "stack":
        return [snapshot]
    roles = SCOPES[control.scope]
    return [b for b in snapshot.buckets if roles is None or b.role in roles]


def _not_reported(value: object) -> bool:
    """The field, or one of its parts (a normalised configuration), the source could not report."""
    return value is NOT_REPORTED or (isinstance(value, dict) and any(v is NOT_REPORTED for v in value.values()))


def evaluate_control(control: Control, subject: object, expectations: Expectations) -> Finding:
    def finding(verdict: str, detail: str = "") -> Finding:
        return Finding(control.id, control.title, control.severity, control.benchmarks, subject.name, verdict, detail)

    if getattr(subject, "not_judged", ""):
        return finding(NOT_JUDGED, subject.not_judged)  # type: ignore[attr-defined]
    unknown = [f for f in control.fields if getattr(subject, f, None) is UNKNOWN]
    if unknown:
        return finding(NOT_JUDGED, f"{', '.join(unknown)} unknown until the update computes it")
    denied = [f for f in control.fields if getattr(subject, f, None) is NOT_READABLE]
    if denied:
        return finding(NOT_READABLE_VERDICT, f"{', '.join(denied)} not readable: AccessDenied")
    missing = [f for f in control.fields if _not_reported(getattr(subject, f, None))]
    if missing:
        return finding(NOT_REPORTED_VERDICT, f"{', '.join(missing)} not reported by endpoint")
    try:
        problem = control.check(subject, expectations) if control.uses_expectations else control.check(subject)
    except NotJudgedError as unknown:
        return finding(NOT_JUDGED, str(unknown))
    if problem is None:
        return finding(PASS)
    fix = FIXES.get(control.id)
    problem = f"{problem}; fix: {fix}" if fix else problem
    if not control.required(expectations):
        return finding(WAIVED, problem)
    reason = expectations.exception_for(control.id, subject.name)
    if reason:
        return finding(EXCEPTED, f"{problem} (excepted: {reason})")
    if expectations.level(control.id) == "advisory":
        return finding(ADVISORY, f"{problem} (advisory in this environment)")
    return finding(FAIL, problem)


def evaluate(snapshot: Snapshot, expectations: Expectations, controls: tuple[Control, ...] = CONTROLS) -> list[Finding]:
    """Every control's finding per subject; a control the environment disables is not evaluated."""
    active = [c for c in controls if expectations.level(c.id) != "disabled"]
    return [evaluate_control(control, subject, expectations) for control in active for subject in _subjects(control, snapshot)]


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.blocking for f in findings) else 0
