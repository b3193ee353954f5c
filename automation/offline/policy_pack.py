"""`make policy-pack`: the policy pack as a self-contained directory another project can use with
`pulumi up --policy-pack DIR` or publish with `pulumi policy publish DIR`: the pack's entry point,
a PulumiPolicy.yaml with a virtualenv of its own, the rules as a wheel of this project installed by
its requirements.txt, and the JSON schema of its config (generated from the control table)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from automation.environments import ROOT

PACK = ROOT / "policy"


def config_schema() -> dict[str, Any]:
    """The schema of the pack's config: the same settings for every policy (CrossGuard's config
    schema), and the control ids their levels and exceptions may name."""
    from rules.controls import CONTROLS
    from rules.crossguard import CONFIG_SCHEMA

    properties = json.loads(json.dumps(CONFIG_SCHEMA.properties))
    ids = [c.id for c in CONTROLS]
    properties["controlLevels"]["propertyNames"] = {"enum": ids}
    properties["exceptions"]["items"]["properties"]["control"]["enum"] = ids
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kubeflow-artifact-store-security policy config (per policy: kf-s3-01, ..., kf-advisory, kf-not-judged)",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def build(out: Path) -> list[Path]:
    """Writes the pack into `out` (emptied first); returns the files written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("kubeflow_artifact_store-*.whl")
    shutil.copy(PACK / "__main__.py", out / "__main__.py")
    yaml_text = (PACK / "PulumiPolicy.yaml").read_text().split("    # In this repository")[0].rstrip() + "\n    virtualenv: venv\n"
    (out / "PulumiPolicy.yaml").write_text(yaml_text)
    (out / "requirements.txt").write_text(f"# The rules, as this project's package (its own dependencies come with it).\n./{wheel.name}\n")
    (out / "config-schema.json").write_text(json.dumps(config_schema(), indent=2) + "\n")
    return sorted(out.iterdir())


if __name__ == "__main__":
    for path in build(ROOT / "dist" / "policy-pack"):
        print(path.relative_to(ROOT))
