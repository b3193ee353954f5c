"""The Automation API boundary: open a stack of this project, with the right backend and CLI.

Everything past this module talks to a `Stack` (real or a test double) and nothing else."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from automation.environments import ROOT
from automation.errors import PulumiNotInstalledError, UsageError

POLICY_PACK = ROOT / "policy"
STATE_DIR = ROOT / ".pulumi-state"
# Pulumi.yaml's typed config (arrays with items) and `refresh --preview-only` with event logs.
MINIMUM_CLI_VERSION = "3.200.0"
INSTALL_HINT = "Pulumi CLI not found; install it (https://www.pulumi.com/docs/install/) and put `pulumi` on PATH"


class StackLike(Protocol):
    """What operations use of `pulumi.automation.Stack`."""

    name: str

    def preview(self, **kwargs: Any) -> Any: ...
    def up(self, **kwargs: Any) -> Any: ...
    def preview_refresh(self, **kwargs: Any) -> Any: ...
    def refresh(self, **kwargs: Any) -> Any: ...
    def export_stack(self) -> Any: ...
    def destroy(self, **kwargs: Any) -> Any: ...
    def history(self, **kwargs: Any) -> list[Any]: ...
    def outputs(self) -> dict[str, Any]: ...


# (environment, create) -> stack; with create=False a missing stack raises StackNotFoundError.
StackOpener = Callable[[str, bool], StackLike]


def logged_in() -> bool:
    """A `pulumi login` leaves the current backend in ~/.pulumi/credentials.json."""
    credentials = Path(os.environ.get("PULUMI_HOME", Path.home() / ".pulumi")) / "credentials.json"
    try:
        return bool(json.loads(credentials.read_text()).get("current"))
    except (OSError, ValueError):
        return False


def backend_env(notify: Callable[[str], None]) -> dict[str, str]:
    """Default to a local file backend in .pulumi-state/ when no backend is configured, and say so.
    Never on CI: a throw-away runner's local state would create new buckets, keys and roles on
    every run while the old ones live on, unmanaged."""
    if os.environ.get("PULUMI_BACKEND_URL") or logged_in():
        return {}
    if os.environ.get("CI"):
        raise UsageError(
            "PULUMI_BACKEND_URL: not set on CI (CI is set), and a local backend on a throw-away runner forgets every "
            "resource it creates; allowed: s3://<state bucket>/<prefix>, or `pulumi login` before the driver runs"
        )
    STATE_DIR.mkdir(exist_ok=True)
    notify(f"no PULUMI_BACKEND_URL and no `pulumi login`: using the local file backend {STATE_DIR}")
    return {"PULUMI_BACKEND_URL": STATE_DIR.as_uri()}


def pulumi_command() -> Any:
    from pulumi.automation.errors import InvalidVersionError
    from semver import VersionInfo

    from automation.driver.command import ForwardingPulumiCommand

    if shutil.which("pulumi") is None and not (Path.home() / ".pulumi" / "bin" / "pulumi").exists():
        raise PulumiNotInstalledError(INSTALL_HINT)
    try:
        return ForwardingPulumiCommand(version=VersionInfo.parse(MINIMUM_CLI_VERSION))
    except InvalidVersionError as error:
        raise UsageError(f"Pulumi CLI: {str(error).splitlines()[0]}; allowed: {MINIMUM_CLI_VERSION} or newer") from None
    except Exception as error:  # the SDK raises a bare Exception when no CLI is found
        raise PulumiNotInstalledError(f"{INSTALL_HINT} ({error})") from None


def real_stack_opener(notify: Callable[[str], None]) -> StackOpener:
    """Opens stacks of the project in ROOT with the real CLI; checks the CLI once, up front."""
    from pulumi import automation as auto

    command = pulumi_command()
    env_vars = backend_env(notify)

    def open_stack(env: str, create: bool) -> StackLike:
        from automation.environments import environment

        options = auto.LocalWorkspaceOptions(
            work_dir=str(ROOT),
            pulumi_command=command,
            env_vars=env_vars,
            # Used when the stack is created: each environment's own (KMS for protected ones).
            secrets_provider=environment(env).secrets_provider,
        )
        if create:
            return auto.create_or_select_stack(stack_name=env, work_dir=str(ROOT), opts=options)
        return auto.select_stack(stack_name=env, work_dir=str(ROOT), opts=options)

    return open_stack


def stack_outputs(env: str, why: str) -> dict[str, Any]:
    """The deployed stack's outputs (plain values); a UsageError naming `why` when unreadable."""
    try:
        outputs = real_stack_opener(lambda _: None)(env, False).outputs()
    except Exception as error:  # no CLI, no backend, no stack: all end the same way for the user
        raise UsageError(f"{why}: stack outputs of {env} cannot be read ({str(error).splitlines()[0]})") from None
    return {key: value.value for key, value in outputs.items()}
