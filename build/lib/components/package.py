"""KubeflowArtifactStore as a Pulumi component package: one name, one version, one schema.

The provider API used here (`pulumi.provider.experimental`) is marked experimental by Pulumi;
requirements.txt pins the SDK range it is tested with."""

from __future__ import annotations

import json

from . import names

PACKAGE_VERSION = "0.1.0"


def provider() -> object:
    from pulumi.provider.experimental.component import ComponentProvider

    from .store import KubeflowArtifactStore

    return ComponentProvider([KubeflowArtifactStore], names.PROJECT, None, PACKAGE_VERSION)


def schema() -> dict[str, object]:
    """The package schema Pulumi's analyzer infers from the component's annotations."""
    return json.loads(provider().schema)  # type: ignore[attr-defined]


def host() -> None:
    from pulumi.provider.experimental import component_provider_host

    from .store import KubeflowArtifactStore

    component_provider_host([KubeflowArtifactStore], name=names.PROJECT, version=PACKAGE_VERSION)


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parent.parent / "package" / "schema.json"
    target.write_text(json.dumps(schema(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {target}")
