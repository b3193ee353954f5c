"""The environments, as data: `environments.yaml` at the project root, in promotion order.

Each entry names a stack (with its `Pulumi.<name>.yaml`), whether it is protected, the controls
it requires whatever its stack file says, and its secrets provider. Read once and validated as
a whole: a bad file is one line naming the file, the entry and the key (exit 2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components.settings import ConfigError
from rules import Expectations

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_FILE = "environments.yaml"
# baseline names -> Expectations fields
REQUIREMENTS = {
    "kms": "require_kms",
    "logging": "require_logging",
    "notifications": "require_notifications",
    "versioning": "require_versioning",
    "identityPerimeter": "require_identity_perimeter",
    "networkPerimeter": "require_network_perimeter",
    "replication": "require_replication",
}


Requirement = Literal[tuple(REQUIREMENTS)]  # the baseline names, from the one table above


class _Exception(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str
    resource: str = Field(min_length=1)
    reason: str = Field(min_length=1)


# The control each baseline requirement is: a protected environment may not weaken what it requires.
REQUIRED_CONTROL = {
    "kms": "KF-S3-09",
    "logging": "KF-S3-11",
    "notifications": "KF-S3-12",
    "versioning": "KF-S3-07",
    "identityPerimeter": "KF-S3-14",
    "networkPerimeter": "KF-S3-15",
    "replication": "KF-S3-16",
}


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    protected: bool = False
    baseline: tuple[Requirement, ...] = ()  # type: ignore[valid-type]
    secretsProvider: str = Field("passphrase", pattern=r"^(passphrase|awskms://.+|default)$")  # noqa: N815 (the file's key)
    stateBackend: str = Field("", pattern=r"^(|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?)$")  # noqa: N815 (the file's key)
    controls: dict[str, Literal["mandatory", "advisory", "disabled"]] = {}
    exceptions: tuple[_Exception, ...] = ()


@dataclass(frozen=True)
class Environment:
    name: str
    # Protected: up/destroy/promote/pipeline need --yes, destroy is refused, and the
    # baseline below is required whatever the stack file says.
    protected: bool = False
    baseline: Expectations = Expectations(require_versioning=False)
    secrets_provider: str = "passphrase"
    # The Pulumi state backend when it is S3 (`s3://bucket/prefix`): the deploy and plan roles read it.
    state_backend: str = ""


class UnknownEnvironmentError(ValueError):
    pass


def _error(path: Path, where: str, key: str, problem: str, allowed: str) -> ConfigError:
    return ConfigError(f"{path.name}: {where} {key}: {problem}; allowed: {allowed}")


def _check_controls(path: Path, where: str, entry: _Entry) -> None:
    """Control ids exist; a protected environment's baseline keeps the controls it requires mandatory."""
    from rules.controls import CONTROLS

    known = {c.id for c in CONTROLS}
    named = [(f"controls.{c}", c) for c in entry.controls] + [(f"exceptions.{e.control}", e.control) for e in entry.exceptions]
    for key, control in named:
        if control not in known:
            raise _error(path, where, key, f"{control!r} is no control", "a control id of `check` (KF-...)")
    if not entry.protected:
        return
    for requirement in entry.baseline:
        control = REQUIRED_CONTROL[requirement]
        weakened = entry.controls.get(control, "mandatory") != "mandatory" or any(e.control == control for e in entry.exceptions)
        if weakened:
            raise _error(
                path,
                where,
                f"controls.{control}",
                f"protected environment {entry.name}'s baseline requires {requirement} ({control})",
                f"{control} mandatory, without exceptions, in {entry.name}",
            )


@cache
def load_environments(root: Path = ROOT) -> tuple[Environment, ...]:
    path = root / ENVIRONMENTS_FILE
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(
            f"{path.name}: unreadable ({str(error).splitlines()[0]}); allowed: a YAML file with a list `environments:`"
        ) from None
    entries = (document or {}).get("environments") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"{path.name}: no list `environments:`; allowed: a list of entries with name, protected, baseline, secretsProvider"
        )
    found: list[Environment] = []
    for index, raw in enumerate(entries):
        where = f"entry {index + 1}" + (f" ({raw.get('name')})" if isinstance(raw, dict) and raw.get("name") else "")
        try:
            entry = _Entry.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(part) for part in first["loc"]) or "entry"
            keys = "name, protected, baseline, secretsProvider, stateBackend, controls, exceptions"
            allowed = keys if first["type"] == "extra_forbidden" else first["msg"]
            raise _error(path, where, key, "invalid" if first["type"] != "extra_forbidden" else "unknown key", allowed) from None
        if entry.name in {e.name for e in found}:
            raise _error(path, where, "name", f"{entry.name!r} is listed twice", "each environment once")
        if not (root / f"Pulumi.{entry.name}.yaml").exists():
            raise _error(path, where, "name", f"no stack file Pulumi.{entry.name}.yaml", "an environment with its stack file")
        if entry.protected and not entry.secretsProvider.startswith("awskms://"):
            raise _error(path, where, "secretsProvider", f"{entry.secretsProvider!r} for a protected environment", "awskms://...")
        _check_controls(path, where, entry)
        baseline = replace(
            Expectations(require_versioning=False),
            **{REQUIREMENTS[name]: True for name in entry.baseline},
            control_levels=tuple(sorted((c, level) for c, level in entry.controls.items() if level != "mandatory")),
            exceptions=tuple((e.control, e.resource, e.reason) for e in entry.exceptions),
        )
        found.append(Environment(entry.name, entry.protected, baseline, entry.secretsProvider, entry.stateBackend))
    return tuple(found)


def environments() -> tuple[Environment, ...]:
    return load_environments(ROOT)


def environment(name: str) -> Environment:
    for env in environments():
        if env.name == name:
            return env
    raise UnknownEnvironmentError(f"--env: unknown environment {name!r}; allowed: {', '.join(e.name for e in environments())}")


def previous(name: str) -> Environment | None:
    envs = environments()
    index = envs.index(environment(name))
    return envs[index - 1] if index else None


def through(name: str) -> tuple[Environment, ...]:
    envs = environments()
    index = envs.index(environment(name))
    return envs[: index + 1]
