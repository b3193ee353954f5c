"""The Pulumi program: read and validate settings, build the store, export its outputs."""

import pulumi

from components import KubeflowArtifactStore
from components.config_source import settings_from_pulumi

store = KubeflowArtifactStore("kubeflow", settings_from_pulumi())
for output_name, value in store.exports().items():
    pulumi.export(output_name, value)
