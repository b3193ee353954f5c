"""Read a stack's config from `Pulumi.<env>.yaml` without the Pulumi CLI (for `check`, `verify`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from automation.environments import ROOT, Environment
from components.settings import ALLOWED_ACCOUNTS_KEY, KUBE_CONTEXT_KEY, ConfigError, Settings, load_settings
from rules import Expectations

# Stands in for a value encrypted in the stack file; only its secrecy is known offline.
SECRET_PLACEHOLDER = "[secret]"


def stack_file(env: str, root: Path = ROOT) -> Path:
    return root / f"Pulumi.{env}.yaml"


def read_stack_config(env: str, root: Path = ROOT) -> tuple[dict[str, Any], frozenset[str]]:
    """Full config keys to values, and the keys whose values are secrets (`secure:` in the file)."""
    path = stack_file(env, root)
    if not path.exists():
        raise ConfigError(f"--env: no stack file {path.name} for environment {env!r}; allowed: an environment with a Pulumi.<env>.yaml")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML ({problem}); allowed: a Pulumi stack file (YAML)") from None
    config: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key], _ = SECRET_PLACEHOLDER, secrets.add(key)
        else:
            config[key] = value
    return config, frozenset(secrets)


def settings_for(env: str, root: Path = ROOT) -> Settings:
    """The stack's validated settings; an error names the stack file it is in."""
    config, secrets = read_stack_config(env, root)
    try:
        return load_settings(env, config, secrets)
    except ConfigError as error:
        raise in_file(error, stack_file(env, root).name) from None


def in_file(error: ConfigError, name: str) -> ConfigError:
    text = str(error)
    return error if text.startswith(name) else ConfigError(f"{name}: {text}")


def expectations_for(settings: Settings, environment: Environment) -> Expectations:
    """What this stack must pass: what its settings turn on, and its environment's baseline."""
    from components import wiring

    c = settings.config
    written = [c.kubeflow_namespace, *(c.profile_namespaces if c.profile_objects == "managed" else ())]
    asked = Expectations(
        require_kms=settings.kms_enabled,
        require_logging=c.access_logging,
        require_notifications=c.event_notifications,
        require_versioning=c.versioning,
        require_network_perimeter=bool(c.allowed_vpc_endpoint_ids),
        require_replication=bool(c.replica_region),
        isolated_namespaces=tuple(ns for ns in c.profile_namespaces if wiring.isolated(settings, ns)),
        wired_namespaces=tuple(written) if c.manage_kubernetes else (),
        vpc_endpoint_ids=c.allowed_vpc_endpoint_ids,
        replica_vpc_endpoint_ids=c.replica_allowed_vpc_endpoint_ids,
        organization_id=c.organization_id,
        read_legacy_prefix=c.read_legacy_profile_prefix,
        kfp_version=c.kubeflow_pipelines_version,
    )
    return asked.merged(environment.baseline)


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
