"""The Pulumi program: read and validate settings, build the store, export its outputs."""

import pulumi

from components import KubeflowArtifactStore, names
from components.config_source import args_from_pulumi

store = KubeflowArtifactStore(names.STORE_NAME, args_from_pulumi())
for output_name, value in store.exports().items():
    pulumi.export(output_name, value)
