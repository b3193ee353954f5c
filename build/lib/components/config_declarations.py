"""Pulumi.yaml's `config:` declarations, derived from the config model (one definition per key)."""

from __future__ import annotations

from pydantic import SecretStr

from .config_model import StoreConfig


def project_key_names() -> list[str]:
    """The camelCase config keys, in declaration order."""
    return [field.alias or name for name, field in StoreConfig.model_fields.items()]


def project_config_declarations() -> dict[str, dict[str, object]]:
    """The typed `config:` section of Pulumi.yaml, derived from StoreConfig.

    Optional strings default to "" rather than having no default: Pulumi treats a declared
    key without a default as required."""
    declarations: dict[str, dict[str, object]] = {}
    for name, field in StoreConfig.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        if isinstance(default, bool):
            kind = "boolean"
        elif isinstance(default, int):
            kind = "integer"
        elif isinstance(default, tuple):
            kind, default = "array", list(default)
        elif isinstance(default, dict):
            kind = "object"
        else:
            kind = "string"
        declaration: dict[str, object] = {"type": kind}
        if kind == "array":
            declaration["items"] = {"type": "string"}
        declaration["description"] = field.description
        declaration["default"] = default
        declarations[field.alias or name] = declaration
    return declarations
