"""The Pulumi program: read and validate settings, build the store, export its outputs."""

import pulumi

from components import names
from components.config_source import args_from_pulumi
from kubeflow_artifact_store import KubeflowArtifactStore

store = KubeflowArtifactStore(names.STORE_NAME, args_from_pulumi())
for output_name, value in store.exports().items():
    pulumi.export(output_name, value)
