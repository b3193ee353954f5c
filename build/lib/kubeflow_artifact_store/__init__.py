"""The Kubeflow artifact store for your own Pulumi program (Python):

    from kubeflow_artifact_store import KubeflowArtifactStore, KubeflowArtifactStoreArgs

`KubeflowArtifactStoreArgs` keys may be written snake_case (`eks_oidc_provider_arn`) or camelCase
(`eksOidcProviderArn`, as in stack config); errors name the key the way you wrote it. The import
name is the distribution's (kubeflow-artifact-store), so it cannot clash with a package of yours
named `components`; `from components import KubeflowArtifactStore` still works for this release,
with a DeprecationWarning."""

from components.args import KubeflowArtifactStoreArgs
from components.settings import ConfigError, Settings, load_settings
from components.store import KubeflowArtifactStore

__all__ = ["ConfigError", "KubeflowArtifactStore", "KubeflowArtifactStoreArgs", "Settings", "load_settings"]
