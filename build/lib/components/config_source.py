"""Reads the running stack's config from the Pulumi runtime (the one place the program touches it)."""

from __future__ import annotations

import os
import typing

import pulumi
import pulumi.runtime.config as runtime_config

from .args import KubeflowArtifactStoreArgs
from .config_model import StoreConfig
from .inputs import StoreInputs, resolve
from .settings import ConfigError, Settings, load_settings


def settings_from_pulumi() -> Settings:
    """The stack's whole config, so unknown keys of the project namespace are caught too."""
    # The language host passes config in the environment; tests and mocks set it in-process.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in raw if pulumi.runtime.is_config_secret(key)}
    region = str(raw.get("aws:region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "")
    try:
        return load_settings(pulumi.get_stack(), raw, frozenset(secret_keys), region)
    except ConfigError as error:
        # RunError: Pulumi prints the one-line message without a Python traceback.
        raise pulumi.RunError(str(error)) from None


def args_from_pulumi() -> StoreInputs:
    """The stack program's arguments: the whole stack config validated (unknown keys included),
    then handed over as the component's typed args. Secret values stay secrets (Outputs)."""
    settings = settings_from_pulumi()
    args: dict[str, object] = {}
    for name in StoreConfig.model_fields:
        value = getattr(settings.config, name)
        if hasattr(value, "get_secret_value"):
            value = pulumi.Output.secret(value.get_secret_value()) if value.get_secret_value() else ""
        args[name] = list(value) if isinstance(value, tuple) else value
    args["region"] = settings.region
    try:
        return resolve(settings.stack, typing.cast(KubeflowArtifactStoreArgs, args))
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
