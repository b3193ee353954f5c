"""From KubeflowArtifactStoreArgs to validated Settings, with Outputs where the args hold them.

Plain values are validated up front, exactly as stack config is (load_settings). A value that
arrives as an Output (an OIDC provider's ARN, a key's ARN, a secret key) is unknown until the
deployment computes it: validation of the rest runs with a well-formed stand-in, and the value
itself is validated when it resolves, failing the deployment with the same one-line message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
from pydantic.alias_generators import to_camel, to_snake

from . import names
from .settings import (
    ALLOWED_ACCOUNTS_KEY,
    ASSUME_ROLES_KEY,
    KUBE_CONTEXT_KEY,
    ConfigError,
    Settings,
    load_settings,
)

# Args that may be Outputs (values of other resources) and are deferred as such.
DEFERRABLE = ("eks_oidc_provider_arn", "kms_key_arn", "static_access_key_id", "static_secret_access_key", "kms_key_admin_arns", "tags")
SECRET_ARGS = ("static_access_key_id", "static_secret_access_key")
PROVIDER_KEYS = (ALLOWED_ACCOUNTS_KEY, ASSUME_ROLES_KEY, KUBE_CONTEXT_KEY)


@dataclass(frozen=True)
class StoreInputs:
    settings: Settings
    # Deferred args (snake_case) -> their Output, validated when it resolves.
    outputs: Mapping[str, pulumi.Output[Any]] = field(default_factory=dict)

    def value(self, arg: str) -> pulumi.Output[Any]:
        """The arg as an Output: the deferred one, or the validated plain value."""
        if arg in self.outputs:
            return self.outputs[arg]
        plain = getattr(self.settings.config, arg)
        return pulumi.Output.from_input(plain.get_secret_value() if hasattr(plain, "get_secret_value") else plain)

    def deferred(self, arg: str) -> bool:
        return arg in self.outputs


def _stand_in(arg: str, region: str, account: str) -> Any:
    partition = names.partition_of(region)
    stand_ins: dict[str, Any] = {
        "eks_oidc_provider_arn": f"arn:{partition}:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/{'0' * 32}",
        "kms_key_arn": f"arn:{partition}:kms:{region}:{account}:key/{'0' * 8}-0000-0000-0000-{'0' * 12}",
        "kms_key_admin_arns": [],
        "tags": {},
    }
    return stand_ins.get(arg, "[secret]")  # a secret stand-in skips the format check, as a stack file's ciphertext does


def provider_config() -> dict[str, Any]:
    """The stack's aws:/kubernetes: binding keys (the program's and any consumer's stack config)."""
    import pulumi.runtime.config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {key: raw[key] for key in PROVIDER_KEYS if key in raw}


def resolve(stack: str, args: Mapping[str, Any], provider: Mapping[str, Any] | None = None) -> StoreInputs:
    """Validate `args` (KubeflowArtifactStoreArgs: snake_case, or camelCase as in stack config);
    raises ConfigError on plain values, naming each key the way the caller wrote it."""
    spelled = {to_snake(arg): arg for arg in args}  # the caller's spelling of each key
    if len(spelled) < len(args):
        twice = sorted({to_snake(a) for a in args if sum(to_snake(b) == to_snake(a) for b in args) > 1})
        raise ConfigError(f"{twice[0]}: given twice (snake_case and camelCase); allowed: one spelling per key")
    try:
        return _resolve(stack, {to_snake(arg): value for arg, value in args.items()}, provider, spelled)
    except ConfigError as error:
        raise _as_spelled(error, spelled) from None


def _as_spelled(error: ConfigError, spelled: Mapping[str, str]) -> ConfigError:
    """`kubeflow-artifact-store:eksOidcProviderArn: ...` -> `eks_oidc_provider_arn: ...` for a caller who wrote that."""
    text = str(error)
    for snake, caller in spelled.items():
        full = f"{names.PROJECT}:{to_camel(snake)}"
        if text.startswith(full + ":"):
            return ConfigError(caller + text[len(full) :])
    return error


def _resolve(stack: str, args: Mapping[str, Any], provider: Mapping[str, Any] | None, spelled: Mapping[str, str]) -> StoreInputs:
    provider = dict(provider if provider is not None else provider_config())
    region = str(
        args.get("region")
        or pulumi.Config("aws").get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or ""
    )
    outputs: dict[str, pulumi.Output[Any]] = {}
    raw: dict[str, Any] = dict(provider)
    secret_keys: set[str] = set()
    for arg, value in args.items():
        if arg == "region":
            continue
        key = f"{names.PROJECT}:{to_camel(arg)}"
        if isinstance(value, pulumi.Output):
            if arg not in DEFERRABLE:
                raise ConfigError(f"{key}: an Output is not accepted here (it decides which resources exist); allowed: a plain value")
            outputs[arg] = value
            continue
        raw[key] = value
        if arg in SECRET_ARGS:
            secret_keys.add(key)  # a plain secret passed in code: the consumer vouches for it
    account = _accounts(provider) or "000000000000"  # stand-ins must sit in the bound account
    for arg in outputs:
        raw[f"{names.PROJECT}:{to_camel(arg)}"] = _stand_in(arg, region, account)
        if arg in SECRET_ARGS:
            secret_keys.add(f"{names.PROJECT}:{to_camel(arg)}")
    settings = load_settings(stack, raw, frozenset(secret_keys), region)

    def checked(arg: str, value: Any) -> Any:
        key = f"{names.PROJECT}:{to_camel(arg)}"
        try:
            resolved = load_settings(stack, {**raw, key: value}, frozenset(secret_keys), region)
        except ConfigError as error:  # one line, as for a plain value: RunError prints no traceback
            raise pulumi.RunError(str(_as_spelled(error, spelled))) from None
        return getattr(resolved.config, arg) if arg in ("tags", "kms_key_admin_arns") else value  # normalised

    validated = {arg: output.apply(lambda value, arg=arg: checked(arg, value)) for arg, output in outputs.items()}
    for arg in SECRET_ARGS:
        if arg in validated:
            validated[arg] = pulumi.Output.secret(validated[arg])
    settings = replace(settings, deferred={arg: validated[arg] for arg in ("tags", "kms_key_admin_arns") if arg in validated})
    return StoreInputs(settings, validated)


def _accounts(provider: Mapping[str, Any]) -> str:
    import json

    value = provider.get(ALLOWED_ACCOUNTS_KEY)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ""
    return str(value[0]) if isinstance(value, list) and value else ""
