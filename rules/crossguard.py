"""The rules as CrossGuard stack policies. Building them starts nothing (only PolicyPack does,
in policy/__main__.py), so each policy's validate is unit-testable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from .controls import CONTROLS, Control, policy_name
from .evaluate import FAIL, evaluate
from .from_resources import Resource, snapshot_from_resources
from .state import Expectations

# Defaults here are what `pulumi preview --policy-pack policy` applies without a config file.
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={key: {"type": "boolean", "default": value} for key, value in Expectations().as_config().items()},
)


def resources_of(args: StackValidationArgs) -> list[Resource]:
    return [Resource(r.resource_type, r.name, r.urn, r.parent.urn if r.parent is not None else "", dict(r.props)) for r in args.resources]


def _validator(control: Control) -> Callable[[StackValidationArgs, Callable[..., Any]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., Any]) -> None:
        expectations = Expectations.from_config(dict(args.get_config()))
        snapshot = snapshot_from_resources(resources_of(args))
        for finding in evaluate(snapshot, expectations, (control,)):
            if finding.verdict == FAIL:
                report_violation(f"{finding.resource}: {finding.detail} [{', '.join(control.benchmarks) or control.id}]", None)

    return validate


def stack_policies(enforcement: EnforcementLevel = EnforcementLevel.MANDATORY) -> list[StackValidationPolicy]:
    return [
        StackValidationPolicy(
            name=policy_name(control),
            description=f"{control.id}: {control.title}",
            validate=_validator(control),
            enforcement_level=enforcement,
            config_schema=CONFIG_SCHEMA,
        )
        for control in CONTROLS
    ]
