"""The component package: its schema (inferred in-process, committed, valid), `construct` as the
engine would call it for another language, and the README's examples against the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from automation.offline.mock_engine import ROOT, run_program
from components import names, package
from tests.conftest import OIDC

SCHEMA = ROOT / "package" / "schema.json"
# Copied from the upstream projects (shared/schemas): no test depends on a sibling folder.
PACKAGE_SCHEMA = ROOT / "tests" / "data" / "schemas" / "pulumi-package.schema.json"
TOKEN = names.PACKAGE_COMPONENT_TYPE


def test_the_committed_schema_is_what_the_analyzer_infers() -> None:
    assert json.loads(SCHEMA.read_text()) == package.schema()  # python -m components.package rewrites it


def test_the_schema_is_a_valid_pulumi_package_schema() -> None:
    # The published metaschema writes named groups the ECMAScript way, (?<name>); Python's re spells them (?P<name>.
    meta = json.loads(PACKAGE_SCHEMA.read_text().replace("(?<", "(?P<"))
    validator = jsonschema.validators.validator_for(meta)
    validator.check_schema(meta)
    assert [e.message for e in validator(meta).iter_errors(json.loads(SCHEMA.read_text()))] == []


def test_every_input_is_described_and_the_outputs_are_there() -> None:
    resource = json.loads(SCHEMA.read_text())["resources"][TOKEN]
    assert resource["isComponent"] is True
    assert all(spec.get("description") for spec in resource["inputProperties"].values())
    assert {"eksOidcProviderArn", "kmsKeyArn", "profileNamespaces", "tags", "region"} <= set(resource["inputProperties"])
    assert {"bucketName", "bucketArn", "kmsKeyArn", "pipelineRoleArn", "profileRoleArns", "pipelineRoots"} <= set(resource["properties"])
    assert all(spec.get("description") for spec in resource["properties"].values())


def _program(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "program.py"
    path.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n{body}\n")
    return path


def test_construct_with_camel_case_inputs_registers_what_the_python_api_does(tmp_path: Path) -> None:
    """As the engine calls the provider for a TypeScript, Go or YAML program (ComponentProvider.construct)."""
    inputs = {"region": "us-east-1", "eksOidcProviderArn": OIDC, "encryption": "sse-kms", "profileNamespaces": ["team-a"]}
    constructed = run_program(
        "dev",
        {"aws:region": "us-east-1"},
        program=_program(
            tmp_path,
            "import pulumi\nfrom components.package import provider\n"
            f"provider().construct('kubeflow', {TOKEN!r}, {inputs!r}, pulumi.ResourceOptions())",
        ),
    )
    args = {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, "encryption": "sse-kms", "profile_namespaces": ["team-a"]}
    python_api = run_program(
        "dev",
        {"aws:region": "us-east-1"},
        program=_program(
            tmp_path, f"from kubeflow_artifact_store import KubeflowArtifactStore\nKubeflowArtifactStore('kubeflow', {args!r})"
        ),
    )

    def shape(run) -> list[tuple[str, str, object]]:
        return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True, default=str)) for r in run.resources if r.custom)

    assert shape(constructed) == shape(python_api) and len(shape(python_api)) > 20


README_EXAMPLE = re.compile(r"```(typescript|yaml|python)\n(?P<code>.*?)```", re.S)


def test_every_property_the_readme_examples_use_is_in_the_schema() -> None:
    resource = json.loads(SCHEMA.read_text())["resources"][TOKEN]
    section = (ROOT / "docs" / "operations.md").read_text().split("## Use it from your own program", 1)[1].split("\n## ", 1)[0]
    snippets = {m.group(1): m.group("code") for m in README_EXAMPLE.finditer(section)}
    assert set(snippets) == {"python", "typescript", "yaml"}
    yaml_inputs = next(r for r in yaml.safe_load(snippets["yaml"])["resources"].values() if r["type"] == TOKEN)["properties"]
    ts_inputs = re.findall(r"^\s+(\w+):", snippets["typescript"].split("new kubeflow.KubeflowArtifactStore", 1)[1], re.M)
    ts_outputs = re.findall(r"artifacts\.(\w+)", snippets["typescript"])
    for used in [*yaml_inputs, *ts_inputs]:
        assert used in resource["inputProperties"], used
    for used in ts_outputs:
        assert used in resource["properties"], used
    assert "eksOidcProviderArn" in yaml_inputs and "eksOidcProviderArn" in ts_inputs


def test_the_plugin_runs_python_and_hosts_the_component() -> None:
    plugin = yaml.safe_load((ROOT / "package" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    assert "components.package import host" in (ROOT / "package" / "__main__.py").read_text()


def test_every_child_uses_the_providers_the_consumer_passes(tmp_path: Path) -> None:
    body = (
        "import pulumi, pulumi_aws as aws, pulumi_kubernetes as k8s\n"
        "from kubeflow_artifact_store import KubeflowArtifactStore\n"
        "a = aws.Provider('team-aws', region='eu-west-1')\n"
        "k = k8s.Provider('team-k8s', context='eks-dev')\n"
        f"KubeflowArtifactStore('kf', {{'region': 'eu-west-1', 'eks_oidc_provider_arn': {OIDC.replace('us-east-1', 'eu-west-1')!r}}},"
        " opts=pulumi.ResourceOptions(providers={'aws': a, 'kubernetes': k}))"
    )
    run = run_program("dev", {"aws:region": "eu-west-1"}, program=_program(tmp_path, body))
    providers = {r.name: r.urn for r in run.resources if r.type.startswith("pulumi:providers:")}
    children = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert children
    for r in children:
        if r.type.startswith("random:"):  # computed by the random provider, no cloud: the default one
            assert r.provider == "", (r.name, r.provider)
            continue
        expected = providers["team-k8s"] if r.type.startswith("kubernetes:") else providers["team-aws"]
        assert r.provider.startswith(expected + "::"), (r.name, r.provider)


def test_a_region_other_than_the_providers_fails_the_deployment(tmp_path: Path) -> None:
    """The component checks the region it was given against the provider it runs with (getRegion)."""
    body = (
        "import pulumi, pulumi_aws as aws\n"
        "from kubeflow_artifact_store import KubeflowArtifactStore\n"
        "a = aws.Provider('team-aws', region='eu-west-1')\n"
        f"s = KubeflowArtifactStore('kf', {{'region': 'us-east-1', 'eks_oidc_provider_arn': {OIDC!r}}},"
        " opts=pulumi.ResourceOptions(providers={'aws': a}))\n"
        "pulumi.export('region', s.region)"
    )
    with pytest.raises(
        Exception, match=r"kubeflow-artifact-store:region: invalid value 'us-east-1' \(the AWS provider deploys into eu-west-1\)"
    ):
        run_program("dev", {"aws:region": "us-east-1"}, program=_program(tmp_path, body))
    same = body.replace("'us-east-1', 'eks", "'eu-west-1', 'eks").replace(OIDC, OIDC.replace("us-east-1", "eu-west-1"))
    assert run_program("dev", {"aws:region": "us-east-1"}, program=_program(tmp_path, same)).exports["region"] == "eu-west-1"
