"""The rules as CrossGuard stack policies. Building them starts nothing (only PolicyPack does,
in policy/__main__.py), so each policy's validate is unit-testable.

At preview many inputs are unknown (a generated bucket name, an ARN in a policy document).
pulumi-policy's property proxy raises on the first unknown it is asked for and then skips the
whole policy with an advisory note; so the adapter reads the raw properties instead, a rule
whose inputs are unknown says "not judged", and one advisory policy (`kf-not-judged`) lists
those findings so the driver can report them. The offline `check` (all values known under the
mock engine) is the gate that runs before any change; see the README's "what each layer guarantees"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from .controls import CONTROLS, Control, policy_name
from .evaluate import ADVISORY, EXCEPTED, FAIL, NOT_JUDGED, evaluate
from .from_resources import Resource, snapshot_from_resources
from .state import Expectations

NOT_JUDGED_POLICY = "kf-not-judged"


# Defaults here are what `pulumi preview --policy-pack policy` applies without a config file.
def _schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean", "default": value}
    if isinstance(value, str):
        return {"type": "string", "default": value}
    if isinstance(value, dict):  # controlLevels: control id -> level
        return {
            "type": "object",
            "additionalProperties": {"type": "string", "enum": ["mandatory", "advisory", "disabled"]},
            "default": value,
        }
    return {"type": "array", "items": {"type": "string"}, "default": value}


EXCEPTION_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"control": {"type": "string"}, "resource": {"type": "string"}, "reason": {"type": "string", "minLength": 1}},
        "required": ["control", "resource", "reason"],
    },
    "default": [],
}
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={key: EXCEPTION_SCHEMA if key == "exceptions" else _schema(value) for key, value in Expectations().as_config().items()},
)
ADVISORY_POLICY = "kf-advisory"


def raw(value: Any) -> Any:
    """Properties without pulumi-policy's unknown-checking proxies: its _DictProxy/_ListProxy hand
    back their target for the key "__target" (pulumi_policy/proxy.py); unknown sentinels stay."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        try:
            target = value["__target"]
        except KeyError:
            target = value
        return {key: raw(target[key]) for key in target}
    if isinstance(value, Sequence):
        try:
            target = value["__target"]  # type: ignore[call-overload]
        except (TypeError, KeyError, IndexError):
            target = value
        return [raw(item) for item in target]
    return value


def resources_of(args: StackValidationArgs) -> list[Resource]:
    return [Resource(r.resource_type, r.name, r.urn, r.parent.urn if r.parent is not None else "", raw(r.props)) for r in args.resources]


def _validator(controls: tuple[Control, ...], *verdicts: str) -> Callable[[StackValidationArgs, Callable[..., Any]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., Any]) -> None:
        expectations = Expectations.from_config(dict(args.get_config() or {}))
        snapshot = snapshot_from_resources(resources_of(args))
        for finding in evaluate(snapshot, expectations, controls):
            if finding.verdict in verdicts:
                benchmarks = ", ".join(finding.benchmarks) or finding.control
                report_violation(f"{finding.control} {finding.resource}: {finding.detail} [{benchmarks}]", None)

    return validate


def stack_policies(enforcement: EnforcementLevel = EnforcementLevel.MANDATORY) -> list[StackValidationPolicy]:
    policies = [
        StackValidationPolicy(
            name=policy_name(control),
            description=f"{control.id}: {control.title}",
            validate=_validator((control,), FAIL),
            enforcement_level=enforcement,
            config_schema=CONFIG_SCHEMA,
        )
        for control in CONTROLS
    ]
    policies.append(
        StackValidationPolicy(
            name=ADVISORY_POLICY,
            description="Controls this environment runs as advisory, and excepted resources, each with its reason",
            validate=_validator(CONTROLS, ADVISORY, EXCEPTED),
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=CONFIG_SCHEMA,
        )
    )
    policies.append(
        StackValidationPolicy(
            name=NOT_JUDGED_POLICY,
            description="Controls whose inputs are unknown at preview (judged offline by `check` before the update)",
            validate=_validator(CONTROLS, NOT_JUDGED),
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=CONFIG_SCHEMA,
        )
    )
    return policies
