"""`manifests`: the Kubernetes objects the program applies, for GitOps; built with `kubectl kustomize`."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automation.errors import UsageError
from automation.offline.manifests import write_manifests
from tests.conftest import NS, project_copy

BUCKET = "kf-artifacts-prod-20261130120000000000000001"
OUTPUTS = {
    "bucketName": BUCKET,
    "bucketArn": f"arn:aws:s3:::{BUCKET}",
    "kmsKeyArn": "arn:aws:kms:eu-west-1:444455556666:key/0f0e0d0c-1234-4abc-9def-001122334455",
    "pipelineRoleArn": "arn:aws:iam::444455556666:role/kf-kubeflow-ml-pipeline-20261130",
    "uiRoleArn": "arn:aws:iam::444455556666:role/kf-kubeflow-ml-pipeline-ui-20261130",
    "profileRoleArns": {
        ns: f"arn:aws:iam::444455556666:role/kf-{ns}-default-editor-20261130" for ns in ("team-vision", "team-nlp", "team-forecasting")
    },
}


def documents(out: Path) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted(out.glob("*.yaml")) if path.name != "kustomization.yaml"]


def test_prod_manifests_carry_the_deployed_names(tmp_path: Path) -> None:
    out = tmp_path / "prod"
    written = write_manifests("prod", out, OUTPUTS, warn=lambda _: None)
    objects = documents(out)
    assert len(written) == len(objects) + 1
    text = json.dumps(objects)
    assert BUCKET in text and "mock" not in text and "123456789012" not in text
    sa = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects if o["kind"] == "ServiceAccount"}
    assert (
        sa[("team-nlp", "default-editor")]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        == OUTPUTS["profileRoleArns"]["team-nlp"]
    )
    launcher = next(
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"] == {**o["metadata"], "name": "kfp-launcher", "namespace": "team-nlp"}
    )
    assert launcher["data"]["defaultPipelineRoot"] == f"s3://{BUCKET}/private-artifacts/team-nlp/v2/artifacts"
    for o in objects:
        annotations = o["metadata"].get("annotations", {})
        assert not [k for k in annotations if k.startswith("pulumi.com/")]
        if o["metadata"]["name"] != "artifact-repositories" or o["metadata"]["namespace"] != "kubeflow":
            assert annotations["argocd.argoproj.io/sync-options"] == "ServerSideApply=true"
    secrets = [o for o in objects if o["kind"] == "Secret"]  # IRSA: no credential inside, so written
    assert secrets and all(o["data"]["accesskey"] == "" for o in secrets)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on this machine")
def test_kubectl_kustomize_builds_the_directory(tmp_path: Path) -> None:
    out = tmp_path / "prod"
    write_manifests("prod", out, OUTPUTS, warn=lambda _: None)
    built = subprocess.run(["kubectl", "kustomize", str(out)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(built.stdout)]
    assert kinds.count("ServiceAccount") == 5 and kinds.count("Deployment") == 2 and kinds.count("Secret") == 4


def test_existing_non_empty_directory_needs_force_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "prod"
    out.mkdir()
    (out / "mine.yaml").write_text("keep: me\n")
    with pytest.raises(UsageError, match="--out: .* exists and is not an empty directory; allowed: .* or --force"):
        write_manifests("prod", out, OUTPUTS, warn=lambda _: None)
    assert [p.name for p in out.iterdir()] == ["mine.yaml"]
    write_manifests("prod", out, OUTPUTS, force=True, warn=lambda _: None)
    assert not (out / "mine.yaml").exists() and (out / "kustomization.yaml").exists()


def _static_copy(tmp_path: Path, supplied: bool) -> Path:
    copy = project_copy(tmp_path)
    stack = copy / "Pulumi.dev.yaml"
    text = stack.read_text().replace("encryption: sse-s3", "encryption: sse-s3\n  kubeflow-artifact-store:credentials: static")
    text = text.replace("  kubeflow-artifact-store:profileNamespaces:\n    - kubeflow-user-example-com\n", "")
    if supplied:
        text += "  kubeflow-artifact-store:staticAccessKeyId:\n    secure: v1:abc\n"
        text += "  kubeflow-artifact-store:staticSecretAccessKey:\n    secure: v1:def\n"
    stack.write_text(text)
    (copy / "outputs.json").write_text(json.dumps({"bucketName": "kf-dev-b", "bucketArn": "arn:aws:s3:::kf-dev-b"}))
    return copy


def _cli(copy: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", *args], cwd=copy, capture_output=True, text=True, timeout=120)


def test_static_secrets_left_out_unless_asked_and_then_said_on_stderr(tmp_path: Path) -> None:
    copy = _static_copy(tmp_path, supplied=False)
    result = _cli(copy, "manifests", "--env", "dev", "--outputs", "outputs.json", "--out", "out")
    assert result.returncode == 0, result.stderr
    assert "left out Secret kubeflow/mlpipeline-minio-artifact (credentials)" in result.stderr
    assert not list((copy / "out").glob("secret-*.yaml"))
    refused = _cli(copy, "manifests", "--env", "dev", "--outputs", "outputs.json", "--out", "out2", "--include-secrets")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: --include-secrets: the stack's access key is created by Pulumi")
    assert not (copy / "out2").exists()


def test_include_secrets_writes_supplied_keys_and_warns(tmp_path: Path) -> None:
    """The keys come decrypted from the stack's config (the CLI's `config --show-secrets`; a double here)."""
    copy = _static_copy(tmp_path, supplied=True)
    warnings: list[str] = []
    decrypted = {f"{NS}:staticAccessKeyId": "AKIAIOSFODNN7EXAMPLE", f"{NS}:staticSecretAccessKey": "s3cr3t"}
    outputs = {"bucketName": "b", "bucketArn": "arn:aws:s3:::b"}
    write_manifests(
        "dev", copy / "out", outputs, include_secrets=True, secret_config=lambda env: decrypted, warn=warnings.append, root=copy
    )
    secret = yaml.safe_load((copy / "out" / "secret-kubeflow-mlpipeline-minio-artifact.yaml").read_text())
    assert base64.b64decode(secret["data"]["secretkey"]).decode() == "s3cr3t"
    assert any("written in plaintext" in w for w in warnings)


def test_missing_outputs_is_exit_2_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--outputs: no bucketName, bucketArn"):
        write_manifests("prod", tmp_path / "x", {}, warn=lambda _: None)
    assert not (tmp_path / "x").exists()


def test_a_missing_role_is_refused_never_replaced_by_a_mock_arn(tmp_path: Path) -> None:
    """Fail closed: an outputs file without a role an annotation needs is exit 2 naming it."""
    without = {k: v for k, v in OUTPUTS.items() if k != "uiRoleArn"}
    with pytest.raises(UsageError, match=r"--outputs: no uiRoleArn \(the objects carry the deployed names\)"):
        write_manifests("prod", tmp_path / "x", without, warn=lambda _: None)
    one_profile_less = {**OUTPUTS, "profileRoleArns": {k: v for k, v in OUTPUTS["profileRoleArns"].items() if k != "team-nlp"}}
    with pytest.raises(UsageError, match=r"--outputs: no profileRoleArns.team-nlp "):
        write_manifests("prod", tmp_path / "y", one_profile_less, warn=lambda _: None)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
