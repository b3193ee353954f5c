"""The environments, declared once: promotion order and protection.

Adding an environment is a `Pulumi.<name>.yaml` file and one line here."""

from __future__ import annotations

from dataclasses import dataclass

from rules import Expectations


@dataclass(frozen=True)
class Environment:
    name: str
    # Protected: up/destroy/promote/pipeline need --yes, destroy is refused, and the
    # baseline below is required whatever the stack file says.
    protected: bool = False
    baseline: Expectations = Expectations(require_versioning=False)


PRODUCTION_BASELINE = Expectations(
    require_kms=True, require_logging=True, require_notifications=True, require_identity_perimeter=True, require_replication=True
)

ENVIRONMENTS: tuple[Environment, ...] = (
    Environment("dev"),
    Environment("staging"),
    Environment("prod", protected=True, baseline=PRODUCTION_BASELINE),
)


class UnknownEnvironmentError(ValueError):
    pass


def environment(name: str) -> Environment:
    for env in ENVIRONMENTS:
        if env.name == name:
            return env
    raise UnknownEnvironmentError(f"--env: unknown environment {name!r}; allowed: {', '.join(e.name for e in ENVIRONMENTS)}")


def previous(name: str) -> Environment | None:
    index = ENVIRONMENTS.index(environment(name))
    return ENVIRONMENTS[index - 1] if index else None


def through(name: str) -> tuple[Environment, ...]:
    index = ENVIRONMENTS.index(environment(name))
    return ENVIRONMENTS[: index + 1]
