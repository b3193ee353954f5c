"""verify's Kubernetes half against tests/kube_api_stub.py: a local HTTP stub serving recorded
Kubernetes API responses (objects on 200, `Status` objects on errors). No cluster runs here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from automation.environments import environment
from automation.live.kube import check_kubernetes
from automation.stackfiles import expectations_for
from components import deployments, names, wiring
from components.settings import load_settings
from tests.conftest import config
from tests.kube_api_stub import kube_api, secret, status

SECRET = "mlpipeline-minio-artifact"
BUCKET = "kf-artifacts-dev-live"
PROFILES = ["team-a", "team-b", "team-c"]


def path(namespace: str, kind: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/{kind}/{name}"


def configmap(
    namespace: str, name: str, data: dict[str, str], annotations: dict | None = None, managers: list | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    metadata["managedFields"] = managers or [
        {
            "manager": names.FIELD_MANAGER,
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {f"f:{k}": {} for k in data}},
        }
    ]
    return {"kind": "ConfigMap", "apiVersion": "v1", "metadata": metadata, "data": data}


def service_account(namespace: str, name: str, role: str | None) -> dict[str, Any]:
    annotations = {names.IRSA_ROLE_ANNOTATION: role} if role else {}
    return {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": name, "namespace": namespace, "annotations": annotations}}


@pytest.fixture
def settings():
    return load_settings("dev", {**config(profileNamespaces=PROFILES), "kubernetes:context": "stub-ctx"})


def as_written(settings) -> dict[str, tuple[int, dict[str, Any]]]:
    """What `up` leaves in the cluster, recorded as the API server returns it."""
    routes: dict[str, tuple[int, dict[str, Any]]] = {}
    for ns in ["kubeflow", *PROFILES]:
        routes[path(ns, "configmaps", "kfp-launcher")] = (200, configmap(ns, "kfp-launcher", wiring.launcher_data(settings, BUCKET, ns)))
        annotations = {names.DEFAULT_REPOSITORY_ANNOTATION: names.ARTIFACT_REPOSITORY_KEY}
        routes[path(ns, "configmaps", "artifact-repositories")] = (
            200,
            configmap(ns, "artifact-repositories", wiring.repositories_data(settings, BUCKET, ns), annotations),
        )
        routes[path(ns, "secrets", SECRET)] = (200, secret(ns, SECRET, ["accesskey", "secretkey", "bucketName"]))
        account = "ml-pipeline" if ns == "kubeflow" else "default-editor"
        routes[path(ns, "serviceaccounts", account)] = (200, service_account(ns, account, f"arn:aws:iam::123456789012:role/kf-{ns}"))
    routes[path("kubeflow", "serviceaccounts", "ml-pipeline-ui")] = (
        200,
        service_account("kubeflow", "ml-pipeline-ui", "arn:aws:iam::123456789012:role/ui"),
    )
    install = deployments.install_config_data(settings, BUCKET)
    routes[path("kubeflow", "configmaps", "pipeline-install-config")] = (200, configmap("kubeflow", "pipeline-install-config", install))
    for name, env in (
        ("ml-pipeline", deployments.api_server_env(settings)),
        ("ml-pipeline-ui", deployments.ui_env(settings, BUCKET, wiring.ARGO_KEY_FORMAT)),
    ):
        image = f"ghcr.io/kubeflow/{'kfp-api-server' if name == 'ml-pipeline' else 'kfp-frontend'}:2.17.0"
        routes[f"/apis/apps/v1/namespaces/kubeflow/deployments/{name}"] = (200, deployment(name, image, [e.as_dict() for e in env]))
    return routes


def deployment(name: str, image: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    """A Deployment as the API server returns it after the merge (only the fields verify reads)."""
    labels = {"app": name}
    spec = {"containers": [{"name": name, "image": image, "env": env}]}
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": "kubeflow"},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": spec}},
    }


def verify(settings, routes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context: str = "stub-ctx"):
    kubeconfig = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with kube_api(routes, kubeconfig, context) as seen:
        report = check_kubernetes(settings, BUCKET, expectations_for(settings, environment("dev")))
    return report, seen


def test_what_up_writes_passes_and_every_namespace_is_read(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, seen = verify(settings, as_written(settings), tmp_path, monkeypatch)
    assert report.problems == []
    assert {f.control: f.verdict for f in report.findings} == {"KF-K8S-01": "pass", "KF-K8S-02": "pass", "KF-K8S-03": "pass"}
    for ns in ["kubeflow", *PROFILES]:
        assert path(ns, "configmaps", "kfp-launcher") in seen and path(ns, "secrets", SECRET) in seen
    assert len([n for n in report.notes if "has its keys" in n]) == 4


def test_a_reapplied_launcher_is_named_with_its_other_manager(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routes = as_written(settings)
    shared = {**wiring.launcher_data(settings, BUCKET, "team-b"), "defaultPipelineRoot": f"s3://{BUCKET}/v2/artifacts"}
    kubectl = {"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsV1": {"f:data": {"f:defaultPipelineRoot": {}}}}
    routes[path("team-b", "configmaps", "kfp-launcher")] = (200, configmap("team-b", "kfp-launcher", shared, managers=[kubectl]))
    report, _ = verify(settings, routes, tmp_path, monkeypatch)
    assert report.problems == ["kubernetes: ConfigMap team-b/kfp-launcher: defaultPipelineRoot differ from what the stack wants"]
    failed = [f for f in report.findings if f.verdict == "fail"]
    assert [f.control for f in failed] == ["KF-K8S-02"] and "team-b" in failed[0].detail
    assert (
        "kubernetes: ConfigMap team-b/kfp-launcher: fields of this stack also owned by kubectl-client-side-apply (re-applied elsewhere?)"
        in report.notes
    )


def test_each_api_error_is_one_line(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routes = as_written(settings)
    routes[path("team-a", "secrets", SECRET)] = (200, secret("team-a", SECRET, ["accesskey"]))
    routes[path("team-b", "secrets", SECRET)] = (
        403,
        status(403, "Forbidden", f'secrets "{SECRET}" is forbidden: User "ci" cannot get resource'),
    )
    del routes[path("team-c", "secrets", SECRET)]  # the API server's 404
    del routes[path("team-c", "serviceaccounts", "default-editor")]
    report, _ = verify(settings, routes, tmp_path, monkeypatch)
    assert report.problems == [
        f"kubernetes: Secret team-a/{SECRET} lacks keys secretkey, bucketName",
        f"kubernetes: Secret team-b/{SECRET}: 403 Forbidden",
        f"kubernetes: Secret team-c/{SECRET}: 404 Not Found",
        "kubernetes: ServiceAccount team-c/default-editor: 404 Not Found",
    ]


def test_unknown_context_and_unreachable_server_are_one_line(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, _ = verify(settings, {}, tmp_path, monkeypatch, context="another-ctx")
    assert report.problems == ["kubernetes: context 'stub-ctx' (kubernetes:context) is not in the kubeconfig"]
    kubeconfig = tmp_path / "kubeconfig"
    with kube_api({}, kubeconfig, "stub-ctx"):
        pass  # the server is gone: connection refused
    report = check_kubernetes(settings, BUCKET, expectations_for(settings, environment("dev")))
    assert report.problems == ["kubernetes: ConfigMap kubeflow/kfp-launcher: unreachable (NewConnectionError)"]


def test_no_kubeconfig_is_a_note_not_a_failure(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    report = check_kubernetes(settings, BUCKET, expectations_for(settings, environment("dev")))
    assert report.problems == [] and "skipped (no kubeconfig)" in report.notes[0]


def test_a_live_deployment_of_another_release_or_with_both_forms_fails_kf_k8s_03(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = as_written(settings)
    api = "/apis/apps/v1/namespaces/kubeflow/deployments/ml-pipeline"
    env = [e.as_dict() for e in deployments.api_server_env(settings)]
    routes[api] = (200, deployment("ml-pipeline", "ghcr.io/kubeflow/kfp-api-server:2.16.1", env))
    report, seen = verify(settings, routes, tmp_path, monkeypatch)
    assert api in seen
    failed = {f.control: f.detail.split("; fix: ")[0] for f in report.findings if f.verdict == "fail"}
    assert failed == {
        "KF-K8S-03": "ml-pipeline runs KFP 2.16 (ghcr.io/kubeflow/kfp-api-server:2.16.1), but kubeflowPipelinesVersion is 2.17"
    }
    host = {"name": "OBJECTSTORECONFIG_HOST", "value": "seaweedfs.kubeflow"}
    host["valueFrom"] = {"configMapKeyRef": {"name": "pipeline-install-config", "key": "minioServiceHost"}}
    both = [host if e["name"] == "OBJECTSTORECONFIG_HOST" else e for e in env]
    routes[api] = (200, deployment("ml-pipeline", "ghcr.io/kubeflow/kfp-api-server:2.17.0", both))
    report, _ = verify(settings, routes, tmp_path, monkeypatch)
    failed = {f.control: f.detail.split("; fix: ")[0] for f in report.findings if f.verdict == "fail"}
    assert failed == {
        "KF-K8S-03": "ml-pipeline: OBJECTSTORECONFIG_HOST has both value and valueFrom: the API server rejects the Deployment"
    }
