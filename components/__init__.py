"""Settings -> components: the resources of the Kubeflow artifact store."""

from .args import KubeflowArtifactStoreArgs
from .settings import ConfigError, Settings, load_settings
from .store import KubeflowArtifactStore

__all__ = ["ConfigError", "KubeflowArtifactStore", "KubeflowArtifactStoreArgs", "Settings", "load_settings"]
