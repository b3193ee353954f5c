"""Settings -> components: the resources of the Kubeflow artifact store."""

from .settings import ConfigError, Settings, load_settings
from .store import KubeflowArtifactStore

__all__ = ["ConfigError", "KubeflowArtifactStore", "Settings", "load_settings"]
