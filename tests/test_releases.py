"""Every supported Kubeflow Pipelines release: the program's Deployment patches merged with kubectl's
own strategic merge (`kubectl patch --local --type strategic`, as the API server merges) onto the
Deployments each release installs (tests/data/kfp-releases.yaml, read from kubeflow/pipelines at
the release tags), and the merged objects judged."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from automation.offline.check import resources_of
from components import names, releases
from rules.checks.deployments import check_deployments
from rules.from_resources import snapshot_from_resources
from rules.state import Expectations, WiringState
from tests.conftest import run

DATA = Path(__file__).parent / "data" / "kfp-releases.yaml"
INSTALLED: dict[str, Any] = yaml.safe_load(DATA.read_text())
TAGS = {".".join(tag.split(".")[:2]): tag for tag in INSTALLED}
REGION = "eu-west-1"


def _config(version: str) -> dict[str, Any]:
    """A stack on this release (2.15.0's API server refuses IRSA's empty keys: static there)."""
    keys: dict[str, Any] = {"region": REGION, "kubeflowPipelinesVersion": version, "profileNamespaces": ["team-a"]}
    if releases.release(version).api_server_refuses_empty_keys:
        keys.update(credentials="static", profileIsolation=False)
    return keys


def installed_deployment(tag: str, name: str) -> dict[str, Any]:
    facts = INSTALLED[tag][name]
    env = [{"name": var, **form} for var, form in facts["env"].items()]
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "kubeflow", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": facts["serviceAccount"],
                    "containers": [{"name": facts["container"], "image": facts["image"], "env": env}],
                },
            },
        },
    }


def merged(tmp_path: Path, tag: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (README: prerequisites)")
    base, patch_file = tmp_path / f"{name}.json", tmp_path / f"{name}-patch.json"
    base.write_text(json.dumps(installed_deployment(tag, name)))
    patch_file.write_text(json.dumps(patch))
    done = subprocess.run(
        ["kubectl", "patch", "--local", "-f", str(base), "--type", "strategic", "--patch-file", str(patch_file), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def program_patches(version: str) -> dict[str, dict[str, Any]]:
    """The DeploymentPatch inputs the program registers, as the strategic merge patch they apply."""
    found = {}
    for r in run("dev", **_config(version)).of_type("kubernetes:apps/v1:DeploymentPatch"):
        spec = r.inputs["spec"]
        found[r.inputs["metadata"]["name"]] = {"spec": spec}
    return found


def _wiring(bucket: str, deployments: dict[str, Any]) -> WiringState:
    return WiringState(bucket=bucket, region=REGION, deployments=deployments)


@pytest.mark.parametrize("version", releases.SUPPORTED)
def test_the_patches_merge_cleanly_onto_what_each_release_installs(version: str, tmp_path: Path) -> None:
    tag = TAGS[version]
    patches = program_patches(version)
    assert set(patches) == {names.PIPELINE_DEPLOYMENT, names.UI_DEPLOYMENT}
    live = {}
    for name, patch in patches.items():
        result = merged(tmp_path, tag, name, patch)
        (container,) = result["spec"]["template"]["spec"]["containers"]
        both = [e["name"] for e in container["env"] if "value" in e and "valueFrom" in e]
        assert both == [], f"{version} {name}: {both} would be rejected by the API server"
        live[name] = {"env": container["env"], "image": container["image"]}
    env = {e["name"]: e for e in live[names.PIPELINE_DEPLOYMENT]["env"]}
    assert env["OBJECTSTORECONFIG_HOST"]["value"] == f"s3.{REGION}.amazonaws.com"  # not upstream's seaweedfs/minio host
    assert env["OBJECTSTORECONFIG_SECURE"]["value"] == "true" and env["OBJECTSTORECONFIG_PORT"]["value"] == "443"
    assert env["OBJECTSTORECONFIG_REGION"]["value"] == REGION
    assert env["OBJECTSTORECONFIG_BUCKETNAME"]["valueFrom"]["configMapKeyRef"] == {"name": "pipeline-install-config", "key": "bucketName"}
    bucket = run("dev", **_config(version)).exports["bucketName"]
    ui = {e["name"]: e for e in live[names.UI_DEPLOYMENT]["env"]}
    assert ui["ARGO_ARCHIVE_ARTIFACTORY"]["value"] == "s3" and ui["ARGO_ARCHIVE_BUCKETNAME"]["value"] == bucket
    assert ui["ARGO_ARCHIVE_LOGS"]["value"] == "true"  # upstream's, kept
    assert ui["AWS_S3_ENDPOINT"]["value"] == f"s3.{REGION}.amazonaws.com" and ui["AWS_REGION"]["value"] == REGION
    # The same rule `check`, the pack and `verify` run, on the merged objects with their images.
    assert check_deployments(_wiring(bucket, live), Expectations(kfp_version=version)) is None


def test_the_old_patch_is_rejected_on_215_and_later_and_the_rule_says_why(tmp_path: Path) -> None:
    """The defect this replaced: OBJECTSTORECONFIG_HOST from a ConfigMap, which 2.15+ install as a literal."""
    old = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "ml-pipeline-api-server",
                            "env": [
                                {
                                    "name": "OBJECTSTORECONFIG_HOST",
                                    "valueFrom": {"configMapKeyRef": {"name": "pipeline-install-config", "key": "minioServiceHost"}},
                                }
                            ],
                        }
                    ]
                }
            }
        }
    }
    for version in ("2.15", "2.16", "2.17"):
        result = merged(tmp_path, TAGS[version], names.PIPELINE_DEPLOYMENT, old)
        host = next(e for e in result["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "OBJECTSTORECONFIG_HOST")
        assert "value" in host and "valueFrom" in host  # what the API server refuses
        problem = check_deployments(
            _wiring("b", {names.PIPELINE_DEPLOYMENT: {"env": old["spec"]["template"]["spec"]["containers"][0]["env"]}}),
            Expectations(kfp_version=version),
        )
        assert problem and "OBJECTSTORECONFIG_HOST is set as valueFrom but KFP" in problem and "the merge would keep both" in problem


def test_the_release_table_is_what_the_upstream_files_say() -> None:
    forms = {"value": releases.VALUE, "valueFrom": releases.VALUE_FROM}
    for version, tag in TAGS.items():
        release = releases.release(version)
        for name, table in ((names.PIPELINE_DEPLOYMENT, release.api_server_env), (names.UI_DEPLOYMENT, release.ui_env)):
            installed = {var: forms[next(iter(form))] for var, form in INSTALLED[tag][name]["env"].items()}
            ours = {e["name"] for e in _our_env(version, name)}
            # Every variable we set that the release installs is in the table with the release's form.
            assert {var: installed[var] for var in ours if var in installed} == {var: table[var] for var in ours if var in table}
            assert {var for var in ours if var in installed} == {var for var in ours if var in table}


def _our_env(version: str, name: str) -> list[dict[str, Any]]:
    return program_patches(version)[name]["spec"]["template"]["spec"]["containers"][0]["env"]


def test_a_running_release_other_than_the_configured_one_fails() -> None:
    live = {names.PIPELINE_DEPLOYMENT: {"env": [], "image": "ghcr.io/kubeflow/kfp-api-server:2.16.1"}}
    problem = check_deployments(_wiring("b", live), Expectations(kfp_version="2.17"))
    assert problem == "ml-pipeline runs KFP 2.16 (ghcr.io/kubeflow/kfp-api-server:2.16.1), but kubeflowPipelinesVersion is 2.17"


def test_217_ownership_prefix_is_every_isolated_profiles_root() -> None:
    r = run("dev", region=REGION, profileNamespaces=["team-a", "team-b"])
    install = r.one("kubernetes:core/v1:ConfigMapPatch", "install-config").inputs["data"]
    prefix = install["ARTIFACT_NAMESPACE_KEY_PREFIX"]
    for namespace, root in r.exports["pipelineRoots"].items():
        if namespace != "kubeflow":
            assert root.startswith(f"s3://{r.exports['bucketName']}/{prefix}/{namespace}/")


def test_check_judges_the_patches_with_the_same_rule() -> None:
    snapshot = snapshot_from_resources(resources_of(run("dev", region=REGION)))
    (wiring,) = snapshot.wiring
    assert set(wiring.deployments) == {names.PIPELINE_DEPLOYMENT, names.UI_DEPLOYMENT}
    assert check_deployments(wiring, Expectations()) is None


def test_a_standalone_install_gives_its_runs_a_role() -> None:
    """No profiles: runs happen in the Kubeflow namespace as pipeline-runner, which gets the run role
    and its IRSA annotation (without one it would fall back to the node's role)."""
    r = run("dev", region=REGION)
    patch = r.one("kubernetes:core/v1:ServiceAccountPatch", "sa-kubeflow-pipeline-runner")
    assert patch.inputs["metadata"]["namespace"] == "kubeflow" and patch.inputs["metadata"]["name"] == "pipeline-runner"
    assert patch.inputs["metadata"]["annotations"][names.IRSA_ROLE_ANNOTATION] == r.exports["runnerRoleArn"]
    assert r.exports["runnerRoleArn"].startswith("arn:aws:iam::123456789012:role/kf-kubeflow-pipeline-runner-")
    with_profiles = run("dev", region=REGION, profileNamespaces=["team-a"])
    assert not with_profiles.exports.get("runnerRoleArn")  # multi-user: runs are in the profiles
