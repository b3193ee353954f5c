"""Settings -> components: the resources of the Kubeflow artifact store.

The public API is `kubeflow_artifact_store`; importing the store from `components` (the old path)
still works for this release and warns."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

_MOVED = {
    "KubeflowArtifactStore": "components.store",
    "KubeflowArtifactStoreArgs": "components.args",
    "ConfigError": "components.settings",
    "Settings": "components.settings",
    "load_settings": "components.settings",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"`from components import {name}` is deprecated: use `from kubeflow_artifact_store import {name}`",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'components' has no attribute {name!r}")
