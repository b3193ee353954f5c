"""What must hold before an update changes anything: the environment is bound to its AWS account
and cluster, the credentials at hand are that account's, and the program passes the rules offline.

The offline rules gate is the one that can stop an update before any change: the policy pack
runs inside the CLI, where at preview many values are unknown and at `up` stack policies judge
the final state, after the changes were made (README: what each layer guarantees)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.settings import ALLOWED_ACCOUNTS_KEY, KUBE_CONTEXT_KEY, ConfigError, Settings
from rules import FAIL

from .aws_session import caller_account
from .environments import Environment, environment
from .errors import OperationError, UsageError
from .stackfiles import settings_for


def binding_problems(settings: Settings) -> list[str]:
    """What is missing for the stack to reach exactly one account and one cluster."""
    problems = []
    if not settings.account_ids:
        problems.append(f"{ALLOWED_ACCOUNTS_KEY} not set: the aws provider would deploy into whatever account the credentials reach")
    if not settings.kube_context:
        problems.append(f"{KUBE_CONTEXT_KEY} not set: the kubernetes provider would write into the current kubeconfig context")
    return problems


def require_binding(settings: Settings, target: Environment, warn: Callable[[str], None]) -> None:
    """Protected environments must be bound (exit 2); others are warned."""
    problems = binding_problems(settings)
    if problems and target.protected:
        raise ConfigError(
            f"Pulumi.{target.name}.yaml: {problems[0]}; allowed: protected environment {target.name} names its account and cluster"
        )
    for problem in problems:
        warn(f"warning: Pulumi.{target.name}.yaml: {problem}")


def kube_contexts() -> set[str] | None:
    """Context names of the kubeconfig (KUBECONFIG's files or ~/.kube/config); None without one."""
    paths = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or [Path.home() / ".kube" / "config"]
    found: set[str] | None = None
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        found = (found or set()) | {str(c.get("name")) for c in document.get("contexts") or [] if isinstance(c, dict)}
    return found


@dataclass
class Preflight:
    """Run before every update; each check is a function so tests can hand in a double."""

    rules: Callable[[str], list[str]]
    account: Callable[[str], str] = caller_account
    contexts: Callable[[], set[str] | None] = kube_contexts
    warn: Callable[[str], None] = print

    def __call__(self, env: str) -> None:
        target = environment(env)
        settings = settings_for(env)
        require_binding(settings, target, self.warn)
        if settings.account_ids:
            # The identity the provider deploys with: after aws:profile and every aws:assumeRoles entry.
            account = self.account(env)
            if account not in settings.account_ids:
                raise UsageError(
                    f"AWS credentials: account {account} is not {env}'s ({', '.join(settings.account_ids)}, {ALLOWED_ACCOUNTS_KEY}); "
                    "nothing was run"
                )
        if settings.kube_context:
            contexts = self.contexts()
            if contexts is None:
                raise UsageError(
                    f"{KUBE_CONTEXT_KEY}: {settings.kube_context!r} named but no kubeconfig found (KUBECONFIG, ~/.kube/config)"
                )
            if settings.kube_context not in contexts:
                raise UsageError(f"{KUBE_CONTEXT_KEY}: context {settings.kube_context!r} is not in the kubeconfig; nothing was run")
        failures = self.rules(env)
        if failures:
            raise OperationError(f"{env}: stopped before any change: the program fails its rules offline: " + "; ".join(failures))


def offline_rule_failures(env: str) -> list[str]:
    """The offline `check` of this stack's config: the mandatory failures, one line each."""
    from .check import run_check

    return [f"{f.control} {f.resource}: {f.detail}" for f in run_check(env).findings if f.verdict == FAIL]
