"""Hosts KubeflowArtifactStore as a Pulumi component provider (pulumi.provider.experimental)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the components live in the repository

from components.package import host  # noqa: E402

if __name__ == "__main__":
    host()
