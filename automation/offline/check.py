"""`check`: the program under the mock engine with a stack's config, judged by the rules. No cloud, no CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.environments import environment
from automation.offline.mock_engine import MOCK_ACCOUNT, ROOT, MockRun, run_program
from automation.stackfiles import expectations_for, read_stack_config, require_binding, settings_for
from rules import FAIL, Finding, evaluate, exit_code
from rules.from_resources import Resource, snapshot_from_resources


@dataclass
class CheckReport:
    env: str
    run: MockRun
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings)

    def inventory(self) -> list[dict[str, str]]:
        names = {r.urn: r.name for r in self.run.resources}
        return [
            {"type": r.type, "name": r.name, "parent": names.get(r.parent, "")}
            for r in self.run.resources
            if r.type != "pulumi:pulumi:Stack"
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": "check",
            "env": self.env,
            "resources": self.inventory(),
            "controls": [f.as_dict() for f in self.findings],
            "exitCode": self.exit_code,
        }


def resources_of(run: MockRun) -> list[Resource]:
    """The resources as a stack policy sees them during an update: their outputs (the inputs and
    what the provider computed: ARNs, regions)."""
    return [Resource(r.type, r.name, r.urn, r.parent, {**r.inputs, **r.state}) for r in run.resources]


def run_check(env: str, root: Path = ROOT, warn: Callable[[str], None] = lambda _: None) -> CheckReport:
    """Raises ConfigError (exit 2) before anything runs when the stack's config is invalid, or
    when a protected environment does not name its account and cluster."""
    target = environment(env)
    settings = settings_for(env, root)
    require_binding(settings, target, warn)
    config, secrets = read_stack_config(env, root)
    run = run_program(env, config, secrets, account=settings.account_ids[0] if settings.account_ids else MOCK_ACCOUNT)
    findings = evaluate(snapshot_from_resources(resources_of(run)), expectations_for(settings, target))
    return CheckReport(env, run, findings)


def offline_rule_failures(env: str) -> list[str]:
    """The offline `check` of this stack's config: the mandatory failures, one line each."""
    return [f"{f.control} {f.resource}: {f.detail}" for f in run_check(env).findings if f.verdict == FAIL]
